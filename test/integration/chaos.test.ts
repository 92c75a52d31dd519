import { describe, expect, it } from 'vitest';
import { hrEvent, inputs, played, tenantWith, user } from './sandbox-fixtures.js';

const PEOPLE = 30;

function crowd() {
  const users = Array.from({ length: PEOPLE }, (_, i) =>
    user(`00000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`, `p${i + 1}@contoso.example`, `C${i + 1}`, {
      officeLocation: i % 2 === 0 ? 'AMS' : 'RTM',
    }),
  );
  const events = users.map((u, i) =>
    hrEvent(`c${i + 1}`, 'joiner', `2026-11-02T08:${String(i % 60).padStart(2, '0')}:00Z`, {
      employeeId: u.employeeId,
      userPrincipalName: u.userPrincipalName,
      site: u.officeLocation,
      departmentId: i % 2 === 0 ? 'DEPT001' : 'DEPT002',
    }),
  );
  return { tenant: tenantWith(users), events, users };
}

describe('load and faults: three competing workers, a throttling Graph and a flaky Teams', () => {
  it('provisions everyone exactly once, with no number held twice and the inventory agreeing with Teams', async () => {
    const { tenant, events, users } = crowd();
    const { report, sandbox } = await played(inputs({ tenant, eventLines: events }), {
      workerCount: 3,
      // The `times` rules fire on the first matching requests whatever the host's timing, so a
      // throttle, a Teams fault and a dead session are certain; the seeded rules add noise (three
      // concurrent workers draw from the generators in a timing-dependent order).
      graphFaults: {
        rules: [
          { status: 429, times: 1, retryAfterSeconds: 5 },
          { status: 429, probability: 0.15, retryAfterSeconds: 5 },
          { status: 503, probability: 0.05 },
        ],
      },
      teams: {
        seed: 11,
        faults: [
          { kind: 'throttle', cmdlet: 'Set-CsPhoneNumberAssignment', times: 1 },
          { kind: 'crash', cmdlet: 'Grant-CsOnlineVoiceRoutingPolicy', times: 1, phase: 'after' },
          { kind: 'throttle', cmdlet: 'Set-CsPhoneNumberAssignment', probability: 0.15 },
          { kind: 'unavailable', cmdlet: 'Grant-CsTenantDialPlan', probability: 0.1 },
          { kind: 'crash', cmdlet: 'Grant-CsOnlineVoiceRoutingPolicy', probability: 0.05, phase: 'after' },
        ],
      },
    });

    expect(report.deadLetters).toEqual([]);
    const lineUris = users.map((u) => report.users.find((r) => r.id === u.id)?.teams.lineUri);
    expect(lineUris.every((l) => typeof l === 'string')).toBe(true);
    expect(new Set(lineUris).size).toBe(PEOPLE);

    const assigned = report.numbers.filter((n) => n.state === 'assigned');
    expect(assigned).toHaveLength(PEOPLE);
    for (const n of assigned) {
      expect(report.users.find((u) => u.id === n.userId)?.teams.lineUri).toBe(`tel:${n.number}`);
    }
    const teamsAssignments = sandbox.teams?.tenant.assignments() ?? [];
    const owners = new Map<string, string | null>();
    for (const row of teamsAssignments) {
      const previous = owners.get(row.TelephoneNumber);
      expect(previous === undefined || previous === row.AssignedPstnTargetId).toBe(true);
      owners.set(row.TelephoneNumber, row.AssignedPstnTargetId);
    }
    const faults = sandbox.teams?.metrics().faultsInjected ?? 0;
    expect(faults).toBeGreaterThan(0);
    expect(sandbox.graph.metrics().throttled).toBeGreaterThan(0);
    expect(report.metrics.connects).toBeGreaterThan(1);
  }, 120_000);
});
