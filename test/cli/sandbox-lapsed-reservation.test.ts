import { writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../cli/program.js';
import { ANNA, BRAM, hrEvent, tenantWith, user } from '../integration/sandbox-fixtures.js';
import { useTempDir } from '../helpers/temp-dir.js';

const tmp = useTempDir('dialtone-lapsed-');

async function dialtone(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  let code = 0;
  const io = { out: (s: string) => out.push(s), err: (s: string) => err.push(s), exit: (c: number) => (code = c) };
  await buildProgram(io).parseAsync(['node', 'dialtone', ...args]);
  return { out: out.join('\n'), err: err.join('\n'), code };
}

interface Report {
  users: { id: string; teams: { lineUri: string | null } }[];
  numbers: { number: string; state: string; userId: string | null }[];
  deadLetters: unknown[];
}

async function scenario(poolTo: string): Promise<Report> {
  const tenant = tenantWith([user(ANNA, 'anna@contoso.example', 'E1001'), user(BRAM, 'bram@contoso.example', 'E1002')]);
  await writeFile(tmp('tenant.json'), JSON.stringify(tenant));
  await writeFile(tmp('anna.ndjson'), hrEvent('a1', 'joiner', '2026-11-02T08:00:00Z', { employeeId: 'E1001', departmentId: 'DEPT001', site: 'AMS' }));
  // Two days later: Anna's reservation (24 h) has lapsed, her command still waits for a worker.
  await writeFile(tmp('bram.ndjson'), hrEvent('b1', 'joiner', '2026-11-04T08:00:00Z', { employeeId: 'E1002', departmentId: 'DEPT001', site: 'AMS' }));
  await writeFile(tmp('none.ndjson'), '');
  await writeFile(tmp('pools.json'), JSON.stringify({ pools: [{ id: 'ams', ranges: [{ from: '+31201234000', to: poolTo }], quarantineDays: 90 }] }));
  const state = tmp('state');
  const run = (events: string, ...extra: string[]) =>
    dialtone('sandbox', 'run', '--tenant', tmp('tenant.json'), '--events', tmp(events), '--numbers', tmp('pools.json'), '--storage', 'memory', '--state', state, '--json', ...extra);
  await run('anna.ndjson', '--no-worker');
  await run('bram.ndjson', '--no-worker');
  return JSON.parse((await run('none.ndjson')).out) as Report;
}

describe('a reservation that lapses while its command waits for the worker', () => {
  it('is not the next number handed out: a later joiner gets a free one and nobody’s number is blocked', async () => {
    const report = await scenario('+31201234009');
    expect(report.deadLetters).toEqual([]);
    expect(report.numbers.filter((n) => n.state === 'blocked')).toEqual([]);
    const lineOf = (id: string) => report.users.find((u) => u.id === id)?.teams.lineUri;
    expect(lineOf(ANNA)).toBe('tel:+31201234000');
    expect(lineOf(BRAM)).toBe('tel:+31201234001');
    const assigned = report.numbers.filter((n) => n.state === 'assigned').map((n) => `${n.number} ${n.userId}`);
    expect(assigned).toEqual([`+31201234000 ${ANNA}`, `+31201234001 ${BRAM}`]);
  }, 180_000);

  it('when it had to be reused, Dialtone adopts what Teams says instead of blocking its own number', async () => {
    // A pool of one: Bram can only get Anna's lapsed reservation. Whichever command reaches Teams
    // first wins the number; the other person's conflict names one of Dialtone's own people.
    const report = await scenario('+31201234000');
    const holder = report.users.find((u) => u.teams.lineUri === 'tel:+31201234000');
    expect(holder).toBeDefined();
    expect(report.numbers).toEqual([{ number: '+31201234000', pool: 'ams', state: 'assigned', userId: holder?.id }]);
    expect(report.users.filter((u) => u.teams.lineUri !== null)).toHaveLength(1);
    const dead = report.deadLetters as { reason: string; description: string }[];
    expect(dead.map((d) => d.reason)).toEqual(['PoolExhausted']);
    // The counts are the pool when the loser was planned: the winner's number is reserved or, once
    // its command is through, assigned (both happen under the concurrent host and the bulk path).
    expect(dead[0]?.description).toMatch(/pool 'ams' has no free number \(1 numbers: 0 free, (0 reserved, 1 assigned|1 reserved, 0 assigned)/);
  }, 180_000);
});
