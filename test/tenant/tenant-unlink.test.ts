import { describe, expect, it } from 'vitest';
import type { TenantVoiceActual } from '../../shared/domain/tenant-plan.js';
import { planTenantUnlink, unlinkDryRunReport, unlinkRefusal, unlinkReport } from '../../shared/domain/tenant-unlink.js';
import { TenantVoiceConfigSchema } from '../../shared/domain/tenant-voice.js';

const config = TenantVoiceConfigSchema.parse({
  version: 1,
  pstnUsages: ['NL-Local', 'NL-Shared'],
  voiceRoutes: [{ name: 'NL-All', numberPattern: '^\\+31\\d+$', gateways: ['sbc1.contoso.example'], usages: ['NL-Local', 'NL-Shared'], priority: 1 }],
  voiceRoutingPolicies: [{ name: 'VRP-NL', usages: ['NL-Local'] }],
  dialPlans: [{ name: 'DP-NL', normalizationRules: [{ name: 'NL-national', pattern: '^0(\\d{9})$', translation: '+31$1' }] }],
  callingLineIdentities: [
    { name: 'CLI-Sales', description: 'DEPT001', callingIdSubstitute: 'LineUri' },
    { name: 'CLI-Gone', description: 'DEPT009', callingIdSubstitute: 'Anonymous' },
  ],
});

/** What apply made, plus what somebody else keeps in the same tenant. */
const tenant = (): TenantVoiceActual => ({
  pstnUsages: ['Other-Usage', 'nl-local', 'NL-Shared'],
  voiceRoutes: [
    { name: 'nl-all', numberPattern: '^\\+31\\d+$', gateways: ['sbc1.contoso.example'], usages: ['NL-Local', 'NL-Shared'], priority: 1, description: null },
    { name: 'Legacy', numberPattern: '.*', gateways: ['old.contoso.example'], usages: ['Other-Usage', 'NL-Shared'], priority: 0, description: null },
  ],
  voiceRoutingPolicies: [
    { name: 'VRP-NL', usages: ['NL-Local'], description: null },
    { name: 'VRP-Other', usages: ['Other-Usage'], description: null },
  ],
  dialPlans: [{ name: 'DP-NL', normalizationRules: [], description: null, simpleName: 'DP-NL' }],
  callingLineIdentities: [
    { name: 'CLI-Sales', description: 'DEPT001', callingIdSubstitute: 'LineUri', serviceNumber: null, resourceAccount: null, companyName: null, enableUserOverride: null, blockIncomingPstnCallerId: null },
    { name: 'CLI-Other', description: 'HQ', callingIdSubstitute: 'LineUri', serviceNumber: null, resourceAccount: null, companyName: null, enableUserOverride: null, blockIncomingPstnCallerId: null },
  ],
});

describe('the tenant unlink planner', () => {
  it('removes only what the file names, the reverse of the order apply creates, each usage on its own with @{Remove=…}', () => {
    const plan = planTenantUnlink(config, tenant());
    expect(plan.map((i) => `${i.kind}:${i.identity}:${i.change}`)).toEqual([
      'callingLineIdentity:CLI-Sales:remove',
      'callingLineIdentity:CLI-Gone:absent',
      'dialPlan:DP-NL:remove',
      'voiceRoutingPolicy:VRP-NL:remove',
      'voiceRoute:nl-all:remove',
      'pstnUsage:nl-local:remove',
      'pstnUsage:NL-Shared:kept',
    ]);
    expect(plan.flatMap((i) => i.steps)).toEqual([
      { cmdlet: 'Remove-CsCallingLineIdentity', parameters: { Identity: 'CLI-Sales' } },
      { cmdlet: 'Remove-CsTenantDialPlan', parameters: { Identity: 'DP-NL' } },
      { cmdlet: 'Remove-CsOnlineVoiceRoutingPolicy', parameters: { Identity: 'VRP-NL' } },
      { cmdlet: 'Remove-CsOnlineVoiceRoute', parameters: { Identity: 'nl-all' } },
      { cmdlet: 'Set-CsOnlinePstnUsage', parameters: { Identity: 'Global', Usage: { Remove: ['nl-local'] } } },
    ]);
    // Nothing the file does not name is touched.
    const touched = plan.flatMap((i) => i.steps).map((s) => JSON.stringify(s.parameters));
    for (const other of ['Legacy', 'VRP-Other', 'CLI-Other', 'Other-Usage']) expect(touched.join()).not.toContain(other);
  });

  it('keeps a usage that a route or policy the file does not name still uses, saying which', () => {
    const plan = planTenantUnlink(config, tenant());
    expect(plan.at(-1)).toMatchObject({ change: 'kept', reason: 'still used by voice route Legacy, which the file does not name', steps: [] });
    expect(unlinkDryRunReport(plan).at(-1)).toEqual({ kind: 'pstnUsage', identity: 'NL-Shared', status: 'kept', detail: 'would keep: still used by voice route Legacy, which the file does not name' });
  });

  it('has nothing to remove from a tenant that holds none of it', () => {
    const plan = planTenantUnlink(config, { pstnUsages: [], voiceRoutes: [], voiceRoutingPolicies: [], dialPlans: [], callingLineIdentities: [] });
    expect(plan.every((i) => i.change === 'absent' && i.steps.length === 0)).toBe(true);
    expect(unlinkDryRunReport(plan)[0]).toEqual({ kind: 'callingLineIdentity', identity: 'CLI-Sales', status: 'not_found', detail: 'the tenant has no CallingLineIdentity policy CLI-Sales; nothing to remove' });
  });

  it('reports a failed cmdlet, and an item still there when read back, as failed', () => {
    const plan = planTenantUnlink(config, tenant());
    const failures = new Map([[plan[0]!, 'Remove-CsCallingLineIdentity failed: boom']]);
    const after = planTenantUnlink(config, { ...tenant(), callingLineIdentities: [], voiceRoutingPolicies: [], voiceRoutes: tenant().voiceRoutes.slice(1), pstnUsages: ['Other-Usage', 'NL-Shared'] });
    const report = unlinkReport(plan, failures, after);
    expect(report.map((r) => `${r.identity}=${r.status}`)).toEqual(['CLI-Sales=failed', 'CLI-Gone=not_found', 'DP-NL=failed', 'VRP-NL=removed', 'nl-all=removed', 'nl-local=removed', 'NL-Shared=kept']);
    expect(report[0]!.detail).toBe('Remove-CsCallingLineIdentity failed: boom');
    expect(report[2]!.detail).toBe('still in the tenant after Remove-CsTenantDialPlan');
  });

  it('refuses while anyone holds or is being given a Dialtone number', () => {
    expect(unlinkRefusal([])).toBeUndefined();
    expect(
      unlinkRefusal([
        { number: '+31201234000', pool: 'AMS', state: 'assigned', userId: 'u1' },
        { number: '+31201234001', pool: 'AMS', state: 'assigned', userId: 'u1' },
        { number: '+31101234500', pool: 'RTM', state: 'reserved', userId: 'u2' },
      ]),
    ).toBe(
      "refused: 2 people hold a Dialtone number (3 numbers assigned or reserved); move them off Dialtone's numbers (leavers, or dialtone numbers release) and run unlink again. Nothing was removed.",
    );
  });
});
