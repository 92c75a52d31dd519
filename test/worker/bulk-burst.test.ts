import { describe, expect, it } from 'vitest';
import type { PoolDefinition } from '../../shared/domain/numbers.js';
import type { TeamsCallRecord } from '../../sandbox/teams-sim/index.js';
import { hrEvent, inputs, played, tenantWith, user } from '../integration/sandbox-fixtures.js';

// A small burst on the field latency model (the sandbox default) with the bulk path and the
// tenant's 4 sessions, as the bench runs it. Every assertion is on the order of events on the
// sandbox clock (the Teams simulator's call trace), never on how long anything took.
const PEOPLE = 64;
const id = (i: number) => `00000000-0000-4000-8000-0000000031${String(i).padStart(2, '0')}`;
const pools = [
  { id: 'ams', ranges: [{ from: '+31201000000', to: '+31201000199' }], quarantineDays: 90 },
  { id: 'rtm', ranges: [{ from: '+31101000000', to: '+31101000199' }], quarantineDays: 90 },
] as PoolDefinition[];

async function burst(): Promise<{ calls: TeamsCallRecord[]; provisioned: number; granted: number }> {
  const people = Array.from({ length: PEOPLE }, (_, i) => user(id(i), `b${i}@contoso.example`, `B${i}`));
  const events = people.map((p, i) => hrEvent(`b${i}`, 'joiner', '2026-11-02T01:00:00Z', { employeeId: p.employeeId, userPrincipalName: p.userPrincipalName, site: 'AMS', departmentId: 'DEPT001' }));
  const calls: TeamsCallRecord[] = [];
  const { report } = await played(inputs({ tenant: tenantWith(people), eventLines: events, pools }), {
    workerTuning: { maxSessions: 4, maxSessionsPerTenant: 4, concurrentSessions: 4, bulk: { users: 500 } },
    tenantSessionLimit: 4,
    stallTimeoutMs: 300_000,
    teams: { trace: (call) => void calls.push(call) },
  });
  const mine = report.users.filter((u) => u.id.startsWith('00000000-0000-4000-8000-0000000031'));
  return {
    calls,
    provisioned: mine.filter((u) => u.teams.lineUri !== null).length,
    granted: mine.filter((u) => ['CallingLineIdentity', 'OnlineVoiceRoutingPolicy', 'TenantDialPlan'].every((type) => typeof u.teams.policies[type] === 'string')).length,
  };
}

describe('the bulk path times a small burst by what is left of it', { timeout: 300_000 }, () => {
  it('connects the sessions together, submits the batch operations while numbers are still being set, and grants no one before their number held', async () => {
    const { calls, provisioned, granted } = await burst();
    expect([provisioned, granted]).toEqual([PEOPLE, PEOPLE]);

    const of = (cmdlet: string) => calls.filter((c) => c.cmdlet === cmdlet && c.ok);
    const sets = of('Set-CsPhoneNumberAssignment');
    const setEnd = new Map(sets.map((c) => [c.identities[0]!.toLowerCase(), c.endMs]));
    expect(setEnd.size).toBe(PEOPLE);
    const firstSetStart = Math.min(...sets.map((c) => c.startMs));
    const lastSetEnd = Math.max(...sets.map((c) => c.endMs));

    // Connects overlap: every session started connecting before anyone's number was set, not
    // when it was first wanted.
    const connects = of('Connect-MicrosoftTeams');
    expect(connects.length).toBeGreaterThan(1);
    expect(connects.length).toBeLessThanOrEqual(4);
    expect(connects.filter((c) => c.startMs >= firstSetStart)).toEqual([]);

    // The batch operations go alongside the Sets, not after the last one.
    const submits = of('New-CsBatchPolicyAssignmentOperation');
    expect(submits.length).toBeGreaterThan(0);
    expect(submits.filter((c) => c.startMs >= lastSetEnd)).toEqual([]);
    const firstSubmit = Math.min(...submits.map((c) => c.startMs));

    // Per person, as specified: no policy is asked for before that person's number held.
    for (const op of submits) {
      expect(op.identities.length).toBeGreaterThan(0);
      expect(op.identities.filter((u) => (setEnd.get(u.toLowerCase()) ?? Number.POSITIVE_INFINITY) > op.startMs)).toEqual([]);
    }
    const oneByOne = calls.filter((c) => c.cmdlet.startsWith('Grant-Cs'));
    for (const grant of oneByOne) {
      // Never tenant-wide: each grant names its one user.
      expect(grant.identities).toHaveLength(1);
      const set = setEnd.get(grant.identities[0]!.toLowerCase())!;
      expect(set).toBeLessThanOrEqual(grant.startMs);
      // Only the burst's tail is granted one by one: whoever was set before the first operation
      // went is in an operation.
      expect(set).toBeGreaterThanOrEqual(firstSubmit);
    }
  });
});
