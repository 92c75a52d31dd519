import { describe, expect, it } from 'vitest';
import { ANNA, BRAM, CEES, DANA, EVA, connectedTenant, errorOf, resultOf } from './fixtures.js';

const assign = (identity: string, number: string) => ({ Identity: identity, PhoneNumber: number, PhoneNumberType: 'DirectRouting' });

describe('Set-CsPhoneNumberAssignment', () => {
  it('assigns a Direct Routing number and turns Enterprise Voice on', () => {
    const { run, tenant } = connectedTenant();
    expect(resultOf(run('Set-CsPhoneNumberAssignment', assign(ANNA, '+31201234001')))).toBeNull();
    expect(tenant.user(ANNA)).toMatchObject({ enterpriseVoiceEnabled: true, lineUri: 'tel:+31201234001', phoneNumber: '+31201234001' });
  });

  it('accepts a number with a Direct Routing extension', () => {
    const { run, tenant } = connectedTenant();
    resultOf(run('Set-CsPhoneNumberAssignment', assign(ANNA, '+31201234001;ext=1234')));
    expect(tenant.user(ANNA)?.lineUri).toBe('tel:+31201234001;ext=1234');
  });

  it('refuses a tel: URI with a clear message', () => {
    const { run } = connectedTenant();
    expect(errorOf(run('Set-CsPhoneNumberAssignment', assign(ANNA, 'tel:+31201234001'))).message).toBe(
      "Telephone Number 'tel:+31201234001' is not valid: pass the number in E.164 format such as +31201234567 (optionally ;ext=1234) without the 'tel:' prefix",
    );
  });

  it('does not combine -PhoneNumber with -EnterpriseVoiceEnabled', () => {
    const { run } = connectedTenant();
    const error = errorOf(run('Set-CsPhoneNumberAssignment', { ...assign(ANNA, '+31201234001'), EnterpriseVoiceEnabled: true }));
    expect(error).toMatchObject({
      type: 'System.Management.Automation.ParameterBindingException',
      message:
        'Parameter set cannot be resolved using the specified named parameters. One or more parameters issued cannot be used together or an insufficient number of parameters were provided.',
      fullyQualifiedErrorId: 'AmbiguousParameterSet,Set-CsPhoneNumberAssignment',
    });
  });

  it('requires -PhoneNumberType with -PhoneNumber, naming it as the current module does', () => {
    const { run } = connectedTenant();
    expect(errorOf(run('Set-CsPhoneNumberAssignment', { Identity: ANNA, PhoneNumber: '+31201234001' })).message).toBe(
      'Cannot process command because of one or more missing mandatory parameters: NumberType.',
    );
  });

  it('binds parameter names case-insensitively, as PowerShell does', () => {
    const { run, tenant } = connectedTenant();
    resultOf(run('set-csphonenumberassignment', { identity: ANNA, phonenumber: '+31201234001', phonenumbertype: 'directrouting' }));
    expect(tenant.user(ANNA)?.phoneNumber).toBe('+31201234001');
  });

  it('rejects a parameter the cmdlet does not have, as host.ps1 does before anything runs', () => {
    const { run } = connectedTenant();
    expect(errorOf(run('Set-CsPhoneNumberAssignment', { ...assign(ANNA, '+31201234001'), LineUri: 'x' }))).toMatchObject({
      type: 'Dialtone.ParameterNotAllowed',
      message: expect.stringMatching(/^Parameter 'LineUri' is not allowed for Set-CsPhoneNumberAssignment; allowed: Identity, TelephoneNumber, PhoneNumber, /),
    });
  });

  it('fails with the exact BadRequest message when another user holds the number', () => {
    const { run } = connectedTenant();
    const error = errorOf(run('Set-CsPhoneNumberAssignment', assign(ANNA, '+31201234010')));
    expect(error).toEqual({
      type: 'Microsoft.Teams.ConfigAPI.Cmdlets.Generated.Runtime.RestException',
      message: "Telephone Number '+31201234010' has already been assigned to another user",
      category: 'InvalidOperation',
      fullyQualifiedErrorId: 'BadRequest,Set-CsPhoneNumberAssignment',
    });
  });

  it('treats a number held outside Dialtone as taken', () => {
    const { run } = connectedTenant();
    expect(errorOf(run('Set-CsPhoneNumberAssignment', assign(ANNA, '+31201234003'))).message).toBe(
      "Telephone Number '+31201234003' has already been assigned to another user",
    );
  });

  it('is idempotent when the user already holds the number', () => {
    const { run, tenant } = connectedTenant();
    resultOf(run('Set-CsPhoneNumberAssignment', assign(EVA, '+31201234010')));
    expect(tenant.user(EVA)?.phoneNumber).toBe('+31201234010');
  });

  it("replaces the user's previous number, which stays in the tenant unassigned", () => {
    const { run, tenant } = connectedTenant();
    resultOf(run('Set-CsPhoneNumberAssignment', assign(EVA, '+31201234011')));
    expect(tenant.user(EVA)?.phoneNumber).toBe('+31201234011');
    expect(tenant.assignments().find((r) => r.TelephoneNumber === '+31201234010')).toMatchObject({
      PstnAssignmentStatus: 'Unassigned',
      AssignedPstnTargetId: null,
    });
  });

  it('refuses a user without Teams Phone as not voice-capable', () => {
    const { run } = connectedTenant();
    expect(errorOf(run('Set-CsPhoneNumberAssignment', assign(BRAM, '+31201234001'))).message).toBe(
      `User '${BRAM}' lacks appropriate licenses to assign a 'DirectRouting' number: the user is not voice-capable (no Teams Phone / MCOEV)`,
    );
  });

  it('refuses a user whose licence has not arrived yet, and accepts them once the clock passes licensedAfterMs', () => {
    const { run, clock, tenant } = connectedTenant();
    expect(errorOf(run('Set-CsPhoneNumberAssignment', assign(CEES, '+31201234001'))).fullyQualifiedErrorId).toBe(
      'BadRequest,Set-CsPhoneNumberAssignment',
    );
    clock.advance(30_000);
    resultOf(run('Set-CsPhoneNumberAssignment', assign(CEES, '+31201234001')));
    expect(tenant.user(CEES)?.enterpriseVoiceEnabled).toBe(true);
  });

  it('accepts the object id, the UPN and the SIP address as Identity', () => {
    const { run, tenant } = connectedTenant();
    resultOf(run('Set-CsPhoneNumberAssignment', assign('ANNA@contoso.example', '+31201234001')));
    resultOf(run('Set-CsPhoneNumberAssignment', assign('sip:anna@contoso.example', '+31201234002')));
    resultOf(run('Set-CsPhoneNumberAssignment', assign(ANNA, '+31201234004')));
    expect(tenant.user('anna@contoso.example')?.phoneNumber).toBe('+31201234004');
  });

  it('does not find an unknown user', () => {
    const { run } = connectedTenant();
    expect(errorOf(run('Set-CsPhoneNumberAssignment', assign('nobody@contoso.example', '+31201234001')))).toMatchObject({
      message: 'Management object not found for identity "nobody@contoso.example".',
      fullyQualifiedErrorId: 'NotFound,Set-CsPhoneNumberAssignment',
    });
  });

  it('does not find a user before directory sync brings them in (appearsAfterMs)', () => {
    const { run, clock } = connectedTenant();
    expect(errorOf(run('Get-CsOnlineUser', { Identity: DANA })).fullyQualifiedErrorId).toBe('NotFound,Get-CsOnlineUser');
    clock.advance(10_000);
    expect(resultOf(run('Get-CsOnlineUser', { Identity: DANA }))).toMatchObject({ Identity: DANA });
  });

  it('turns Enterprise Voice on and off with the attribute parameter set', () => {
    const { run, tenant } = connectedTenant();
    resultOf(run('Set-CsPhoneNumberAssignment', { Identity: ANNA, EnterpriseVoiceEnabled: true }));
    expect(tenant.user(ANNA)?.enterpriseVoiceEnabled).toBe(true);
    resultOf(run('Set-CsPhoneNumberAssignment', { Identity: ANNA, EnterpriseVoiceEnabled: false }));
    expect(tenant.user(ANNA)?.enterpriseVoiceEnabled).toBe(false);
  });
});

describe('Remove-CsPhoneNumberAssignment', () => {
  it('removes the number, turns Enterprise Voice off and keeps the number in the tenant', () => {
    const { run, tenant } = connectedTenant();
    resultOf(run('Remove-CsPhoneNumberAssignment', { Identity: EVA, PhoneNumber: '+31201234010', PhoneNumberType: 'DirectRouting' }));
    expect(tenant.user(EVA)).toMatchObject({ enterpriseVoiceEnabled: false, lineUri: null });
    expect(resultOf(run('Get-CsPhoneNumberAssignment', { TelephoneNumber: '+31201234010' }))).toEqual([
      expect.objectContaining({ TelephoneNumber: '+31201234010', PstnAssignmentStatus: 'Unassigned', AssignedPstnTargetId: null }),
    ]);
  });

  it('removes everything with -RemoveAll', () => {
    const { run, tenant } = connectedTenant();
    resultOf(run('Remove-CsPhoneNumberAssignment', { Identity: 'eva@contoso.example', RemoveAll: true }));
    expect(tenant.user(EVA)).toMatchObject({ enterpriseVoiceEnabled: false, phoneNumber: null });
  });

  it('does not combine -RemoveAll with -PhoneNumber', () => {
    const { run } = connectedTenant();
    expect(
      errorOf(run('Remove-CsPhoneNumberAssignment', { Identity: EVA, PhoneNumber: '+31201234010', PhoneNumberType: 'DirectRouting', RemoveAll: true })).message,
    ).toBe(
      'Parameter set cannot be resolved using the specified named parameters. One or more parameters issued cannot be used together or an insufficient number of parameters were provided.',
    );
  });

  it('refuses to remove a number the user does not hold', () => {
    const { run } = connectedTenant();
    expect(errorOf(run('Remove-CsPhoneNumberAssignment', { Identity: ANNA, PhoneNumber: '+31201234010', PhoneNumberType: 'DirectRouting' })).message).toBe(
      `Telephone Number '+31201234010' is not assigned to user '${ANNA}'`,
    );
  });
});
