import { describe, expect, it } from 'vitest';
import { Sandbox } from '../../sandbox/host/sandbox.js';
import { hrEvent, inputs, tenantWith, user } from './sandbox-fixtures.js';

const MINUTE = 60_000;

function people(n: number) {
  const users = Array.from({ length: n }, (_, i) => user(`00000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`, `p${i + 1}@contoso.example`, `P${i + 1}`));
  const events = users.map((u, i) =>
    hrEvent(`p${i + 1}`, 'joiner', '2026-11-02T08:00:00Z', { employeeId: u.employeeId, userPrincipalName: u.userPrincipalName, site: 'AMS', departmentId: 'DEPT001' }),
  );
  return { tenant: tenantWith(users), events };
}

/**
 * The pool's idle timeout and session age are the worker's waits too: in the sandbox they run on
 * its clock (WorkerDeps.poolTimers), so production's 10 minutes cost 10 sandbox minutes, not 10
 * real ones.
 */
describe('the worker pool on the sandbox clock', () => {
  it("reaps a session idle for production's 10 minutes of sandbox time, in a few real seconds", async () => {
    const { tenant, events } = people(2);
    // Production's idle timeout (worker/worker.ts: 600000 ms) and session age (50 minutes).
    const sandbox = await Sandbox.start(inputs({ tenant, eventLines: events }), { storage: 'memory', seed: 3, workerCount: 1, workerTuning: { shutdownGraceMs: 0 } });
    try {
      await sandbox.enqueueEvents(events);
      await sandbox.runUntilQuiet();
      const [afterWork] = sandbox.workerStats();
      expect(afterWork?.pool.live).toBeGreaterThan(0);
      const real = Date.now();
      await sandbox.runFor(9 * MINUTE);
      // Not yet: the sessions were used less than 10 sandbox minutes ago.
      expect(sandbox.workerStats()[0]?.pool.live).toBe(afterWork?.pool.live);
      await sandbox.runFor(2 * MINUTE);
      const [after] = sandbox.workerStats();
      expect(after?.pool).toMatchObject({ live: 0, retired: afterWork?.pool.created });
      expect(sandbox.logger.lines.filter((l) => l.includes('"pwsh session closed"') && l.includes('"reason":"idle"')).length).toBe(afterWork?.pool.created);
      expect(Date.now() - real).toBeLessThan(30_000);
    } finally {
      await sandbox.stop();
    }
  }, 120_000);
});
