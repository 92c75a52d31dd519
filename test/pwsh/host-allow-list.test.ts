import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { allowedCmdlets, tenantSetupCmdlets } from '../../sandbox/teams-sim/allow-list.js';
import { planTenantVoice } from '../../shared/domain/tenant-plan.js';
import { TenantVoiceConfigSchema } from '../../shared/domain/tenant-voice.js';
import { planSteps } from '../../shared/domain/voice-diff.js';
import { policyTypes, type ActualVoiceState, type DesiredVoiceState } from '../../shared/domain/voice-state.js';
import { hostParameterNames, moduleCmdlets } from '../../shared/teams/module-cmdlets.js';

// host.ps1 itself runs under tools/pscheck (scripts/check-pwsh.sh, needs dotnet); this test needs
// only Node and keeps its allow-list in step with the protocol doc, the simulator and the worker.
const hostScript = readFileSync(new URL('../../worker/pwsh/host.ps1', import.meta.url), 'utf8');
const protocolDoc = readFileSync(new URL('../../docs/PWSH-PROTOCOL.md', import.meta.url), 'utf8');

interface Entry {
  key: string;
  name: string;
  parameters: string[];
}

function hostAllowList(): Entry[] {
  const entry = /^\s*'([\w-]+)'\s*=\s*@\{\s*Name\s*=\s*'([\w-]+)';\s*Parameters\s*=\s*@\(([^)]*)\)/gm;
  return [...hostScript.matchAll(entry)].map(([, key = '', name = '', list = '']) => ({
    key,
    name,
    parameters: [...list.matchAll(/'(\w+)'/g)].map(([, parameter = '']) => parameter),
  }));
}

function documentedCmdlets(): string[] {
  const section = protocolDoc.split(/^## Allow-list$/m)[1]?.split(/^## /m)[0] ?? '';
  return [...section.matchAll(/\b[A-Z][a-z]+-[A-Za-z]+\b/g)].map(([name]) => name);
}

const allowList = hostAllowList();
const byName = new Map(allowList.map((e) => [e.name, e]));

const desired = (overrides: Partial<DesiredVoiceState> = {}): DesiredVoiceState => ({
  enterpriseVoiceEnabled: true,
  phoneNumber: '+31201234001',
  phoneNumberType: 'DirectRouting',
  policies: Object.fromEntries(policyTypes.map((type) => [type, `${type}-NL`])),
  ...overrides,
});

const actual = (overrides: Partial<ActualVoiceState> = {}): ActualVoiceState => ({
  enterpriseVoiceEnabled: false,
  phoneNumber: '+31201234999',
  phoneSystemLicensed: true,
  policies: {},
  ...overrides,
});

describe('host.ps1 allow-list', () => {
  it('names every entry by its own key', () => {
    expect(allowList.length).toBeGreaterThan(0);
    expect(allowList.filter((e) => e.key !== e.name)).toEqual([]);
  });

  it('holds exactly the cmdlets docs/PWSH-PROTOCOL.md lists', () => {
    expect(allowList.map((e) => e.name).sort()).toEqual(documentedCmdlets().sort());
  });

  it("holds exactly the Teams simulator stand-in's cmdlets, Exit aside", () => {
    expect(allowList.map((e) => e.name).sort()).toEqual(allowedCmdlets.filter((c) => c !== 'Exit').sort());
  });

  it('allows every cmdlet and parameter of the steps the worker plans', () => {
    const steps = [
      ...planSteps(desired(), actual(), 'user-1'),
      ...planSteps(desired({ phoneNumber: null, enterpriseVoiceEnabled: true }), actual({ enterpriseVoiceEnabled: true }), 'user-1'),
      ...planSteps(desired({ enterpriseVoiceEnabled: false }), actual({ phoneNumber: '+31201234001', enterpriseVoiceEnabled: true }), 'user-1'),
    ];
    const refused = steps.flatMap((step) => {
      const allowed = byName.get(step.cmdlet)?.parameters;
      if (!allowed) return [step.cmdlet];
      return Object.keys(step.parameters).filter((p) => !allowed.includes(p)).map((p) => `${step.cmdlet} -${p}`);
    });
    expect(new Set(steps.map((s) => s.cmdlet)).size).toBe(2 + policyTypes.length);
    expect(refused).toEqual([]);
  });

  it("allows the worker's reads: the user, and number assignments by user or by number", () => {
    expect(byName.get('Get-CsOnlineUser')?.parameters).toContain('Identity');
    expect(byName.get('Get-CsPhoneNumberAssignment')?.parameters).toEqual(expect.arrayContaining(['AssignedPstnTargetId', 'TelephoneNumber', 'Top', 'Skip']));
  });

  it('puts exactly the tenant set-up cmdlets in the TenantSetup scope, as the Teams simulator does', () => {
    const scoped = [...hostScript.matchAll(/^\s*'([\w-]+)'\s*=\s*@\{[^\n]*Scope = 'TenantSetup'/gm)].map(([, name = '']) => name);
    expect(scoped.sort()).toEqual([...tenantSetupCmdlets].sort());
  });

  it('allows every cmdlet and parameter of the steps tenant set-up plans', () => {
    const config = TenantVoiceConfigSchema.parse({
      version: 1,
      pstnUsages: ['NL-Local'],
      voiceRoutes: [{ name: 'NL-All', numberPattern: '^\\+31', gateways: ['sbc1.contoso.example'], usages: ['NL-Local'], priority: 1, description: 'd' }],
      voiceRoutingPolicies: [{ name: 'VRP-NL', usages: ['NL-Local'], description: 'd' }],
      dialPlans: [{ name: 'DP-NL', description: 'd', simpleName: 's', normalizationRules: [{ name: 'r', pattern: '^0(\\d+)$', translation: '+31$1', isInternalExtension: true, description: 'd' }] }],
      callingLineIdentities: [
        { name: 'CLI-A', description: 'A', callingIdSubstitute: 'Resource', resourceAccount: '00000000-0000-4000-8000-000000000001', companyName: 'C', enableUserOverride: true, blockIncomingPstnCallerId: true },
      ],
    });
    const empty = { pstnUsages: [], voiceRoutes: [], voiceRoutingPolicies: [], dialPlans: [], callingLineIdentities: [] };
    const created = planTenantVoice(config, empty);
    const steps = [...created.flatMap((i) => i.steps)];
    const rules = steps.flatMap((s) => (s.parameters['NormalizationRules'] as Record<string, unknown>[] | undefined) ?? []);
    const refused = [...steps, ...rules.map((r) => ({ cmdlet: 'New-CsVoiceNormalizationRule', parameters: r }))].flatMap((step) => {
      const allowed = byName.get(step.cmdlet)?.parameters;
      if (!allowed) return [step.cmdlet];
      return Object.keys(step.parameters).filter((p) => !allowed.includes(p)).map((p) => `${step.cmdlet} -${p}`);
    });
    expect(rules).toHaveLength(1);
    expect(refused).toEqual([]);
  });
});

describe('host.ps1 and shared/teams/module-cmdlets.json', () => {
  it('allow the same cmdlets', () => {
    expect(allowList.map((e) => e.name).sort()).toEqual(Object.keys(moduleCmdlets.cmdlets).sort());
  });

  it('allow, per cmdlet, exactly the spellings the JSON lets a request carry', () => {
    const drift = allowList.filter((e) => JSON.stringify([...e.parameters].sort()) !== JSON.stringify(hostParameterNames(e.name).sort()));
    expect(drift.map((e) => ({ cmdlet: e.name, host: e.parameters, json: hostParameterNames(e.name) }))).toEqual([]);
  });

  it('mark RequireIdentity exactly on the cmdlets the JSON says need an Identity', () => {
    const marked = [...hostScript.matchAll(/^\s*'([\w-]+)'\s*=\s*@\{[^\n]*RequireIdentity = \$true/gm)].map(([, name]) => name).sort();
    const required = Object.entries(moduleCmdlets.cmdlets).filter(([, d]) => d.requireIdentity).map(([n]) => n).sort();
    expect(marked).toEqual(required);
    expect(required).toEqual(expect.arrayContaining(policyTypes.map((t) => `Grant-Cs${t}`)));
  });

  it('let an object through exactly where the JSON types the parameter hashtable (Hashtable) or hashtable[] (Build, with its builder)', () => {
    const declared = (key: 'Hashtable' | 'Build'): string[] =>
      [...hostScript.matchAll(new RegExp(`^\\s*'([\\w-]+)'\\s*=\\s*@\\{[^\\n]*; ${key} = @[({]([^)}]*)[)}]`, 'gm'))].flatMap(([, cmdlet = '', list = '']) =>
        key === 'Hashtable'
          ? [...list.matchAll(/'(\w+)'/g)].map(([, p = '']) => `${cmdlet} -${p}`)
          : [...list.matchAll(/(\w+) = '([\w-]+)'/g)].map(([, p = '', builder = '']) => `${cmdlet} -${p} ${builder}`),
      );
    const typed = (type: 'hashtable' | 'hashtable[]'): string[] =>
      Object.entries(moduleCmdlets.cmdlets).flatMap(([cmdlet, d]) =>
        d.parameters.filter((p) => p.type === type && p.host !== false).map((p) => `${cmdlet} -${p.name}${p.builder !== undefined ? ` ${p.builder}` : ''}`),
      );
    expect(declared('Hashtable').sort()).toEqual(typed('hashtable').sort());
    expect(declared('Build').sort()).toEqual(typed('hashtable[]').sort());
    expect(typed('hashtable')).toContain('Set-CsOnlinePstnUsage -Usage');
    expect(typed('hashtable[]')).toEqual(['New-CsTenantDialPlan -NormalizationRules New-CsVoiceNormalizationRule', 'Set-CsTenantDialPlan -NormalizationRules New-CsVoiceNormalizationRule']);
  });
});
