import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dialtone as run } from '../helpers/cli.js';
import { sampleTenant } from '../integration/sandbox-fixtures.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dialtone-state-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const dialtone = (...args: string[]) => run(args);

describe('a persisted sandbox, operated like production', () => {
  it('dead-letters PoolExhausted, takes a new range and a replay from the CLI, and provisions on the next run', async () => {
    const tenant = sampleTenant();
    const bram = tenant.users[1]!;
    bram.servicePlans = ['TEAMS1', 'MCOEV'];
    delete bram.licensedAfterMs;
    await writeFile(join(dir, 'tenant.json'), JSON.stringify(tenant));
    await writeFile(
      join(dir, 'events.ndjson'),
      [
        { eventId: 'x1', type: 'joiner', occurredAt: '2026-11-02T08:00:00Z', person: { employeeId: 'E1001', departmentId: 'DEPT001', site: 'AMS' } },
        { eventId: 'x2', type: 'joiner', occurredAt: '2026-11-02T08:05:00Z', person: { employeeId: 'E1002', departmentId: 'DEPT002', site: 'AMS' } },
      ]
        .map((e) => JSON.stringify(e))
        .join('\n'),
    );
    await writeFile(join(dir, 'none.ndjson'), '');
    const pools = (to: string) => JSON.stringify({ pools: [{ id: 'ams', ranges: [{ from: '+31201234000', to }], quarantineDays: 90 }] });
    await writeFile(join(dir, 'pools.json'), pools('+31201234000'));
    await writeFile(join(dir, 'more.json'), pools('+31201234009'));
    const state = join(dir, 'state');
    const tenantFile = join(dir, 'tenant.json');

    const first = await dialtone('sandbox', 'run', '--tenant', tenantFile, '--events', join(dir, 'events.ndjson'), '--numbers', join(dir, 'pools.json'), '--storage', 'memory', '--state', state, '--json');
    expect(JSON.parse(first.out).deadLetters.map((d: { reason: string }) => d.reason)).toEqual(['PoolExhausted']);

    const listed = await dialtone('dlq', 'list', '--sandbox', state, '--json');
    expect(JSON.parse(listed.out).map((d: { messageId: string }) => d.messageId)).toEqual(['uc-x2']);

    await dialtone('numbers', 'import', join(dir, 'more.json'), '--sandbox', state);
    const replay = await dialtone('dlq', 'replay', '--reason', 'PoolExhausted', '--sandbox', state);
    expect(replay.out).toMatch(/^replayed\s+user-changes\s+uc-x2\s+as uc-x2#replay1$/m);

    const second = await dialtone('sandbox', 'run', '--tenant', tenantFile, '--events', join(dir, 'none.ndjson'), '--state', state, '--json');
    const report = JSON.parse(second.out);
    expect(report.deadLetters).toEqual([]);
    expect(report.users.map((u: { teams: { lineUri: string } }) => u.teams.lineUri)).toEqual(['tel:+31201234000', 'tel:+31201234001']);
    expect(report.metrics.eventsIn).toBe(2);
  }, 180_000);

  it('tells the operator to run the sandbox first when the directory holds no state', async () => {
    const { err, code } = await dialtone('dlq', 'list', '--sandbox', join(dir, 'empty'));
    expect(code).toBe(2);
    expect(err).toBe(`dialtone: ${join(dir, 'empty')} holds no sandbox state: run dialtone sandbox run --state ${join(dir, 'empty')} first`);
  });
});
