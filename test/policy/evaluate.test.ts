import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { evaluatePolicy, managedPolicyTypes, mergeAttributes, parseVoicePolicy, type PolicyCatalogSnapshot } from '../../shared/domain/policy.js';

const example = parseVoicePolicy(
  readFileSync(new URL('../fixtures/voice-policy.example.yaml', import.meta.url), 'utf8'),
  'yaml',
  'voice-policy.example.yaml',
);

const catalog: PolicyCatalogSnapshot = {
  callingLineIdentities: [
    { identity: 'Global', description: null },
    { identity: 'Tag:CLI-Sales', description: 'DEPT001' },
    { identity: 'Tag:CLI-Support', description: 'DEPT002' },
  ],
};

function policy(yaml: string) {
  return parseVoicePolicy(yaml, 'yaml', 'test.yaml');
}

describe('evaluatePolicy with the example policy', () => {
  it('gives Anna (AMS, DEPT001) the ams pool, CLI-Sales and the NL dial plan and routing policy', () => {
    const anna = mergeAttributes(
      {
        id: '3b7d1c9e-0d2a-4c55-8d0e-000000000101',
        userPrincipalName: 'anna.devries@contoso.example',
        department: 'Sales',
        officeLocation: 'AMS',
        jobTitle: 'Account Manager',
        assignedPlans: [],
      },
      { employeeId: 'E1001', departmentId: 'DEPT001', site: 'AMS', jobTitle: 'Account Manager' },
    );
    expect(evaluatePolicy(example, anna, catalog)).toEqual({
      kind: 'voice',
      enterpriseVoice: true,
      numberPool: 'ams',
      policies: { CallingLineIdentity: 'CLI-Sales', OnlineVoiceRoutingPolicy: 'VRP-NL', TenantDialPlan: 'DP-NL' },
      matchedRules: ['amsterdam'],
    });
  });

  it('gives Bram (RTM, DEPT002) the rtm pool and CLI-Support', () => {
    const bram = mergeAttributes(
      { id: '3b7d1c9e-0d2a-4c55-8d0e-000000000102', userPrincipalName: 'bram.jansen@contoso.example', officeLocation: 'RTM', assignedPlans: [] },
      { employeeId: 'E1002', departmentId: 'DEPT002', site: 'RTM', jobTitle: 'Engineer' },
    );
    expect(evaluatePolicy(example, bram, catalog)).toEqual({
      kind: 'voice',
      enterpriseVoice: true,
      numberPool: 'rtm',
      policies: { CallingLineIdentity: 'CLI-Support', OnlineVoiceRoutingPolicy: 'VRP-NL', TenantDialPlan: 'DP-NL' },
      matchedRules: ['rotterdam'],
    });
  });

  it('gives an intern no Teams Phone and names the rule that said so', () => {
    const intern = { employeeId: 'E1003', site: 'AMS', departmentId: 'DEPT001', jobTitle: 'Intern Marketing' };
    expect(evaluatePolicy(example, intern, catalog)).toEqual({
      kind: 'no-voice',
      rule: 'no-phone-for-interns',
      matchedRules: ['amsterdam', 'no-phone-for-interns'],
      managedPolicies: ['CallingLineIdentity', 'OnlineVoiceRoutingPolicy', 'TenantDialPlan'],
    });
  });

  it('gives someone at an unknown site voice without a number pool', () => {
    const decision = evaluatePolicy(example, { employeeId: 'E1004', site: 'UTR', departmentId: 'DEPT002' }, catalog);
    expect(decision).toEqual({
      kind: 'voice',
      enterpriseVoice: true,
      numberPool: null,
      policies: { CallingLineIdentity: 'CLI-Support', OnlineVoiceRoutingPolicy: 'VRP-NL', TenantDialPlan: 'DP-NL' },
      matchedRules: [],
    });
  });
});

describe('evaluatePolicy rule matching', () => {
  it('applies every matching rule in order, the later one winning per field', () => {
    const p = policy(`
version: 1
rules:
  - { name: site, when: { site: AMS }, numberPool: ams, policies: { TenantDialPlan: DP-AMS } }
  - { name: sales, when: { department: Sales }, numberPool: ams-sales }
`);
    const decision = evaluatePolicy(p, { site: 'AMS', department: 'Sales' }, catalog);
    expect(decision).toMatchObject({ kind: 'voice', numberPool: 'ams-sales', policies: { TenantDialPlan: 'DP-AMS' }, matchedRules: ['site', 'sales'] });
  });

  it('merges policies per type across rules', () => {
    const p = policy(`
version: 1
defaults: { policies: { TenantDialPlan: DP-NL, OnlineVoiceRoutingPolicy: VRP-NL } }
rules:
  - { name: a, when: { site: AMS }, policies: { TenantDialPlan: DP-AMS } }
  - { name: b, when: { site: AMS }, policies: { TeamsCallingPolicy: TCP-Sales } }
`);
    expect(evaluatePolicy(p, { site: 'AMS' }, catalog)).toMatchObject({
      policies: { TenantDialPlan: 'DP-AMS', OnlineVoiceRoutingPolicy: 'VRP-NL', TeamsCallingPolicy: 'TCP-Sales' },
    });
  });

  it('requires every attribute listed in when to match', () => {
    const p = policy(`
version: 1
rules:
  - { name: ams-sales, when: { site: AMS, department: Sales }, numberPool: ams }
`);
    expect(evaluatePolicy(p, { site: 'AMS', department: 'Support' }, catalog)).toMatchObject({ matchedRules: [], numberPool: null });
  });

  it('matches a list of globs when any of them matches', () => {
    const p = policy(`
version: 1
rules:
  - { name: randstad, when: { site: [AMS, RTM, "UT?"] }, numberPool: randstad }
`);
    expect(evaluatePolicy(p, { site: 'UTR' }, catalog)).toMatchObject({ numberPool: 'randstad' });
  });

  it('matches ? against exactly one character', () => {
    const p = policy(`
version: 1
rules:
  - { name: dept-00x, when: { departmentId: "DEPT00?" }, numberPool: x }
`);
    const one = evaluatePolicy(p, { departmentId: 'DEPT001' }, catalog);
    const two = evaluatePolicy(p, { departmentId: 'DEPT0010' }, catalog);
    expect([one.matchedRules, two.matchedRules]).toEqual([['dept-00x'], []]);
  });

  it('ignores case in patterns and attribute values', () => {
    expect(evaluatePolicy(example, { site: 'ams', departmentId: 'DEPT001' }, catalog)).toMatchObject({ numberPool: 'ams' });
  });

  it('ignores surrounding blanks in attribute values', () => {
    expect(evaluatePolicy(example, { site: ' AMS ', departmentId: 'DEPT001' }, catalog)).toMatchObject({ numberPool: 'ams' });
  });

  it('never matches a missing attribute, not even with *', () => {
    const p = policy(`
version: 1
rules:
  - { name: anyone-with-a-site, when: { site: "*" }, numberPool: x }
`);
    const missing = evaluatePolicy(p, { department: 'Sales' }, catalog);
    const blank = evaluatePolicy(p, { site: '' }, catalog);
    const present = evaluatePolicy(p, { site: 'AMS' }, catalog);
    expect([missing.matchedRules, blank.matchedRules, present.matchedRules]).toEqual([[], [], ['anyone-with-a-site']]);
  });

  it('matches numbers and booleans by their text', () => {
    const p = policy(`
version: 1
rules:
  - { name: finance, when: { costCenter: "41*", accountEnabled: "true" }, numberPool: fin }
attributes: [costCenter]
`);
    expect(evaluatePolicy(p, { costCenter: 4100, accountEnabled: true }, catalog)).toMatchObject({ numberPool: 'fin' });
  });

  it('keeps voice off when an earlier rule said voice: false and a later one says voice: true', () => {
    const p = policy(`
version: 1
rules:
  - { name: interns, when: { jobTitle: "Intern*" }, voice: false }
  - { name: sales, when: { department: Sales }, voice: true }
`);
    expect(evaluatePolicy(p, { jobTitle: 'Intern', department: 'Sales' }, catalog)).toMatchObject({ kind: 'no-voice', rule: 'interns' });
  });

  it('gives no voice with no rule named when defaults.voice is false and no rule grants it', () => {
    const p = policy(`
version: 1
defaults: { voice: false }
rules:
  - { name: pilot, when: { department: Sales }, voice: true, numberPool: ams }
`);
    expect(evaluatePolicy(p, { department: 'Support' }, catalog)).toEqual({ kind: 'no-voice', rule: null, matchedRules: [], managedPolicies: [] });
  });

  it('grants voice to a person a rule opts in when defaults.voice is false', () => {
    const p = policy(`
version: 1
defaults: { voice: false }
rules:
  - { name: pilot, when: { department: Sales }, voice: true, numberPool: ams }
`);
    expect(evaluatePolicy(p, { department: 'Sales' }, catalog)).toMatchObject({ kind: 'voice', numberPool: 'ams', matchedRules: ['pilot'] });
  });

  it('turns Enterprise Voice off without a pool when a rule says enterpriseVoice: false', () => {
    const p = policy(`
version: 1
defaults: { numberPool: main, policies: { TeamsCallingPolicy: TCP-Basic } }
rules:
  - { name: reception, when: { jobTitle: Receptionist }, enterpriseVoice: false }
`);
    expect(evaluatePolicy(p, { jobTitle: 'Receptionist' }, catalog)).toEqual({
      kind: 'voice',
      enterpriseVoice: false,
      numberPool: null,
      policies: { TeamsCallingPolicy: 'TCP-Basic' },
      matchedRules: ['reception'],
    });
  });

  it('clears the default pool when a rule sets numberPool: null', () => {
    const p = policy(`
version: 1
defaults: { numberPool: main }
rules:
  - { name: contractors, when: { employeeId: "C*" }, numberPool: null }
`);
    expect(evaluatePolicy(p, { employeeId: 'C042' }, catalog)).toMatchObject({ numberPool: null });
  });

  it('resets a policy to Global when a rule sets it to null', () => {
    const p = policy(`
version: 1
defaults: { policies: { TenantDialPlan: DP-NL, OnlineVoiceRoutingPolicy: VRP-NL } }
rules:
  - { name: belgium, when: { usageLocation: BE }, policies: { TenantDialPlan: null } }
`);
    expect(evaluatePolicy(p, { usageLocation: 'BE' }, catalog)).toMatchObject({
      policies: { TenantDialPlan: null, OnlineVoiceRoutingPolicy: 'VRP-NL' },
      matchedRules: ['belgium'],
    });
  });

  it('reports every managed policy type, null where nothing names one for this person', () => {
    const p = policy(`
version: 1
rules:
  - { name: ams, when: { site: AMS }, policies: { TenantDialPlan: DP-AMS } }
  - { name: rtm, when: { site: RTM }, policies: { OnlineVoicemailPolicy: VM-RTM } }
`);
    expect(evaluatePolicy(p, { site: 'AMS' }, catalog)).toMatchObject({ policies: { TenantDialPlan: 'DP-AMS', OnlineVoicemailPolicy: null } });
  });
});

describe('evaluatePolicy CallingLineIdentity by Description', () => {
  it('compares the Description trimmed and without regard to case', () => {
    const decision = evaluatePolicy(example, { departmentId: ' dept002' }, catalog);
    expect(decision).toMatchObject({ policies: { CallingLineIdentity: 'CLI-Support' } });
  });

  it('reports an error an admin can act on when no policy has the Description', () => {
    expect(evaluatePolicy(example, { site: 'AMS', departmentId: 'DEPT009' }, catalog)).toEqual({
      kind: 'error',
      code: 'CallingLineIdentityNotFound',
      message:
        "no CallingLineIdentity policy has the Description 'DEPT009' (the person's departmentId); create one with that Description or name the CallingLineIdentity policy in a rule of the voice policy",
      matchedRules: ['amsterdam'],
    });
  });

  it('reports the matching policies when more than one has the Description', () => {
    const twice: PolicyCatalogSnapshot = {
      callingLineIdentities: [...catalog.callingLineIdentities, { identity: 'Tag:CLI-Sales-2', description: 'dept001 ' }],
    };
    expect(evaluatePolicy(example, { departmentId: 'DEPT001' }, twice)).toEqual({
      kind: 'error',
      code: 'CallingLineIdentityAmbiguous',
      message:
        "2 CallingLineIdentity policies have the Description 'DEPT001' (the person's departmentId): Tag:CLI-Sales, Tag:CLI-Sales-2; give each policy a unique Description or name the CallingLineIdentity policy in a rule of the voice policy",
      matchedRules: [],
    });
  });

  it('does not count the same policy listed twice in the catalogue as ambiguous', () => {
    const repeated: PolicyCatalogSnapshot = { callingLineIdentities: [...catalog.callingLineIdentities, { identity: 'Tag:CLI-Sales', description: 'DEPT001' }] };
    expect(evaluatePolicy(example, { departmentId: 'DEPT001' }, repeated)).toMatchObject({ kind: 'voice', policies: { CallingLineIdentity: 'CLI-Sales' } });
  });

  it('names the attribute when the person does not have it', () => {
    expect(evaluatePolicy(example, { site: 'RTM' }, catalog)).toEqual({
      kind: 'error',
      code: 'CallingLineIdentityNotFound',
      message:
        'the person has no departmentId, which callingLineIdentity.byDescription needs to choose a CallingLineIdentity policy; give the person a departmentId or name the CallingLineIdentity policy in a rule of the voice policy',
      matchedRules: ['rotterdam'],
    });
  });

  it("uses a rule's explicit CallingLineIdentity without looking up the Description", () => {
    const p = policy(`
version: 1
callingLineIdentity: { byDescription: departmentId }
rules:
  - { name: hotline, when: { department: Hotline }, policies: { CallingLineIdentity: CLI-Hotline } }
`);
    expect(evaluatePolicy(p, { department: 'Hotline', departmentId: 'DEPT404' }, catalog)).toMatchObject({
      kind: 'voice',
      policies: { CallingLineIdentity: 'CLI-Hotline' },
    });
  });

  it('resets to Global without a lookup when a rule sets CallingLineIdentity to null', () => {
    const p = policy(`
version: 1
callingLineIdentity: { byDescription: departmentId }
rules:
  - { name: anonymous, when: { department: Research }, policies: { CallingLineIdentity: null } }
`);
    expect(evaluatePolicy(p, { department: 'Research' }, catalog)).toMatchObject({ kind: 'voice', policies: { CallingLineIdentity: null } });
  });

  it('resets to Global when the Description belongs to the Global policy', () => {
    const withGlobal: PolicyCatalogSnapshot = { callingLineIdentities: [{ identity: 'Global', description: 'DEFAULT' }] };
    expect(evaluatePolicy(example, { departmentId: 'default' }, withGlobal)).toMatchObject({ policies: { CallingLineIdentity: null } });
  });

  it('skips the lookup for a person who gets no voice', () => {
    expect(evaluatePolicy(example, { jobTitle: 'Intern' }, catalog)).toMatchObject({ kind: 'no-voice', rule: 'no-phone-for-interns' });
  });
});

describe('managedPolicyTypes', () => {
  it('lists the types the file names plus CallingLineIdentity for byDescription, in canonical order', () => {
    expect(managedPolicyTypes(example)).toEqual(['CallingLineIdentity', 'OnlineVoiceRoutingPolicy', 'TenantDialPlan']);
  });

  it('takes an explicit managedPolicies list as it is', () => {
    const p = policy(`
version: 1
managedPolicies: [TeamsEmergencyCallRoutingPolicy, TenantDialPlan]
defaults: { policies: { TenantDialPlan: DP-NL } }
rules: []
`);
    expect(managedPolicyTypes(p)).toEqual(['TenantDialPlan', 'TeamsEmergencyCallRoutingPolicy']);
  });

  it('resets a managed type that no setting names', () => {
    const p = policy(`
version: 1
managedPolicies: [TenantDialPlan, TeamsEmergencyCallRoutingPolicy]
defaults: { policies: { TenantDialPlan: DP-NL } }
rules: []
`);
    expect(evaluatePolicy(p, {}, catalog)).toMatchObject({ policies: { TenantDialPlan: 'DP-NL', TeamsEmergencyCallRoutingPolicy: null } });
  });
});
