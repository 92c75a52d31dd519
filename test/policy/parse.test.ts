import { describe, expect, it } from 'vitest';
import { isDialtoneError } from '../../shared/domain/errors.js';
import { parseVoicePolicy } from '../../shared/domain/policy.js';

function parseError(text: string, format: 'yaml' | 'json' = 'yaml', source = 'voice-policy.yaml'): { code: string; message: string } {
  try {
    parseVoicePolicy(text, format, source);
  } catch (error) {
    if (isDialtoneError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected the policy to be rejected');
}

describe('parseVoicePolicy', () => {
  it('fills the defaults and normalises single patterns to lists', () => {
    expect(parseVoicePolicy('version: 1\nrules:\n  - { name: ams, when: { site: AMS }, numberPool: ams }\n', 'yaml', 'p.yaml')).toEqual({
      version: 1,
      defaults: { voice: true, enterpriseVoice: true },
      rules: [{ name: 'ams', when: { site: ['AMS'] }, numberPool: 'ams' }],
    });
  });

  it('reads a JSON policy file', () => {
    const json = JSON.stringify({
      version: 1,
      defaults: { policies: { TenantDialPlan: 'DP-NL' } },
      callingLineIdentity: { byDescription: 'departmentId' },
      rules: [{ name: 'rtm', when: { site: ['RTM', 'RTM-*'] }, numberPool: 'rtm' }],
    });
    expect(parseVoicePolicy(json, 'json', 'voice-policy.json')).toEqual({
      version: 1,
      defaults: { voice: true, enterpriseVoice: true, policies: { TenantDialPlan: 'DP-NL' } },
      callingLineIdentity: { byDescription: 'departmentId' },
      rules: [{ name: 'rtm', when: { site: ['RTM', 'RTM-*'] }, numberPool: 'rtm' }],
    });
  });

  it('rejects a when value that is not a string or a list of strings, naming the field path', () => {
    const text = `
version: 1
rules:
  - { name: a, when: { site: AMS } }
  - { name: b, when: { site: RTM } }
  - { name: c, when: { site: { code: UTR } } }
`;
    expect(parseError(text)).toEqual({ code: 'PolicyInvalid', message: 'voice-policy.yaml: rules[2].when.site: expected string or list of strings' });
  });

  it('rejects a list pattern that holds a number', () => {
    expect(parseError('version: 1\nrules:\n  - { name: a, when: { costCenter: [4100, "42*"] } }\n').message).toBe(
      'voice-policy.yaml: rules[0].when.costCenter: expected string or list of strings',
    );
  });

  it('rejects an empty pattern', () => {
    expect(parseError('version: 1\nrules:\n  - { name: a, when: { site: "" } }\n').message).toBe(
      'voice-policy.yaml: rules[0].when.site: expected a non-empty pattern (use "*" for any value)',
    );
  });

  it('rejects a rule with nothing to match', () => {
    expect(parseError('version: 1\nrules:\n  - { name: everyone, when: {}, numberPool: main }\n').message).toBe(
      'voice-policy.yaml: rules[0].when: list at least one attribute to match (put settings for everyone in defaults)',
    );
  });

  it('rejects an unknown field with its path and suggests the field meant', () => {
    expect(parseError('version: 1\nrules:\n  - { name: a, when: { site: AMS }, numberpool: ams }\n').message).toBe(
      "voice-policy.yaml: rules[0].numberpool: unknown field; did you mean 'numberPool'?",
    );
  });

  it('rejects an unknown top-level field', () => {
    expect(parseError('version: 1\nrules: []\ncolour: blue\n').message).toBe('voice-policy.yaml: colour: unknown field');
  });

  it('rejects an unknown policy type with a suggestion', () => {
    expect(parseError('version: 1\ndefaults: { policies: { TenantDialplan: DP-NL } }\nrules: []\n').message).toBe(
      "voice-policy.yaml: defaults.policies.TenantDialplan: unknown field; did you mean 'TenantDialPlan'?",
    );
  });

  it("rejects a policy name written with 'Tag:'", () => {
    expect(parseError('version: 1\nrules:\n  - { name: a, when: { site: AMS }, policies: { CallingLineIdentity: "Tag:CLI-Sales" } }\n').message).toBe(
      "voice-policy.yaml: rules[0].policies.CallingLineIdentity: write the policy name without 'Tag:' (CLI-Sales, not Tag:CLI-Sales)",
    );
  });

  it('rejects a duplicate rule name, ignoring case', () => {
    const text = 'version: 1\nrules:\n  - { name: ams, when: { site: AMS } }\n  - { name: rtm, when: { site: RTM } }\n  - { name: AMS, when: { site: AMS-2 } }\n';
    expect(parseError(text).message).toBe("voice-policy.yaml: rules[2].name: duplicate rule name 'AMS' (also rules[0].name)");
  });

  it('rejects another version', () => {
    expect(parseError('version: 2\nrules: []\n').message).toBe('voice-policy.yaml: version: expected 1 (the only version of the policy file format)');
  });

  it('rejects a file without rules', () => {
    expect(parseError('version: 1\n').message).toBe('voice-policy.yaml: rules: expected a list of rules');
  });

  it('rejects an empty file', () => {
    expect(parseError('  \n').message).toBe('voice-policy.yaml: the file is empty; expected version, defaults and rules');
  });

  it('lists every problem, each with its path', () => {
    expect(parseError('version: 1\nrules:\n  - { name: a, when: { site: 5 }, voice: "no" }\n').message).toBe(
      'voice-policy.yaml: rules[0].when.site: expected string or list of strings; rules[0].voice: expected boolean, received string',
    );
  });

  it('gives the line and column of a YAML syntax error', () => {
    expect(parseError('version: 1\nrules:\n  - name: a\n   when: { site: AMS }\n').message).toBe(
      'voice-policy.yaml: YAML syntax error at line 4, column 1: Sequence item without - indicator',
    );
  });

  it('rejects a YAML key given twice', () => {
    expect(parseError('version: 1\nrules: []\nrules: []\n').message).toBe(
      'voice-policy.yaml: YAML syntax error at line 3, column 1: Map keys must be unique',
    );
  });

  it('gives the line and column of a JSON syntax error', () => {
    expect(parseError('{\n  "version": 1,\n  "rules": [],\n}\n', 'json', 'voice-policy.json').message).toBe(
      'voice-policy.json: JSON syntax error at line 4, column 1: Expected double-quoted property name',
    );
  });

  it('rejects a CallingLineIdentity default next to byDescription', () => {
    const text = 'version: 1\ndefaults: { policies: { CallingLineIdentity: CLI-Main } }\ncallingLineIdentity: { byDescription: departmentId }\nrules: []\n';
    expect(parseError(text).message).toBe(
      'voice-policy.yaml: defaults.policies.CallingLineIdentity: cannot be combined with callingLineIdentity.byDescription, which chooses the policy per person; name it in a rule to override the lookup',
    );
  });

  it('rejects a policy type that managedPolicies leaves out', () => {
    const text = 'version: 1\nmanagedPolicies: [TenantDialPlan]\nrules:\n  - { name: a, when: { site: AMS }, policies: { TeamsCallingPolicy: TCP } }\n';
    expect(parseError(text).message).toBe(
      'voice-policy.yaml: rules[0].policies.TeamsCallingPolicy: TeamsCallingPolicy is not in managedPolicies; add it there or remove this setting',
    );
  });

  it('rejects byDescription when managedPolicies leaves out CallingLineIdentity', () => {
    const text = 'version: 1\nmanagedPolicies: [TenantDialPlan]\ncallingLineIdentity: { byDescription: departmentId }\nrules: []\n';
    expect(parseError(text).message).toBe(
      'voice-policy.yaml: callingLineIdentity.byDescription: CallingLineIdentity is not in managedPolicies; add it there or remove callingLineIdentity',
    );
  });

  it('rejects an unknown type in managedPolicies', () => {
    expect(parseError('version: 1\nmanagedPolicies: [DialPlan]\nrules: []\n').message).toBe(
      'voice-policy.yaml: managedPolicies[0]: expected one of CallingLineIdentity, OnlineVoiceRoutingPolicy, TenantDialPlan, TeamsCallingPolicy, OnlineVoicemailPolicy, TeamsEmergencyCallRoutingPolicy',
    );
  });
});
