import { writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { dialtone } from '../helpers/cli.js';
import { useTempDir } from '../helpers/temp-dir.js';

const tmp = useTempDir('dialtone-policy-tenant-', 'all');

const policy = `version: 1
defaults:
  enterpriseVoice: true
  policies: { TenantDialPlan: DP-NL, OnlineVoiceRoutingPolicy: VRP-NL }
callingLineIdentity: { byDescription: departmentId }
rules:
  - { name: sales, when: { departmentId: DEPT001 }, numberPool: ams, policies: { CallingLineIdentity: CLI-Sales } }
`;

const tenantVoice = (routeUsage: string, substitute: string) => `version: 1
pstnUsages: [NL-Local, NL-Spare]
voiceRoutes:
  - { name: NL-All, numberPattern: '^\\+31\\d+$', gateways: [sbc1.contoso.example], usages: [${routeUsage}], priority: 1 }
voiceRoutingPolicies:
  - { name: VRP-NL, usages: [NL-Local] }
dialPlans:
  - { name: DP-NL, normalizationRules: [] }
callingLineIdentities:
  - { name: CLI-Sales, description: DEPT001, callingIdSubstitute: ${substitute} }
`;

async function validate(voice: string) {
  await writeFile(tmp('voice-policy.yaml'), policy);
  await writeFile(tmp('tenant-voice.yaml'), voice);
  await writeFile(tmp('numbers.json'), JSON.stringify({ pools: [{ id: 'ams', ranges: [{ from: '+31201234000', to: '+31201234009' }], quarantineDays: 90 }] }));
  return dialtone(['policy', 'validate', tmp('voice-policy.yaml'), '--tenant', tmp('tenant-voice.yaml'), '--numbers', tmp('numbers.json'), '-o', 'json']);
}

describe('dialtone policy validate --tenant tenant-voice.yaml', () => {
  it('passes a policy whose policies the tenant voice file creates and routes', async () => {
    const result = await validate(tenantVoice('NL-Local', 'LineUri'));
    expect(result.code).toBe(0);
    expect(JSON.parse(result.out)).toEqual([]);
  });

  it('names the policies the file lacks, a routing policy no route carries, and a CLI policy Teams refuses', async () => {
    const result = await validate(tenantVoice('NL-Spare', 'Service, serviceNumber: "+31201234999"').replace('DP-NL', 'DP-BE'));
    expect(result.code).toBe(1);
    const findings = JSON.parse(result.out) as { severity: string; path: string; message: string }[];
    expect(findings.map((f) => `${f.severity} ${f.path}`)).toEqual([
      'error defaults.policies.TenantDialPlan',
      'error defaults.policies.OnlineVoiceRoutingPolicy',
      'error rules[0].policies.CallingLineIdentity',
      'warning callingLineIdentity.byDescription',
    ]);
    expect(findings[0]?.message).toMatch(/^the tenant has no TenantDialPlan named 'DP-NL'/);
    expect(findings[1]?.message).toBe(
      "voice routing policy 'VRP-NL' has no voice route in the tenant file: none of its usages (NL-Local) is on a route, so its users' PSTN calls would not be routed",
    );
    expect(findings[2]?.message).toMatch(/^CallingLineIdentity policy 'CLI-Sales': callingIdSubstitute Service is deprecated/);
  });

  it('exits 2 naming the tenant voice file and the field when it is unusable', async () => {
    const result = await validate('version: 1\nvoiceRoutes: [{ name: X }]\n');
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/tenant-voice\.yaml: voiceRoutes\[0\]\.numberPattern: /);
  });
});
