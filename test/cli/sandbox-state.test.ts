import { writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { dialtone as run } from '../helpers/cli.js';
import { sampleTenant } from '../integration/sandbox-fixtures.js';
import { useTempDir } from '../helpers/temp-dir.js';

const tmp = useTempDir('dialtone-state-');

const dialtone = (...args: string[]) => run(args);

describe('a persisted sandbox, operated like production', () => {
  it('dead-letters PoolExhausted, takes a new range and a replay from the CLI, and provisions on the next run', async () => {
    const tenant = sampleTenant();
    const bram = tenant.users[1]!;
    bram.servicePlans = ['TEAMS1', 'MCOEV'];
    delete bram.licensedAfterMs;
    await writeFile(tmp('tenant.json'), JSON.stringify(tenant));
    await writeFile(
      tmp('events.ndjson'),
      [
        { eventId: 'x1', type: 'joiner', occurredAt: '2026-11-02T08:00:00Z', person: { employeeId: 'E1001', departmentId: 'DEPT001', site: 'AMS' } },
        { eventId: 'x2', type: 'joiner', occurredAt: '2026-11-02T08:05:00Z', person: { employeeId: 'E1002', departmentId: 'DEPT002', site: 'AMS' } },
      ]
        .map((e) => JSON.stringify(e))
        .join('\n'),
    );
    await writeFile(tmp('none.ndjson'), '');
    const pools = (to: string) => JSON.stringify({ pools: [{ id: 'ams', ranges: [{ from: '+31201234000', to }], quarantineDays: 90 }] });
    await writeFile(tmp('pools.json'), pools('+31201234000'));
    await writeFile(tmp('more.json'), pools('+31201234009'));
    const state = tmp('state');
    const tenantFile = tmp('tenant.json');

    const first = await dialtone('sandbox', 'run', '--tenant', tenantFile, '--events', tmp('events.ndjson'), '--numbers', tmp('pools.json'), '--storage', 'memory', '--state', state, '--json');
    expect(JSON.parse(first.out).deadLetters.map((d: { reason: string }) => d.reason)).toEqual(['PoolExhausted']);

    const listed = await dialtone('dlq', 'list', '--sandbox', state, '--json');
    expect(JSON.parse(listed.out).map((d: { messageId: string }) => d.messageId)).toEqual(['uc-x2']);

    await dialtone('numbers', 'import', tmp('more.json'), '--sandbox', state);
    const replay = await dialtone('dlq', 'replay', '--reason', 'PoolExhausted', '--sandbox', state);
    expect(replay.out).toMatch(/^replayed\s+user-changes\s+uc-x2\s+as uc-x2#replay1$/m);

    const second = await dialtone('sandbox', 'run', '--tenant', tenantFile, '--events', tmp('none.ndjson'), '--state', state, '--json');
    const report = JSON.parse(second.out);
    expect(report.deadLetters).toEqual([]);
    expect(report.users.map((u: { teams: { lineUri: string } }) => u.teams.lineUri)).toEqual(['tel:+31201234000', 'tel:+31201234001']);
    expect(report.metrics.eventsIn).toBe(2);
  }, 180_000);

  it('tells the operator to run the sandbox first when the directory holds no state', async () => {
    const { err, code } = await dialtone('dlq', 'list', '--sandbox', tmp('empty'));
    expect(code).toBe(2);
    expect(err).toBe(`dialtone: ${tmp('empty')} holds no sandbox state: run dialtone sandbox run --state ${tmp('empty')} first`);
  });
});
