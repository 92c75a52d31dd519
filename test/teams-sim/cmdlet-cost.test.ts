import { describe, expect, it } from 'vitest';
import { SimClock } from '../../sandbox/clock.js';
import { SimTenant } from '../../sandbox/teams-sim/tenant.js';
import { parseSandboxTenantFile } from '../../sandbox/teams-sim/tenant-file.js';
import { sampleTenant } from '../integration/sandbox-fixtures.js';

/** A clock that counts how often the tenant reads it: a stand-in for the work a cmdlet does per user. */
class CountingClock extends SimClock {
  reads = 0;
  override now(): Date {
    this.reads += 1;
    return super.now();
  }
}

const id = (i: number) => `00000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`;

function tenantOf(people: number, deletedUsers: number): { tenant: SimTenant; clock: CountingClock } {
  const base = sampleTenant();
  const users = Array.from({ length: people }, (_, i) => ({
    id: id(i),
    userPrincipalName: `person${i + 1}@contoso.example`,
    accountEnabled: true,
    servicePlans: ['TEAMS1', 'MCOEV'],
    teams: { enterpriseVoiceEnabled: false, lineUri: null, policies: {} },
  }));
  const clock = new CountingClock('2026-11-02T08:00:00Z');
  const file = parseSandboxTenantFile({
    ...base,
    users,
    externalAssignments: [],
    directoryChanges: Array.from({ length: deletedUsers }, (_, i) => ({ atMs: 1_000, userId: id(people - 1 - i), set: { deleted: true }, notify: false })),
  });
  return { tenant: new SimTenant(file, clock, clock.startedAt, () => 60_000), clock };
}

/** Clock reads of one user's read, number, grant, and a batch operation over 20 users, completed. */
function readsForOnePersonsCmdlets(tenant: SimTenant, clock: CountingClock): number {
  clock.advance(2_000);
  const before = clock.reads;
  tenant.onlineUser('Get-CsOnlineUser', id(0));
  tenant.grantPolicy('Grant-CsTenantDialPlan', 'TenantDialPlan', id(0), null);
  tenant.newBatch('New-CsBatchPolicyAssignmentOperation', 'TenantDialPlan', null, Array.from({ length: 20 }, (_, i) => id(i)));
  clock.advance(120_000);
  tenant.onlineUser('Get-CsOnlineUser', id(1));
  return clock.reads - before;
}

describe('the simulated Teams tenant, at scale', () => {
  it('does the same work for a cmdlet whatever the number of users in the tenant (no scan of every user per cmdlet)', () => {
    const small = tenantOf(30, 1);
    const large = tenantOf(3_000, 1);
    expect(readsForOnePersonsCmdlets(large.tenant, large.clock)).toBe(readsForOnePersonsCmdlets(small.tenant, small.clock));
  });

  it('still takes numbers and voice from every deleted account', () => {
    const { tenant, clock } = tenantOf(30, 3);
    tenant.assignNumber('Set-CsPhoneNumberAssignment', id(29), '+31201234567', 'DirectRouting');
    clock.advance(2_000);
    expect(tenant.user(id(29))).toMatchObject({ enterpriseVoiceEnabled: false, lineUri: null });
    expect(tenant.assignments().filter((r) => r.AssignedPstnTargetId === id(29))).toEqual([]);
  });
});
