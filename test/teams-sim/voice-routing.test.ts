import { describe, expect, it } from 'vitest';
import { SimClock } from '../../sandbox/clock.js';
import { newSession, runCmdlet, type HostOutcome } from '../../sandbox/teams-sim/cmdlets.js';
import { SimTenant } from '../../sandbox/teams-sim/tenant.js';
import { ANNA, FAKE_PFX, TENANT_ID, tenantFile } from './fixtures.js';

function tenantWithScope(scope: 'Worker' | 'TenantSetup') {
  const file = { ...tenantFile(), pstnGateways: ['sbc1.contoso.example'] };
  const tenant = new SimTenant(file, new SimClock('2026-11-02T08:00:00Z'));
  const session = newSession();
  runCmdlet(tenant, session, { cmdlet: 'Connect-MicrosoftTeams', parameters: { ApplicationId: 'a', TenantId: TENANT_ID }, certificate: { pfxBase64: FAKE_PFX }, scope });
  const run = (cmdlet: string, parameters: Record<string, unknown> = {}): HostOutcome => runCmdlet(tenant, session, { cmdlet, parameters, scope });
  return { tenant, run };
}

const errorOf = (outcome: HostOutcome) => {
  if (outcome.ok) throw new Error(`expected a failure, got ${JSON.stringify(outcome.result)}`);
  return outcome.error;
};
const ok = (outcome: HostOutcome) => {
  if (!outcome.ok) throw new Error(`expected success, got ${outcome.error.type}: ${outcome.error.message}`);
  return outcome.result;
};

const route = { Identity: 'NL-All', NumberPattern: '^\\+31\\d+$', OnlinePstnGatewayList: { Add: ['sbc1.contoso.example'] }, OnlinePstnUsages: { Add: ['NL-Local'] }, Priority: 1 };

describe('tenant set-up cmdlets in the Teams stand-in', () => {
  it('runs only in a host started with -Scope TenantSetup, and that host runs no per-person cmdlet', () => {
    const worker = tenantWithScope('Worker');
    expect(errorOf(worker.run('Set-CsOnlinePstnUsage', { Identity: 'Global', Usage: { Add: ['NL-Local'] } }))).toMatchObject({
      type: 'Dialtone.CmdletNotAllowed',
      message: "The cmdlet 'Set-CsOnlinePstnUsage' is allowed only in a host started with -Scope TenantSetup (dialtone tenant); nothing was run.",
    });
    expect(ok(worker.run('Get-CsCallingLineIdentity'))).toHaveLength(3);
    const setup = tenantWithScope('TenantSetup');
    expect(errorOf(setup.run('Grant-CsTenantDialPlan', { Identity: ANNA, PolicyName: 'DP-NL' })).type).toBe('Dialtone.CmdletNotAllowed');
    expect(errorOf(setup.run('Set-CsPhoneNumberAssignment', { Identity: ANNA, EnterpriseVoiceEnabled: true })).type).toBe('Dialtone.CmdletNotAllowed');
  });

  it('never replaces the tenant-wide PSTN usage list: named usages are added or removed one way at a time', () => {
    const { run } = tenantWithScope('TenantSetup');
    ok(run('Set-CsOnlinePstnUsage', { Identity: 'Global', Usage: { Add: ['NL-Local'] } }));
    expect(ok(run('Get-CsOnlinePstnUsage'))).toEqual({ Identity: 'Global', Usage: ['NL-Local'] });
    for (const usage of [{ Replace: ['Other'] }, ['Other'], { Add: ['x'], Remove: ['NL-Local'] }]) {
      expect(errorOf(run('Set-CsOnlinePstnUsage', { Identity: 'Global', Usage: usage })).type).toBe('Dialtone.ParameterNotAllowed');
    }
    expect(ok(run('Get-CsOnlinePstnUsage'))).toEqual({ Identity: 'Global', Usage: ['NL-Local'] });
  });

  it('removes one named item per Remove-Cs* call, and a usage only once no route or policy holds it (tenant unlink)', () => {
    const { run } = tenantWithScope('TenantSetup');
    ok(run('Set-CsOnlinePstnUsage', { Identity: 'Global', Usage: { Add: ['NL-Local'] } }));
    ok(run('New-CsOnlineVoiceRoute', route));
    expect(errorOf(run('Set-CsOnlinePstnUsage', { Identity: 'Global', Usage: { Remove: ['NL-Local'] } })).type).toBe('Microsoft.Teams.ConfigAPI.Cmdlets.Generated.Runtime.RestException');
    expect(errorOf(run('Remove-CsOnlineVoiceRoute', {})).fullyQualifiedErrorId).toBe('MissingMandatoryParameter,Remove-CsOnlineVoiceRoute');
    expect(errorOf(run('Remove-CsOnlineVoiceRoute', { Identity: 'Nope' })).message).toContain('Management object not found for identity "Nope".');
    ok(run('Remove-CsOnlineVoiceRoute', { Identity: 'NL-All' }));
    expect(ok(run('Get-CsOnlineVoiceRoute'))).toEqual([]);
    ok(run('Set-CsOnlinePstnUsage', { Identity: 'Global', Usage: { Remove: ['NL-Local'] } }));
    expect(ok(run('Get-CsOnlinePstnUsage'))).toEqual({ Identity: 'Global', Usage: [] });
    ok(run('New-CsCallingLineIdentity', { Identity: 'CLI-X', Description: 'D', CallingIDSubstitute: 'Anonymous' }));
    ok(run('Remove-CsCallingLineIdentity', { Identity: 'Tag:CLI-X' }));
    expect(errorOf(run('Remove-CsCallingLineIdentity', { Identity: 'CLI-X' })).message).toContain('Management object not found');
  });

  it('takes an object only where module-cmdlets.json types the parameter hashtable or hashtable[], as host.ps1 does', () => {
    const { run, tenant } = tenantWithScope('TenantSetup');
    const modifier = "must be a string, number, boolean, null, an array of those, or an object of Add, Remove or Replace holding those.";
    for (const usage of [{ Add: ['NL-Local'], Clear: true }, { Add: [{ nested: 'x' }] }, { Add: ['a'], add: ['b'] }, {}]) {
      expect(errorOf(run('Set-CsOnlinePstnUsage', { Identity: 'Global', Usage: usage }))).toEqual({ type: 'Dialtone.ProtocolError', message: `Parameter 'Usage' of Set-CsOnlinePstnUsage ${modifier}` });
    }
    expect(errorOf(run('New-CsOnlineVoiceRoute', { ...route, Identity: { Add: 'NL-All' } }))).toEqual({
      type: 'Dialtone.ProtocolError',
      message: "Parameter 'Identity' of New-CsOnlineVoiceRoute must be a string, number, boolean, null or an array of those; an object is never passed on.",
    });
    expect(errorOf(run('New-CsTenantDialPlan', { Identity: 'DP-X', NormalizationRules: { Name: 'r' } }))).toEqual({
      type: 'Dialtone.ProtocolError',
      message: "Parameter 'NormalizationRules' of New-CsTenantDialPlan must be an array of objects of New-CsVoiceNormalizationRule parameters.",
    });
    expect(tenant.exportState().voiceRouting?.pstnUsages ?? []).toEqual([]);
    ok(run('Set-CsOnlinePstnUsage', { Identity: 'Global', Usage: { add: ['NL-Local'] } }));
    expect(tenant.exportState().voiceRouting?.pstnUsages).toEqual(['NL-Local']);
  });

  it('refuses a route whose usage is not in the global list or whose gateway is not paired, and a second route of the same name', () => {
    const { run } = tenantWithScope('TenantSetup');
    expect(errorOf(run('New-CsOnlineVoiceRoute', route)).message).toMatch(/^The PSTN usage "NL-Local" is not in the global PSTN usage list/);
    ok(run('Set-CsOnlinePstnUsage', { Identity: 'Global', Usage: { Add: ['NL-Local'] } }));
    expect(errorOf(run('New-CsOnlineVoiceRoute', { ...route, OnlinePstnGatewayList: { Add: ['sbc9.contoso.example'] } })).message).toMatch(
      /^The online PSTN gateway "sbc9.contoso.example" is not configured in this tenant/,
    );
    ok(run('New-CsOnlineVoiceRoute', route));
    expect(errorOf(run('New-CsOnlineVoiceRoute', route)).fullyQualifiedErrorId).toBe('Conflict,New-CsOnlineVoiceRoute');
    ok(run('Set-CsOnlineVoiceRoute', { Identity: 'nl-all', Priority: 3 }));
    expect(ok(run('Get-CsOnlineVoiceRoute'))).toEqual([
      { Identity: 'NL-All', Name: 'NL-All', Priority: 3, Description: null, NumberPattern: '^\\+31\\d+$', OnlinePstnUsages: ['NL-Local'], OnlinePstnGatewayList: ['sbc1.contoso.example'], BridgeSourcePhoneNumber: null },
    ]);
    expect(errorOf(run('Set-CsOnlineVoiceRoute', { Identity: 'Nope', Priority: 3 })).fullyQualifiedErrorId).toBe('NotFound,Set-CsOnlineVoiceRoute');
    expect(errorOf(run('Set-CsOnlinePstnUsage', { Identity: 'Global', Usage: { Add: ['x'] }, Force: true })).message).toBe('Parameter \'Force\' is not allowed for Set-CsOnlinePstnUsage; allowed: Identity, Usage.');
  });

  it('builds dial plan rules from data, and refuses New-CsVoiceNormalizationRule as a request of its own', () => {
    const { run, tenant } = tenantWithScope('TenantSetup');
    ok(run('New-CsTenantDialPlan', { Identity: 'DP-BE', NormalizationRules: [{ Parent: 'DP-BE', Name: 'BE-national', Pattern: '^0(\\d{8})$', Translation: '+32$1' }] }));
    expect(ok(run('Get-CsTenantDialPlan', { Identity: 'DP-BE' }))).toMatchObject([
      { Identity: 'Tag:DP-BE', NormalizationRules: [{ Name: 'BE-national', Pattern: '^0(\\d{8})$', Translation: '+32$1', IsInternalExtension: false, Priority: 0 }] },
    ]);
    expect(errorOf(run('New-CsTenantDialPlan', { Identity: 'DP-X', NormalizationRules: [{ Parent: 'DP-X', Name: 'r', Pattern: '^0(\\d{8}$' }] })).message).toMatch(/Pattern/);
    expect(errorOf(run('New-CsVoiceNormalizationRule', { Parent: 'DP-BE', Name: 'x', InMemory: true })).type).toBe('Dialtone.CmdletNotAllowed');
    // The host splats each rule against New-CsVoiceNormalizationRule's own list, and passes objects only where the source types them so.
    expect(errorOf(run('Set-CsTenantDialPlan', { Identity: 'DP-BE', NormalizationRules: [{ Parent: 'DP-BE', Name: 'r', InMemory: false }] })).type).toBe('Dialtone.ParameterNotAllowed');
    expect(errorOf(run('Set-CsTenantDialPlan', { Identity: { Name: 'DP-BE' }, Description: 'x' })).type).toBe('Dialtone.ProtocolError');
    // A policy that tenant set-up created can be granted by the worker at once.
    expect(tenant.voiceRouting.policies('TenantDialPlan').map((p) => p.identity)).toEqual(['Tag:DP-NL', 'Tag:DP-BE']);
  });

  it('refuses CallingIDSubstitute Service and Resource without a resource account, as Teams now does', () => {
    const { run, tenant } = tenantWithScope('TenantSetup');
    expect(errorOf(run('New-CsCallingLineIdentity', { Identity: 'CLI-Svc', Description: 'SVC', CallingIDSubstitute: 'Service' })).message).toMatch(
      /^CallingIDSubstitute Service is no longer supported/,
    );
    expect(errorOf(run('New-CsCallingLineIdentity', { Identity: 'CLI-Res', Description: 'RES', CallingIDSubstitute: 'Resource' })).message).toMatch(/requires -ResourceAccount/);
    ok(run('New-CsCallingLineIdentity', { Identity: 'CLI-Anon', Description: 'DEPT003', CallingIDSubstitute: 'anonymous', EnableUserOverride: false }));
    expect(tenant.callingLineIdentityCatalog()).toContainEqual({ identity: 'Tag:CLI-Anon', description: 'DEPT003' });
    expect(ok(run('Get-CsCallingLineIdentity', { Identity: 'CLI-Anon' }))).toMatchObject([{ CallingIDSubstitute: 'Anonymous' }]);
  });

  it('keeps the voice routing across a saved state', () => {
    const first = tenantWithScope('TenantSetup');
    ok(first.run('Set-CsOnlinePstnUsage', { Identity: 'Global', Usage: { Add: ['NL-Local'] } }));
    ok(first.run('New-CsOnlineVoiceRoute', route));
    const saved = JSON.parse(JSON.stringify(first.tenant.exportState()));
    const second = tenantWithScope('TenantSetup');
    second.tenant.importState(saved);
    expect(ok(second.run('Get-CsOnlineVoiceRoute'))).toHaveLength(1);
  });
});
