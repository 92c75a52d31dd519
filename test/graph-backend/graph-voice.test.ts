import { describe, expect, it } from 'vitest';
import { actualFromConfiguration, graphNumber, isNumberTakenDetail, operationState, planGraphSteps, teamsReadyForVoice } from '../../shared/domain/graph-voice.js';
import type { TeamsUserConfiguration } from '../../shared/ports/teams-admin.js';

const USER = '3b7d1c9e-0d2a-4c55-8d0e-000000000101';

function config(extra: Partial<TeamsUserConfiguration> = {}): TeamsUserConfiguration {
  return {
    id: USER,
    userPrincipalName: 'anna@contoso.example',
    featureTypes: ['Teams', 'AudioConferencing', 'PhoneSystem'],
    isEnterpriseVoiceEnabled: false,
    telephoneNumbers: [],
    effectivePolicyAssignments: [
      { policyType: 'TenantDialPlan', displayName: 'Global', policyId: 'g', assignmentType: null },
      { policyType: 'OnlineVoiceRoutingPolicy', displayName: 'VRP-Group', policyId: 'grp', assignmentType: 'group' },
    ],
    ...extra,
  };
}

const desired = {
  enterpriseVoiceEnabled: true,
  phoneNumber: '+31201234001',
  phoneNumberType: 'DirectRouting' as const,
  policies: { TenantDialPlan: 'DP-NL', OnlineVoiceRoutingPolicy: 'VRP-NL' },
};

describe('Graph voice backend, pure core', () => {
  it('reads the primary number (with or without +) and counts only direct policy assignments', () => {
    const actual = actualFromConfiguration(
      config({
        isEnterpriseVoiceEnabled: true,
        telephoneNumbers: [
          { telephoneNumber: '31201234999', assignmentCategory: 'private' },
          { telephoneNumber: '31201234001', assignmentCategory: 'primary' },
        ],
        effectivePolicyAssignments: [{ policyType: 'tenantDialPlan', displayName: 'DP-NL', policyId: 'x', assignmentType: 'direct' }],
      }),
    );
    expect(actual).toMatchObject({ enterpriseVoiceEnabled: true, phoneNumber: '+31201234001', phoneSystemLicensed: true });
    expect(actual.policies).toMatchObject({ TenantDialPlan: 'DP-NL', OnlineVoiceRoutingPolicy: null });
    expect(graphNumber('tel:+31201234001;EXT=12')).toBe('+31201234001;ext=12');
  });

  it('maps a joiner to an assignment and policy grants, in the shared diff order', () => {
    expect(planGraphSteps(desired, config(), USER).map((s) => s.kind)).toEqual(['assignNumber', 'assignPolicy', 'assignPolicy']);
  });

  it('maps a leaver to an unassignment and unassigns only what was assigned directly, by its id', () => {
    const steps = planGraphSteps(
      { enterpriseVoiceEnabled: false, phoneNumber: null, phoneNumberType: 'DirectRouting', policies: { TenantDialPlan: null } },
      config({
        isEnterpriseVoiceEnabled: true,
        telephoneNumbers: [{ telephoneNumber: '+31201234001', assignmentCategory: 'primary' }],
        effectivePolicyAssignments: [{ policyType: 'TenantDialPlan', displayName: 'DP-NL', policyId: 'dp-id', assignmentType: 'direct' }],
      }),
      USER,
    );
    expect(steps).toEqual([
      { kind: 'unassignNumber', number: '+31201234001' },
      { kind: 'unassignPolicy', policyType: 'TenantDialPlan', name: 'DP-NL', policyId: 'dp-id' },
    ]);
  });

  it('returns a bare Enterprise Voice switch and refused policy types as unsupported, never drops them', () => {
    const steps = planGraphSteps(
      { enterpriseVoiceEnabled: false, phoneNumber: null, phoneNumberType: 'DirectRouting', policies: { OnlineVoiceRoutingPolicy: 'VRP-NL' } },
      config({ isEnterpriseVoiceEnabled: true }),
      USER,
      new Set(['onlinevoiceroutingpolicy']),
    );
    expect(steps.map((s) => (s.kind === 'unsupported' ? s.what : s.kind))).toEqual(['EnterpriseVoiceEnabled=false', 'OnlineVoiceRoutingPolicy=VRP-NL']);
  });

  it('plans nothing when Teams already holds the desired state', () => {
    const held = config({
      isEnterpriseVoiceEnabled: true,
      telephoneNumbers: [{ telephoneNumber: '+31201234001', assignmentCategory: 'primary' }],
      effectivePolicyAssignments: [
        { policyType: 'TenantDialPlan', displayName: 'DP-NL', policyId: 'a', assignmentType: 'direct' },
        { policyType: 'OnlineVoiceRoutingPolicy', displayName: 'Tag:VRP-NL', policyId: 'b', assignmentType: 'direct' },
      ],
    });
    expect(planGraphSteps(desired, held, USER)).toEqual([]);
  });

  it('reads operation states and number-taken details, and the PhoneSystem readiness signal', () => {
    expect(['notStarted', 'running', 'unknownFutureValue'].map(operationState)).toEqual(['pending', 'pending', 'pending']);
    expect(operationState('succeeded')).toBe('succeeded');
    expect(operationState('failed')).toBe('failed');
    expect(isNumberTakenDetail("Telephone Number '+3120' has already been assigned to another user")).toBe(true);
    expect(isNumberTakenDetail('the user is not voice-capable')).toBe(false);
    expect(teamsReadyForVoice(config({ featureTypes: ['Teams'] }))).toBe(false);
    expect(teamsReadyForVoice(null)).toBe(false);
    expect(teamsReadyForVoice(config())).toBe(true);
  });
});
