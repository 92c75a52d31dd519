import { describe, expect, it } from 'vitest';
import { externalObjectId } from '../../sandbox/teams-sim/tenant.js';
import { ANNA, BRAM, CEES, EVA, connectedTenant, errorOf, resultOf, tenantFile } from './fixtures.js';

type Row = { TelephoneNumber: string; AssignedPstnTargetId: string | null; PstnAssignmentStatus: string };

function manyNumbers(count: number) {
  const file = tenantFile();
  file.externalAssignments = Array.from({ length: count }, (_, i) => ({
    number: `+3130${String(count - i).padStart(7, '0')}`,
    assignedTo: `holder-${i}@contoso.example`,
  }));
  return connectedTenant(file);
}

describe('Get-CsOnlineUser', () => {
  it('returns LineURI as tel:, Enterprise Voice and policies as objects', () => {
    const { run } = connectedTenant();
    expect(resultOf(run('Get-CsOnlineUser', { Identity: 'eva@contoso.example' }))).toMatchObject({
      Identity: EVA,
      UserPrincipalName: 'eva@contoso.example',
      LineURI: 'tel:+31201234010',
      EnterpriseVoiceEnabled: true,
      TenantDialPlan: { Authority: 'Tenant', Name: 'DP-NL' },
      OnlineVoiceRoutingPolicy: null,
      CallingLineIdentity: null,
    });
  });

  it('returns LineURI null for a user without a number', () => {
    const { run } = connectedTenant();
    expect(resultOf(run('Get-CsOnlineUser', { Identity: ANNA }))).toMatchObject({ LineURI: null, EnterpriseVoiceEnabled: false });
  });

  it('lists PhoneSystem in FeatureTypes only while MCOEV is held', () => {
    const { run } = connectedTenant();
    expect((resultOf(run('Get-CsOnlineUser', { Identity: ANNA })) as { FeatureTypes: string[] }).FeatureTypes).toEqual(['PhoneSystem', 'Teams']);
    expect((resultOf(run('Get-CsOnlineUser', { Identity: BRAM })) as { FeatureTypes: string[] }).FeatureTypes).toEqual(['Teams']);
  });

  it('shows no plans at all before group licensing catches up, then MCOEV in AssignedPlan', () => {
    const { run, clock } = connectedTenant();
    expect(resultOf(run('Get-CsOnlineUser', { Identity: CEES }))).toMatchObject({ FeatureTypes: [], AssignedPlan: [] });
    clock.advance(30_000);
    expect(resultOf(run('Get-CsOnlineUser', { Identity: CEES }))).toMatchObject({
      FeatureTypes: ['PhoneSystem', 'Teams'],
      AssignedPlan: expect.arrayContaining([expect.objectContaining({ Capability: 'MCOEV', CapabilityStatus: 'Enabled' })]),
    });
  });

  it('follows scheduled directory changes to the licence (MCOEV removed later)', () => {
    const file = tenantFile();
    file.directoryChanges = [{ atMs: 60_000, userId: ANNA, set: { servicePlans: ['TEAMS1'] }, notify: true }];
    const { run, clock } = connectedTenant(file);
    clock.advance(60_000);
    expect(errorOf(run('Set-CsPhoneNumberAssignment', { Identity: ANNA, EnterpriseVoiceEnabled: true })).message).toBe(
      `User '${ANNA}' lacks appropriate licenses to enable Enterprise Voice: the user is not voice-capable (no Teams Phone / MCOEV)`,
    );
  });
});

describe('Get-CsPhoneNumberAssignment', () => {
  it('always returns an array sorted by TelephoneNumber', () => {
    const { run } = connectedTenant();
    resultOf(run('Set-CsPhoneNumberAssignment', { Identity: ANNA, PhoneNumber: '+31201234001', PhoneNumberType: 'DirectRouting' }));
    const rows = resultOf(run('Get-CsPhoneNumberAssignment')) as Row[];
    expect(rows.map((r) => r.TelephoneNumber)).toEqual(['+31201234001', '+31201234003', '+31201234010']);
  });

  it('shows an external holder under a stable object id derived from assignedTo', () => {
    const { run } = connectedTenant();
    expect(resultOf(run('Get-CsPhoneNumberAssignment', { TelephoneNumber: '+31201234003' }))).toEqual([
      expect.objectContaining({ AssignedPstnTargetId: externalObjectId('outsider@contoso.example'), PstnAssignmentStatus: 'UserAssigned' }),
    ]);
  });

  it('filters by assigned target, by UPN as well as by object id', () => {
    const { run } = connectedTenant();
    const byUpn = resultOf(run('Get-CsPhoneNumberAssignment', { AssignedPstnTargetId: 'eva@contoso.example' })) as Row[];
    expect(byUpn.map((r) => [r.TelephoneNumber, r.AssignedPstnTargetId])).toEqual([['+31201234010', EVA]]);
    expect(resultOf(run('Get-CsPhoneNumberAssignment', { AssignedPstnTargetId: ANNA }))).toEqual([]);
  });

  it('filters by assignment status and number type', () => {
    const { run } = connectedTenant();
    resultOf(run('Remove-CsPhoneNumberAssignment', { Identity: EVA, RemoveAll: true }));
    const unassigned = resultOf(run('Get-CsPhoneNumberAssignment', { PstnAssignmentStatus: 'Unassigned', NumberType: 'DirectRouting' })) as Row[];
    expect(unassigned.map((r) => r.TelephoneNumber)).toEqual(['+31201234010']);
  });

  it('returns 500 rows by default', () => {
    const { run } = manyNumbers(1200);
    expect((resultOf(run('Get-CsPhoneNumberAssignment')) as Row[]).length).toBe(500);
  });

  it('returns up to 1,000 rows with -Top and pages with -Skip', () => {
    const { run } = manyNumbers(1200);
    const first = resultOf(run('Get-CsPhoneNumberAssignment', { Top: 1000 })) as Row[];
    const rest = resultOf(run('Get-CsPhoneNumberAssignment', { Top: 1000, Skip: 1000 })) as Row[];
    expect(first.length).toBe(1000);
    // 1,200 external numbers plus Eva's own line.
    expect(rest.length).toBe(201);
    const all = [...first, ...rest].map((r) => r.TelephoneNumber);
    expect(new Set(all).size).toBe(1201);
    expect(all).toEqual([...all].sort());
  });

  it('refuses -Top above 1,000', () => {
    const { run } = connectedTenant();
    expect(errorOf(run('Get-CsPhoneNumberAssignment', { Top: 1001 }))).toMatchObject({
      message:
        "Cannot validate argument on parameter 'Top'. The 1001 argument is greater than the maximum allowed range of 1000. Supply an argument that is less than or equal to 1000 and then try the command again.",
      fullyQualifiedErrorId: 'ParameterArgumentValidationError,Get-CsPhoneNumberAssignment',
    });
  });
});
