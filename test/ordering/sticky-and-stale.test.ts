import { describe, expect, it } from 'vitest';
import { tenantWith, user } from '../integration/sandbox-fixtures.js';
import { numbersFile, sandboxRun, stateDir, writeEvents, writeJson } from './sandbox-cli.js';
import { useTempDir } from '../helpers/temp-dir.js';

const U1 = '00000000-0000-4000-8000-0000000000c1';
const DAY = 24 * 3_600_000;
const carla = (extra: Record<string, unknown> = {}) => ({ employeeId: 'E1', userPrincipalName: 'carla@contoso.example', ...extra });

const tmp = useTempDir('dialtone-ordering-');

describe('a person follows the newest truth about them (sandbox --state, like a user)', () => {
  it('keeps a leaver without voice when a later Entra change notifies while the account is still enabled', async () => {
    const state = stateDir(tmp());
    const tenant = await writeJson(tmp('tenant.json'), tenantWith([user(U1, 'carla@contoso.example', 'E1')]));
    const events = await writeEvents(tmp('hr.ndjson'), [
      { eventId: 'j1', type: 'joiner', occurredAt: '2026-11-02T08:00:00Z', person: carla({ site: 'AMS', departmentId: 'DEPT001' }) },
      // HR sends the whole person with every event, a leaver too.
      { eventId: 'l1', type: 'leaver', occurredAt: '2026-11-09T17:00:00Z', person: carla({ site: 'AMS', departmentId: 'DEPT001' }) },
    ]);
    const first = await sandboxRun(state, tenant, events, ['--numbers', await numbersFile(tmp())]);
    expect(first.users.find((u) => u.id === U1)?.teams).toMatchObject({ enterpriseVoiceEnabled: false, lineUri: null });

    // HR dates lead account disablement: the account is still enabled and Entra notifies a job title change.
    const later = await writeJson(
      tmp('tenant-later.json'),
      tenantWith([user(U1, 'carla@contoso.example', 'E1')], {
        directoryChanges: [{ atMs: 10 * DAY, userId: U1, set: { jobTitle: 'Account Director' }, notify: true }],
      }),
    );
    const none = await writeEvents(tmp('none.ndjson'), []);
    const second = await sandboxRun(state, later, none);
    expect(second.users.find((u) => u.id === U1)?.teams).toMatchObject({ enterpriseVoiceEnabled: false, lineUri: null });
    expect(second.numbers.find((n) => n.number === '+31201234000')).toMatchObject({ state: 'quarantined', userId: U1 });
    expect(second.deadLetters).toEqual([]);
    const entries = second.history.find((h) => h.userId === U1)?.entries ?? [];
    expect(entries.at(-1)).toMatchObject({ stage: 'plan', outcome: 'skipped' });
    expect(entries.at(-1)?.detail).toContain('left (HR leaver l1');
  }, 180_000);

  it('does not let a stale HR mover replace the stored person, so a later Graph change keeps the newer site', async () => {
    const state = stateDir(tmp());
    const tenant = await writeJson(tmp('tenant.json'), tenantWith([user(U1, 'carla@contoso.example', 'E1')]));
    const events = await writeEvents(tmp('hr.ndjson'), [
      { eventId: 'j1', type: 'joiner', occurredAt: '2026-11-02T08:00:00Z', person: carla({ site: 'AMS', departmentId: 'DEPT001' }) },
      { eventId: 'm-rtm', type: 'mover', occurredAt: '2026-11-05T08:00:00Z', person: carla({ site: 'RTM', departmentId: 'DEPT001' }) },
    ]);
    const first = await sandboxRun(state, tenant, events, ['--numbers', await numbersFile(tmp())]);
    expect(first.users.find((u) => u.id === U1)?.teams.lineUri).toBe('tel:+31101234500');

    // The Amsterdam mover happened before the Rotterdam one but arrives late; then Entra notifies a change.
    const late = await writeEvents(tmp('late.ndjson'), [
      { eventId: 'm-ams', type: 'mover', occurredAt: '2026-11-04T08:00:00Z', person: carla({ site: 'AMS', departmentId: 'DEPT001' }) },
    ]);
    const later = await writeJson(
      tmp('tenant-later.json'),
      tenantWith([user(U1, 'carla@contoso.example', 'E1')], {
        directoryChanges: [{ atMs: 10 * DAY, userId: U1, set: { jobTitle: 'Account Director' }, notify: true }],
      }),
    );
    const second = await sandboxRun(state, later, late);
    expect(second.users.find((u) => u.id === U1)?.teams.lineUri).toBe('tel:+31101234500');
    expect(second.numbers.find((n) => n.number === '+31101234500')).toMatchObject({ state: 'assigned', userId: U1 });
    const entries = second.history.find((h) => h.userId === U1)?.entries ?? [];
    expect(entries.some((e) => e.eventId === 'm-ams' && e.outcome === 'stale')).toBe(true);
  }, 180_000);
});
