import { describe, expect, it } from 'vitest';
import { dryRunReport, normaliseTenantVoice, planTenantVoice, statusReport, type TenantVoiceActual } from '../../shared/domain/tenant-plan.js';
import { TenantVoiceConfigSchema, type TenantVoiceConfig } from '../../shared/domain/tenant-voice.js';

const desired = (overrides: Partial<TenantVoiceConfig> = {}): TenantVoiceConfig =>
  TenantVoiceConfigSchema.parse({
    version: 1,
    pstnUsages: ['NL-Local'],
    voiceRoutes: [{ name: 'NL-All', numberPattern: '^\\+31\\d+$', gateways: ['sbc1.contoso.example'], usages: ['NL-Local'], priority: 1 }],
    voiceRoutingPolicies: [{ name: 'VRP-NL', usages: ['NL-Local'] }],
    dialPlans: [{ name: 'DP-NL', normalizationRules: [{ name: 'NL-national', pattern: '^0(\\d{9})$', translation: '+31$1' }] }],
    callingLineIdentities: [{ name: 'CLI-Sales', description: 'DEPT001', callingIdSubstitute: 'LineUri' }],
    ...overrides,
  });

const empty = (): TenantVoiceActual => ({ pstnUsages: [], voiceRoutes: [], voiceRoutingPolicies: [], dialPlans: [], callingLineIdentities: [] });

/** The tenant exactly as the file wants it, plus things the file does not own. */
const inStep = (): TenantVoiceActual => ({
  pstnUsages: ['Other-Usage', 'nl-local'],
  voiceRoutes: [
    { name: 'nl-all', numberPattern: '^\\+31\\d+$', gateways: ['SBC1.contoso.example'], usages: ['NL-Local'], priority: 1, description: null },
    { name: 'Legacy', numberPattern: '.*', gateways: ['old.contoso.example'], usages: ['Other-Usage'], priority: 0, description: null },
  ],
  voiceRoutingPolicies: [{ name: 'VRP-NL', usages: ['NL-Local'], description: 'kept by hand' }],
  dialPlans: [{ name: 'DP-NL', normalizationRules: [{ name: 'NL-national', pattern: '^0(\\d{9})$', translation: '+31$1', isInternalExtension: false, description: null }], description: null, simpleName: 'DP-NL' }],
  callingLineIdentities: [
    { name: 'CLI-Sales', description: 'DEPT001', callingIdSubstitute: 'LineUri', serviceNumber: null, resourceAccount: null, companyName: 'Contoso', enableUserOverride: true, blockIncomingPstnCallerId: false },
  ],
});

describe('the tenant set-up planner', () => {
  it('creates everything on an empty tenant, usages first, adding each usage with @{Add=…} only', () => {
    const plan = planTenantVoice(desired(), empty());
    expect(plan.map((i) => `${i.kind}:${i.identity}:${i.change}`)).toEqual([
      'pstnUsage:NL-Local:create',
      'voiceRoute:NL-All:create',
      'voiceRoutingPolicy:VRP-NL:create',
      'dialPlan:DP-NL:create',
      'callingLineIdentity:CLI-Sales:create',
    ]);
    expect(plan[0]?.steps).toEqual([{ cmdlet: 'Set-CsOnlinePstnUsage', parameters: { Identity: 'Global', Usage: { Add: ['NL-Local'] } } }]);
    expect(plan[1]?.steps).toEqual([
      {
        cmdlet: 'New-CsOnlineVoiceRoute',
        parameters: { Identity: 'NL-All', NumberPattern: '^\\+31\\d+$', OnlinePstnGatewayList: { Add: ['sbc1.contoso.example'] }, OnlinePstnUsages: { Add: ['NL-Local'] }, Priority: 1 },
      },
    ]);
    expect(plan[1]?.needsUsages).toEqual(['NL-Local']);
    expect(plan[3]?.steps[0]?.parameters).toEqual({
      Identity: 'DP-NL',
      NormalizationRules: [{ Parent: 'DP-NL', Name: 'NL-national', Pattern: '^0(\\d{9})$', Translation: '+31$1' }],
    });
    expect(plan[4]?.steps[0]).toEqual({ cmdlet: 'New-CsCallingLineIdentity', parameters: { Identity: 'CLI-Sales', Description: 'DEPT001', CallingIDSubstitute: 'LineUri' } });
  });

  it('plans nothing when the tenant matches, names compared case-insensitively, settings the file leaves out untouched, and nothing it does not own removed', () => {
    const plan = planTenantVoice(desired(), inStep());
    expect(plan.map((i) => i.change)).toEqual(['none', 'none', 'none', 'none', 'none']);
    expect(plan.flatMap((i) => i.steps)).toEqual([]);
    expect(statusReport(plan).map((r) => r.status)).toEqual(['already_exists', 'already_exists', 'already_exists', 'already_exists', 'already_exists']);
  });

  it('updates only the fields that differ, and sets a route list by Replace on that route alone', () => {
    const actual = inStep();
    actual.voiceRoutes[0]!.priority = 4;
    actual.voiceRoutes[0]!.gateways = ['sbc2.contoso.example'];
    const plan = planTenantVoice(desired(), actual);
    expect(plan[1]).toMatchObject({
      change: 'update',
      differences: ['gateways: [sbc2.contoso.example] → [sbc1.contoso.example]', 'priority: 4 → 1'],
      steps: [{ cmdlet: 'Set-CsOnlineVoiceRoute', parameters: { Identity: 'nl-all', OnlinePstnGatewayList: { Replace: ['sbc1.contoso.example'] }, Priority: 1 } }],
    });
    expect(statusReport(plan)[1]).toEqual({ kind: 'voiceRoute', identity: 'NL-All', status: 'drifted', detail: 'gateways: [sbc2.contoso.example] → [sbc1.contoso.example]; priority: 4 → 1' });
    expect(dryRunReport(plan)[1]?.detail).toBe('would update (gateways: [sbc2.contoso.example] → [sbc1.contoso.example]; priority: 4 → 1) with Set-CsOnlineVoiceRoute');
  });

  it("treats a routing policy's usage order and a dial plan's rule order as meaningful", () => {
    const config = desired({ pstnUsages: ['NL-Local', 'NL-Mobile'], voiceRoutingPolicies: [{ name: 'VRP-NL', usages: ['NL-Local', 'NL-Mobile'] }] });
    const actual = inStep();
    actual.pstnUsages.push('NL-Mobile');
    actual.voiceRoutingPolicies[0]!.usages = ['NL-Mobile', 'NL-Local'];
    const plan = planTenantVoice(config, actual);
    expect(plan.find((i) => i.kind === 'voiceRoutingPolicy')?.steps).toEqual([
      { cmdlet: 'Set-CsOnlineVoiceRoutingPolicy', parameters: { Identity: 'VRP-NL', OnlinePstnUsages: { Replace: ['NL-Local', 'NL-Mobile'] } } },
    ]);
    actual.dialPlans[0]!.normalizationRules[0]!.translation = '+310$1';
    const dial = planTenantVoice(config, actual).find((i) => i.kind === 'dialPlan');
    expect(dial?.differences).toEqual(['normalizationRules: [NL-national ^0(\\d{9})$ → +310$1] → [NL-national ^0(\\d{9})$ → +31$1]']);
    expect(dial?.steps[0]?.cmdlet).toBe('Set-CsTenantDialPlan');
  });

  it('refuses callingIdSubstitute Service before any cmdlet, saying what to use instead', () => {
    const plan = planTenantVoice(desired({ callingLineIdentities: [{ name: 'CLI-Sales', description: 'DEPT001', callingIdSubstitute: 'Service', serviceNumber: '+31201234999' }] }), empty());
    expect(plan[4]).toMatchObject({ change: 'refused', steps: [] });
    expect(statusReport(plan)[4]?.status).toBe('failed');
    expect(statusReport(plan)[4]?.detail).toMatch(/^callingIdSubstitute Service is deprecated: .* use callingIdSubstitute Resource with resourceAccount/);
  });

  it('updates a CLI policy setting the file states, compared with what Teams shows', () => {
    const actual = inStep();
    actual.callingLineIdentities[0]!.description = 'DEPT009';
    const plan = planTenantVoice(desired(), actual);
    expect(plan[4]?.steps).toEqual([{ cmdlet: 'Set-CsCallingLineIdentity', parameters: { Identity: 'CLI-Sales', Description: 'DEPT001' } }]);
  });
});

describe('reading the tenant', () => {
  it('normalises the Get-Cs* output: Tag: prefixes off, Global entries left out, single objects as lists', () => {
    const actual = normaliseTenantVoice({
      pstnUsages: { Identity: 'Global', Usage: ['NL-Local'] },
      voiceRoutes: { Identity: 'NL-All', NumberPattern: '^\\+31', OnlinePstnGatewayList: ['sbc1.contoso.example'], OnlinePstnUsages: ['NL-Local'], Priority: 0, Description: null },
      voiceRoutingPolicies: [{ Identity: 'Global', OnlinePstnUsages: [] }, { Identity: 'Tag:VRP-NL', OnlinePstnUsages: ['NL-Local'], Description: null }],
      dialPlans: [{ Identity: 'Tag:DP-NL', NormalizationRules: [{ Name: 'r', Pattern: '^1$', Translation: '+1', IsInternalExtension: false }] }],
      callingLineIdentities: [{ Identity: 'Global' }, { Identity: 'Tag:CLI-Sales', Description: 'DEPT001', CallingIDSubstitute: 'LineUri', EnableUserOverride: false }],
    });
    expect(actual.voiceRoutes.map((r) => r.name)).toEqual(['NL-All']);
    expect(actual.voiceRoutingPolicies.map((p) => p.name)).toEqual(['VRP-NL']);
    expect(actual.dialPlans[0]?.normalizationRules[0]).toEqual({ name: 'r', pattern: '^1$', translation: '+1', isInternalExtension: false, description: null });
    expect(actual.callingLineIdentities).toHaveLength(1);
  });

  it('names the cmdlet whose output it does not recognise', () => {
    expect(() => normaliseTenantVoice({ pstnUsages: [], voiceRoutes: [{ Priority: 1 }], voiceRoutingPolicies: [], dialPlans: [], callingLineIdentities: [] })).toThrow(
      /^unexpected Get-CsOnlineVoiceRoute output: 0\.Identity/,
    );
  });
});
