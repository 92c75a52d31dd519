import { describe, expect, it } from 'vitest';
import { parseTenantVoiceConfig } from '../../shared/domain/tenant-voice.js';

// The file format of the design contract ("Contracts added in turn 2"), verbatim.
const contractExample = `version: 1
pstnUsages: [NL-Local]
voiceRoutes:
  - { name: NL-All, numberPattern: '^\\+31\\d+$', gateways: [sbc1.contoso.example], usages: [NL-Local], priority: 1 }
voiceRoutingPolicies:
  - { name: VRP-NL, usages: [NL-Local] }
dialPlans:
  - name: DP-NL
    normalizationRules: [{ name: NL-national, pattern: '^0(\\d{9})$', translation: '+31$1' }]
callingLineIdentities:
  - { name: CLI-Sales, description: DEPT001, callingIdSubstitute: Service, serviceNumber: '+31201234999' }
`;

const parse = (text: string, format: 'yaml' | 'json' = 'yaml') => parseTenantVoiceConfig(text, format, 'tenant-voice.yaml');
const problem = (text: string, format: 'yaml' | 'json' = 'yaml') => {
  try {
    parse(text, format);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the file to be refused');
};

describe('the tenant voice file', () => {
  it('reads the design contract example, YAML or JSON alike', () => {
    const config = parse(contractExample);
    expect(config.voiceRoutes[0]).toEqual({ name: 'NL-All', numberPattern: '^\\+31\\d+$', gateways: ['sbc1.contoso.example'], usages: ['NL-Local'], priority: 1 });
    expect(config.dialPlans[0]?.normalizationRules[0]).toEqual({ name: 'NL-national', pattern: '^0(\\d{9})$', translation: '+31$1' });
    expect(config.callingLineIdentities[0]).toMatchObject({ callingIdSubstitute: 'Service', serviceNumber: '+31201234999' });
    expect(parse(JSON.stringify(config), 'json')).toEqual(config);
  });

  it('treats missing sections as empty lists', () => {
    expect(parse('version: 1\n')).toEqual({ version: 1, pstnUsages: [], voiceRoutes: [], voiceRoutingPolicies: [], dialPlans: [], callingLineIdentities: [] });
  });

  it('names the file and the field of every problem', () => {
    expect(problem(contractExample.replace('priority: 1', 'priority: -1'))).toBe('tenant-voice.yaml: voiceRoutes[0].priority: expected a priority from 0 to 1000 (0 first)');
    expect(problem(contractExample.replace('gateways: [sbc1.contoso.example]', 'gateways: [not a host]'))).toBe(
      'tenant-voice.yaml: voiceRoutes[0].gateways[0]: expected an SBC FQDN such as sbc1.contoso.com',
    );
    expect(problem(contractExample.replace("pattern: '^0(\\d{9})$'", () => "pattern: '^0(\\d{9}$'"))).toMatch(
      /^tenant-voice\.yaml: dialPlans\[0\]\.normalizationRules\[0\]\.pattern: not a valid regular expression/,
    );
    expect(problem('version: 2\n')).toBe('tenant-voice.yaml: version: expected version: 1');
    expect(problem('version: 1\nvoiceRoute: []\n')).toMatch(/^tenant-voice\.yaml: voiceRoute: unknown field/);
    expect(problem('')).toBe('tenant-voice.yaml: the file is empty; expected version: 1 and the voice routing to keep');
    expect(problem('version: 1\npstnUsages: [a, a]\nversion: 1\n')).toMatch(/^tenant-voice\.yaml: YAML syntax error at line 3/);
    expect(problem('{\n  "version": 1,\n}\n', 'json')).toMatch(/^tenant-voice\.yaml: JSON syntax error at line 3, column 1: /);
  });

  it('refuses a route or policy whose usage the file does not declare', () => {
    expect(problem(contractExample.replace('usages: [NL-Local] }\ndialPlans', 'usages: [NL-Mobile] }\ndialPlans'))).toBe(
      'tenant-voice.yaml: voiceRoutingPolicies[0].usages[0]: PSTN usage NL-Mobile is not in pstnUsages',
    );
  });

  it('refuses duplicates: names, route priorities and CLI descriptions (Dialtone finds a CLI policy by it)', () => {
    const twoRoutes = contractExample.replace(
      'voiceRoutingPolicies:',
      () => "  - { name: NL-All, numberPattern: '^\\+31\\d+$', gateways: [sbc1.contoso.example], usages: [NL-Local], priority: 1 }\nvoiceRoutingPolicies:",
    );
    expect(problem(twoRoutes)).toBe('tenant-voice.yaml: voiceRoutes[1].name: NL-All is listed twice; voiceRoutes[1].priority: priority 1 is already used by NL-All');
    const twoClis = contractExample.replace(
      "callingIdSubstitute: Service, serviceNumber: '+31201234999' }",
      "callingIdSubstitute: LineUri }\n  - { name: CLI-Other, description: DEPT001 }",
    );
    expect(problem(twoClis)).toBe('tenant-voice.yaml: callingLineIdentities[1].description: description DEPT001 is already used by CLI-Sales');
  });

  it('refuses Resource without a resource account, Global as a name, and a name Teams would not take', () => {
    expect(problem('version: 1\ncallingLineIdentities: [{ name: CLI-Main, description: MAIN, callingIdSubstitute: Resource }]\n')).toBe(
      'tenant-voice.yaml: callingLineIdentities[0].resourceAccount: callingIdSubstitute Resource needs resourceAccount (the resource account object id)',
    );
    expect(problem('version: 1\ndialPlans: [{ name: Global, normalizationRules: [] }]\n')).toBe('tenant-voice.yaml: dialPlans[0].name: a dial plan name cannot be Global or start with Tag:');
    expect(problem('version: 1\ndialPlans: [{ name: "DP/NL", normalizationRules: [] }]\n')).toMatch(/^tenant-voice\.yaml: dialPlans\[0\]\.name: expected a dial plan name of 1-64/);
  });

  it('bounds the lists: 50 rules per dial plan', () => {
    const rules = Array.from({ length: 51 }, (_, i) => ({ name: `r${i}`, pattern: '^(\\d+)$', translation: '+$1' }));
    expect(problem(JSON.stringify({ version: 1, dialPlans: [{ name: 'DP', normalizationRules: rules }] }), 'json')).toBe(
      'tenant-voice.yaml: dialPlans[0].normalizationRules: a tenant dial plan holds at most 50 normalization rules',
    );
  });
});
