import { describe, expect, it } from 'vitest';
import { Sandbox } from '../../sandbox/host/sandbox.js';
import { hrEvent, inputs, tenantWith, user } from './sandbox-fixtures.js';

/**
 * The sandbox moves its clock only when nothing runs in real time. A worker that only waits — a
 * backoff, a lock renewal, a tenant session slot the other worker holds, a hung cmdlet's deadline —
 * must not count as running: the clock would stand still with every other session's cmdlet waiting
 * on it, until real-time deadlines broke those sessions and each broken one cost a new process
 * (the `--people 500` chaos run simulated 0.2 hours in 50 minutes that way). These tests count
 * what that costs — sessions broken and processes started — never how long anything took.
 */
function crowd(people: number) {
  const users = Array.from({ length: people }, (_, i) => user(`00000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`, `w${i + 1}@contoso.example`, `W${i + 1}`));
  // Everyone joins in the same minute: more people want a Teams session than the tenant's limit allows.
  const events = users.map((u, i) =>
    hrEvent(`w${i + 1}`, 'joiner', '2026-11-02T08:00:00Z', { employeeId: u.employeeId, userPrincipalName: u.userPrincipalName, site: 'AMS', departmentId: 'DEPT001' }),
  );
  return { tenant: tenantWith(users), events, users };
}

async function run(people: number, options: { hangs?: number; cmdletTimeoutMs?: number } = {}) {
  const { tenant, events, users } = crowd(people);
  const sandbox = await Sandbox.start(inputs({ tenant, eventLines: events }), {
    storage: 'memory',
    seed: 5,
    workerCount: 2,
    tenantSessionLimit: 4,
    // A deadline only just above the slowest simulated cmdlet (2.5 s): measured in real time, it
    // expires whenever the sandbox holds its clock longer than that; on the sandbox clock, never.
    workerTuning: { cmdletTimeoutMs: options.cmdletTimeoutMs ?? 3_000, connectTimeoutMs: 11_000, shutdownGraceMs: 0 },
    ...(options.hangs ? { teams: { seed: 1, faults: [{ kind: 'hang' as const, cmdlet: 'Get-CsOnlineUser', times: options.hangs }] } } : {}),
  });
  try {
    await sandbox.enqueueEvents(events);
    await sandbox.runUntilQuiet();
    const report = await sandbox.report();
    const lines = users.map((u) => report.users.find((r) => r.id === u.id)?.teams.lineUri);
    const broken = sandbox.logger.lines.filter((l) => l.includes('"pwsh session broken"'));
    const stats = sandbox.workerStats();
    return {
      provisioned: lines.filter((l) => typeof l === 'string').length,
      distinctLines: new Set(lines).size,
      deadLetters: report.deadLetters.length,
      broken: broken.length,
      timedOut: broken.filter((l) => l.includes('timed out')).length,
      processes: stats.reduce((n, s) => n + s.pool.created, 0),
      hungLeft: sandbox.teams?.hungProcesses() ?? -1,
    };
  } finally {
    await sandbox.stop();
  }
}

describe('the sandbox clock while the workers only wait', () => {
  it('starts no more Teams sessions for 3N people than for N when two workers share four session slots (nothing times out)', async () => {
    const small = await run(6);
    const large = await run(18);
    for (const [r, people] of [[small, 6], [large, 18]] as const) {
      expect(r).toMatchObject({ provisioned: people, distinctLines: people, deadLetters: 0, broken: 0, timedOut: 0 });
      // Each session lives the whole run: at most two workers times four sessions were ever started.
      expect(r.processes).toBeLessThanOrEqual(8);
    }
  }, 300_000);

  it('lets a hung cmdlet wait for the worker deadline on the sandbox clock, and breaks only the hung session', async () => {
    // Production's 120 s deadline: the hung cmdlet holds its session for 120 s of sandbox time.
    const r = await run(8, { hangs: 1, cmdletTimeoutMs: 120_000 });
    expect(r).toMatchObject({ provisioned: 8, distinctLines: 8, deadLetters: 0, broken: 1, timedOut: 1, hungLeft: 0 });
    expect(r.processes).toBeLessThanOrEqual(9);
  }, 300_000);
});
