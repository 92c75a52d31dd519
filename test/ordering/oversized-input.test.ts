import { describe, expect, it } from 'vitest';
import { HrEventSchema, describeZodError } from '../../shared/contracts/messages.js';
import { tenantWith, user } from '../integration/sandbox-fixtures.js';
import { numbersFile, sandboxRun, stateDir, writeEvents, writeJson } from './sandbox-cli.js';
import { useTempDir } from '../helpers/temp-dir.js';

const U1 = '00000000-0000-4000-8000-0000000000c5';
const carla = { employeeId: 'E1', userPrincipalName: 'carla@contoso.example', site: 'AMS', departmentId: 'DEPT001' };

const tmp = useTempDir('dialtone-oversized-');

describe('oversized input is refused at the edge, on any storage', () => {
  it('dead-letters an HR event with a 40,000-character attribute as InvalidMessage naming the field, and reserves no number', async () => {
    const tenant = await writeJson(tmp('tenant.json'), tenantWith([user(U1, 'carla@contoso.example', 'E1')]));
    const events = await writeEvents(tmp('hr.ndjson'), [
      { eventId: 'j1', type: 'joiner', occurredAt: '2026-11-02T08:00:00Z', person: { ...carla, notes: 'x'.repeat(40_000) } },
    ]);
    const report = await sandboxRun(stateDir(tmp()), tenant, events, ['--numbers', await numbersFile(tmp())]);
    expect(report.deadLetters).toHaveLength(1);
    expect(report.deadLetters[0]).toMatchObject({ queue: 'hr-events', reason: 'InvalidMessage' });
    expect((report.deadLetters[0] as unknown as { description: string }).description).toContain('person.notes');
    expect(report.numbers.filter((n) => n.userId === U1)).toEqual([]);
    expect(report.users.find((u) => u.id === U1)?.teams.lineUri).toBeNull();
  }, 180_000);

  it('names the attribute and the limit, and refuses a person too big as a whole', () => {
    const long = HrEventSchema.safeParse({ eventId: 'e', type: 'joiner', occurredAt: '2026-11-02T08:00:00Z', person: { employeeId: 'E1', jobTitle: 'y'.repeat(1_025) } });
    expect(long.success).toBe(false);
    if (!long.success) expect(describeZodError(long.error)).toMatch(/^person\.jobTitle: .*1024/);
    const many = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`a${i}`, 'z'.repeat(1_000)]));
    const big = HrEventSchema.safeParse({ eventId: 'e', type: 'joiner', occurredAt: '2026-11-02T08:00:00Z', person: { employeeId: 'E1', ...many } });
    expect(big.success).toBe(false);
    if (!big.success) expect(describeZodError(big.error)).toMatch(/^person: is \d+ characters as JSON; at most 16384/);
  });
});
