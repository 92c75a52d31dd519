import { describe, expect, it } from 'vitest';
import type { SandboxReport } from '../../sandbox/host/report.js';
import { Sandbox } from '../../sandbox/host/sandbox.js';
import { hrEvent, inputs, numberOf, teamsOf, tenantWith, user } from './sandbox-fixtures.js';

const HOUR = 3_600_000;
const number = (report: SandboxReport, n: number) => report.numbers.find((x) => x.userId === id(n) && x.state !== 'free');
const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

/**
 * Lost notifications repaired by the delta resync while Graph, Table Storage and Service Bus
 * fail at rates like the chaos run's (Table storms five times as often): a round makes hundreds
 * of calls, so it only finishes because each call is retried on the sandbox clock and the
 * round resumes from its checkpoint.
 */
describe('the delta resync under chaos-like faults', { timeout: 300_000 }, () => {
  it('repairs notifications lost before and after the first round: a disabled, a deleted and a later disabled account lose their phones', async () => {
    const provisioned = [1, 2, 3, 4].map((n) => user(id(n), `p${n}@contoso.example`, `P${n}`));
    // Two hundred more directory users Dialtone does not provision: each listed user costs the round a record read.
    const others = Array.from({ length: 200 }, (_, i) => user(id(1_000 + i), `o${i}@contoso.example`, `O${i}`));
    const tenant = tenantWith([...provisioned, ...others], {
      directoryChanges: [
        { atMs: 2 * HOUR, userId: id(1), set: { accountEnabled: false }, notify: false },
        { atMs: 2 * HOUR, userId: id(2), set: { deleted: true }, notify: false },
        // After the first round (12:45): found by the delta link of a later round.
        { atMs: 30 * HOUR, userId: id(3), set: { accountEnabled: false }, notify: false },
      ],
    });
    const events = provisioned.map((p, i) =>
      hrEvent(`j${i}`, 'joiner', '2026-11-02T08:00:00Z', { employeeId: p.employeeId, userPrincipalName: p.userPrincipalName, site: 'AMS', departmentId: 'DEPT001' }),
    );
    const graphFaults = {
      rules: [
        // Deterministic: the first round's first delta read is throttled.
        { status: 429 as const, times: 1, path: /\/users\/delta/, retryAfterSeconds: 7 },
        { status: 429 as const, probability: 0.05, retryAfterSeconds: 5 },
        { status: 503 as const, probability: 0.03 },
      ],
    };
    const sandbox = await Sandbox.start(inputs({ tenant, eventLines: events }), { storage: 'memory', graphFaults, graphFaultSeed: 5, seed: 5 });
    let report: SandboxReport;
    try {
      // Storms around every resync occurrence (12:45 and 00:45): Table 503s five times the chaos
      // run's rate, Service Bus ServiceBusy. Each window outlasts the timer retry policy (about an hour of retries); outside it the pipeline's own retries recover.
      const storms = () => {
        sandbox.tableService()?.setFaults({ seed: 5, serverBusy: { rate: 0.05, length: 3 }, timeout: { rate: 0.01, delayMs: 1, appliedRate: 0.5 } });
        sandbox.bus.setFaults({ seed: 5, rules: [{ code: 'ServiceBusy', probability: 0.03 }] });
      };
      const calm = () => {
        sandbox.tableService()?.setFaults(undefined);
        sandbox.bus.setFaults(undefined);
      };
      for (let round = 0; round < 6; round++) {
        const at = Date.parse('2026-11-02T12:40:00Z') + round * 12 * HOUR;
        sandbox.scheduler.at(at, `test:storm:${round}`, storms);
        sandbox.scheduler.at(at + 2 * HOUR, `test:calm:${round}`, calm);
      }
      await sandbox.enqueueEvents(events);
      // The changes happen at 10:00 and at 14:00 the next day; rounds run at 12:45 and 00:45.
      await sandbox.runFor(72 * HOUR);
      await sandbox.runUntilQuiet();
      report = await sandbox.report();
    } finally {
      await sandbox.stop();
    }
    for (const n of [1, 2, 3]) {
      if (n !== 2) expect(teamsOf(report, id(n)), `p${n}`).toMatchObject({ enterpriseVoiceEnabled: false, lineUri: null });
      expect(number(report, n)?.state, `p${n}'s number`).toBe('quarantined');
    }
    expect(teamsOf(report, id(4)).lineUri).not.toBeNull();
    expect(numberOf(report, teamsOf(report, id(4)).lineUri!.replace(/^tel:/, ''))?.state).toBe('assigned');
    // The throttled delta read was retried inside the round, on the sandbox clock.
    expect(sandbox.logger.lines.some((l) => l.includes('"call retried"') && l.includes('read users delta page'))).toBe(true);
    expect(sandbox.graph.metrics().notifications.deliveries).toBe(0);
  });
});
