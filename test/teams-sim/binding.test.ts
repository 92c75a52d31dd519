import { describe, expect, it } from 'vitest';
import { bindParameterNames } from '../../shared/domain/parameter-binding.js';
import { moduleView } from '../../shared/teams/module-cmdlets.js';
import { ANNA, connectedTenant, errorOf, resultOf } from './fixtures.js';

// The stand-in binds as host.ps1 + the MicrosoftTeams module do, from shared/teams/module-cmdlets.json.
// test/pwsh-real/binding-parity.test.ts runs the same requests through real pwsh and the stub module.
const AMBIGUOUS =
  'Parameter set cannot be resolved using the specified named parameters. One or more parameters issued cannot be used together or an insufficient number of parameters were provided.';

describe('Teams stand-in parameter binding', () => {
  it('binds the current names and the old names (aliases) alike, case-insensitively', () => {
    const { run, tenant } = connectedTenant();
    resultOf(run('Set-CsPhoneNumberAssignment', { identity: ANNA, telephonenumber: '+31201234001', NUMBERTYPE: 'directrouting' }));
    expect(tenant.user(ANNA)?.phoneNumber).toBe('+31201234001');
    resultOf(run('Remove-CsPhoneNumberAssignment', { Identity: ANNA, PhoneNumber: '+31201234001', PhoneNumberType: 'DirectRouting' }));
    expect(tenant.user(ANNA)?.phoneNumber ?? null).toBeNull();
  });

  it('refuses a name and its alias together as the binder does (ParameterAlreadyBound)', () => {
    const { run } = connectedTenant();
    const error = errorOf(run('Set-CsPhoneNumberAssignment', { Identity: ANNA, TelephoneNumber: '+31201234001', PhoneNumber: '+31201234002', NumberType: 'DirectRouting' }));
    expect(error).toMatchObject({ type: 'System.Management.Automation.ParameterBindingException', fullyQualifiedErrorId: 'ParameterAlreadyBound,Set-CsPhoneNumberAssignment' });
    expect(error.message).toBe(
      `Cannot bind parameter because parameter 'PhoneNumber' is specified more than once. To provide multiple values to parameters that can accept multiple values, use the array syntax. For example, "-parameter value1,value2,value3".`,
    );
  });

  it('refuses parameters of two sets (AmbiguousParameterSet), and Identity alone, which fits two sets', () => {
    const { run } = connectedTenant();
    for (const parameters of [
      { Identity: ANNA, TelephoneNumber: '+31201234001', NumberType: 'DirectRouting', EnterpriseVoiceEnabled: true },
      { Identity: ANNA },
      { Identity: ANNA, RemoveAll: true, PhoneNumber: '+31201234001' },
    ]) {
      const cmdlet = 'RemoveAll' in parameters ? 'Remove-CsPhoneNumberAssignment' : 'Set-CsPhoneNumberAssignment';
      expect(errorOf(run(cmdlet, parameters))).toEqual({
        type: 'System.Management.Automation.ParameterBindingException',
        message: AMBIGUOUS,
        category: 'InvalidArgument',
        fullyQualifiedErrorId: `AmbiguousParameterSet,${cmdlet}`,
      });
    }
  });

  it("names the chosen set's missing mandatory parameters, the default set when nothing decides", () => {
    const spec = moduleView('new').cmdlets['Set-CsPhoneNumberAssignment']!;
    expect(bindParameterNames(spec, [])).toEqual({ ok: false, error: 'MissingMandatoryParameter', missing: ['TelephoneNumber', 'LocationId'] });
    expect(bindParameterNames(spec, ['TelephoneNumber', 'LocationId'])).toMatchObject({ ok: true, parameterSet: 'LocationUpdate' });
    const { run } = connectedTenant();
    expect(errorOf(run('New-CsBatchPolicyAssignmentOperation', { PolicyType: 'TenantDialPlan', PolicyName: 'DP-NL' }))).toMatchObject({
      message: 'Cannot process command because of one or more missing mandatory parameters: Identity.',
      fullyQualifiedErrorId: 'MissingMandatoryParameter,New-CsBatchPolicyAssignmentOperation',
    });
  });

  it('refuses a Grant-Cs* without Identity, which would change the Global policy', () => {
    const { run, tenant } = connectedTenant();
    for (const parameters of [{ PolicyName: 'VRP-NL' }, { Identity: '', PolicyName: 'VRP-NL' }, { Identity: '  ', PolicyName: null }]) {
      expect(errorOf(run('Grant-CsOnlineVoiceRoutingPolicy', parameters))).toEqual({
        type: 'Dialtone.IdentityRequired',
        message:
          'Grant-CsOnlineVoiceRoutingPolicy needs a non-empty -Identity: without it the policy would be granted to the whole tenant (Global). Nothing was run.',
      });
    }
    expect(tenant.user(ANNA)?.policies.OnlineVoiceRoutingPolicy ?? null).toBeNull();
  });

  it('refuses keys that differ only in case and object values, as host.ps1 does', () => {
    const { run } = connectedTenant();
    expect(errorOf(run('Get-CsOnlineUser', { Identity: ANNA, identity: 'someone-else' }))).toEqual({
      type: 'Dialtone.ProtocolError',
      message: "Parameters 'Identity' and 'identity' of Get-CsOnlineUser differ only in case; send each parameter once.",
    });
    expect(errorOf(run('Get-CsOnlineUser', { Identity: { Id: ANNA } }))).toEqual({
      type: 'Dialtone.ProtocolError',
      message: "Parameter 'Identity' of Get-CsOnlineUser must be a string, number, boolean, null or an array of those; an object is never passed on.",
    });
  });

  it('words a ValidateSet refusal as PowerShell does', () => {
    const { run } = connectedTenant();
    expect(errorOf(run('Set-CsPhoneNumberAssignment', { Identity: ANNA, PhoneNumber: '+31201234001', PhoneNumberType: 'Direct' }))).toEqual({
      type: 'System.Management.Automation.ParameterBindingValidationException',
      message:
        'Cannot validate argument on parameter \'NumberType\'. The argument "Direct" does not belong to the set "DirectRouting,CallingPlan,OperatorConnect" specified by the ValidateSet attribute. Supply an argument that is in the set and then try the command again.',
      category: 'InvalidData',
      fullyQualifiedErrorId: 'ParameterArgumentValidationError,Set-CsPhoneNumberAssignment',
    });
  });
});
