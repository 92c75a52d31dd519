import { describe, expect, it } from 'vitest';
import { SimClock } from '../../sandbox/clock.js';
import { SimTenant } from '../../sandbox/teams-sim/tenant.js';
import { parseSandboxTenantFile } from '../../sandbox/teams-sim/tenant-file.js';
import { sampleTenant } from '../integration/sandbox-fixtures.js';

describe('a user deleted from Entra ID, as Teams sees it', () => {
  it('loses the number and Enterprise Voice with the account, and cmdlets no longer find it', () => {
    const base = sampleTenant();
    const id = base.users[0]!.id;
    const clock = new SimClock('2026-11-02T08:00:00Z');
    const file = parseSandboxTenantFile({
      ...base,
      users: [{ ...base.users[0], teams: { enterpriseVoiceEnabled: true, lineUri: 'tel:+31201234050', policies: {} } }],
      externalAssignments: [],
      directoryChanges: [{ atMs: 3_600_000, userId: id, set: { deleted: true }, notify: true }],
    });
    const tenant = new SimTenant(file, clock);
    expect(tenant.assignments().filter((r) => r.AssignedPstnTargetId === id)).toHaveLength(1);
    clock.advance(2 * 3_600_000);
    expect(tenant.assignments().filter((r) => r.AssignedPstnTargetId === id)).toEqual([]);
    expect(tenant.user(id)).toMatchObject({ enterpriseVoiceEnabled: false, lineUri: null });
    expect(() => tenant.onlineUser('Get-CsOnlineUser', id)).toThrow(/Management object not found/);
  });
});
