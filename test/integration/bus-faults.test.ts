import { describe, expect, it } from 'vitest';
import { Sandbox } from '../../sandbox/host/sandbox.js';
import { hrEvent, inputs, tenantWith, user } from './sandbox-fixtures.js';

const PEOPLE = 12;

function crowd() {
  const users = Array.from({ length: PEOPLE }, (_, i) =>
    user(`00000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`, `b${i + 1}@contoso.example`, `B${i + 1}`),
  );
  const events = users.map((u, i) =>
    hrEvent(`b${i + 1}`, 'joiner', `2026-11-02T08:${String(i).padStart(2, '0')}:00Z`, {
      employeeId: u.employeeId,
      userPrincipalName: u.userPrincipalName,
      site: 'AMS',
      departmentId: 'DEPT001',
    }),
  );
  return { tenant: tenantWith(users), events, users };
}

describe('Service Bus throttling: every stage and the worker retry or settle ServiceBusy and QuotaExceeded', () => {
  it('provisions everyone once with no dead letter while the namespace throttles every kind of operation', async () => {
    const { tenant, events, users } = crowd();
    const sandbox = await Sandbox.start(inputs({ tenant, eventLines: events }), { storage: 'memory', seed: 3 });
    try {
      await sandbox.enqueueEvents(events);
      sandbox.bus.setFaults({
        seed: 9,
        // The first rules fire on the first matching operations whatever the host's timing, so
        // both codes are certain to occur; the seeded ones then spread faults over the rest (a
        // concurrent host draws them in a timing-dependent order, so they alone prove nothing).
        rules: [
          { code: 'QuotaExceeded', operations: ['send'], times: 2 },
          { code: 'QuotaExceeded', operations: ['schedule'], times: 1 },
          { code: 'ServiceBusy', operations: ['complete'], times: 4 },
          { code: 'ServiceBusy', operations: ['acceptSession'], times: 4 },
          { code: 'QuotaExceeded', probability: 0.05 },
          { code: 'ServiceBusy', probability: 0.1 },
        ],
      });
      await sandbox.runUntilQuiet();
      sandbox.bus.setFaults(undefined);
      await sandbox.runUntilQuiet();
      const report = await sandbox.report();
      expect(report.deadLetters).toEqual([]);
      const lines = users.map((u) => report.users.find((r) => r.id === u.id)?.teams.lineUri);
      expect(lines.every((l) => typeof l === 'string')).toBe(true);
      expect(new Set(lines).size).toBe(PEOPLE);
      const assigned = report.numbers.filter((n) => n.state === 'assigned');
      expect(assigned).toHaveLength(PEOPLE);
      const faults = sandbox.bus.faultCounts();
      expect(Object.values(faults).reduce((a, b) => a + b, 0)).toBeGreaterThan(10);
      expect(Object.keys(faults).some((k) => k.startsWith('QuotaExceeded'))).toBe(true);
    } finally {
      await sandbox.stop();
    }
  }, 120_000);
});
