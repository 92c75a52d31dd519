import { describe, expect, it } from 'vitest';
import { queueNames } from '../../shared/contracts/messages.js';
import { Sandbox } from '../../sandbox/host/sandbox.js';
import { hrEvent, inputs, tenantWith, user } from './sandbox-fixtures.js';

/**
 * A worker's session-lock renewal that reaches Service Bus only after the lock expired there:
 * the broker drops the lock by time (not by the chaos), the session goes to the next receiver,
 * and the renewal itself is answered SessionLockLost. The attempt that held the lock must then
 * publish and settle nothing (docs/WORKER.md), and the redelivered command is applied once.
 */
describe('a lock renewal that arrives late, end to end in the sandbox', () => {
  it('loses the lock on the broker, publishes nothing for the attempt, and the redelivery provisions the person once', async () => {
    const users = [1, 2, 3].map((i) => user(`00000000-0000-4000-8000-00000000e00${i}`, `late${i}@contoso.example`, `L${i}`));
    const events = users.map((u, i) =>
      hrEvent(`late-${i + 1}`, 'joiner', '2026-11-02T08:00:00Z', { employeeId: u.employeeId, userPrincipalName: u.userPrincipalName, site: 'AMS', departmentId: 'DEPT001' }),
    );
    const sandbox = await Sandbox.start(inputs({ tenant: tenantWith(users), eventLines: events }), {
      storage: 'memory',
      seed: 3,
      workerCount: 2,
      // One cmdlet hangs for production's 120 s deadline: the command outlasts the 20 s renewal interval.
      workerTuning: { cmdletTimeoutMs: 120_000, shutdownGraceMs: 0 },
      teams: { seed: 1, faults: [{ kind: 'hang', cmdlet: 'Grant-CsOnlineVoiceRoutingPolicy', times: 1 }] },
    });
    try {
      sandbox.bus.setFaults({ rules: [], lateRenewals: { queue: queueNames.voiceCommands, times: 1 } });
      await sandbox.enqueueEvents(events);
      await sandbox.runUntilQuiet();
      const report = await sandbox.report();
      expect(sandbox.bus.faultCounts()).toEqual({ 'LateRenewal:renewLock': 1 });
      const lines = users.map((u) => report.users.find((r) => r.id === u.id)?.teams.lineUri);
      expect(lines.every((l) => typeof l === 'string' && l.startsWith('tel:+'))).toBe(true);
      expect(new Set(lines).size).toBe(3);
      expect(report.deadLetters).toEqual([]);
      const logs = sandbox.logger.lines;
      expect(logs.filter((l) => l.includes('"session lock renewal failed"') && l.includes('session lock has expired'))).toHaveLength(1);
      expect(logs.filter((l) => l.includes('"voice command attempt aborted after its lock was lost; its result is not published"'))).toHaveLength(1);
      expect(logs.filter((l) => l.includes('could not be settled'))).toEqual([]);
      expect(sandbox.bus.availableCount() + sandbox.bus.inFlightCount()).toBe(0);
    } finally {
      await sandbox.stop();
    }
  }, 300_000);
});
