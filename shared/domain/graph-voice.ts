/**
 * The Graph backend's pure core: Teams' user configuration (Graph's shape) → the actual voice
 * state the shared diff speaks, and the shared diff's steps → the Graph operations that perform
 * them. Everything the Graph API cannot do is returned as an `unsupported` step, never dropped.
 */
import type { TeamsUserConfiguration } from '../ports/teams-admin.js';
import { normalisePhoneNumber, normalisePolicyName, planSteps, type Step } from './voice-diff.js';
import { policyTypes, type ActualVoiceState, type DesiredVoiceState, type PolicyType } from './voice-state.js';

export type GraphStep =
  | { kind: 'assignNumber'; number: string }
  | { kind: 'unassignNumber'; number: string }
  | { kind: 'assignPolicy'; policyType: PolicyType; name: string }
  /** Back to Global: Graph unassigns the direct assignment it knows by id. */
  | { kind: 'unassignPolicy'; policyType: PolicyType; name: string; policyId: string | null }
  /** A step only the PowerShell backend can take, with the reason. */
  | { kind: 'unsupported'; what: string; reason: string; step: Step };

/** Graph lists numbers with or without `+` (its own examples use bare digits). */
export function graphNumber(value: string): string | null {
  const n = normalisePhoneNumber(value);
  if (n === null) return null;
  return /^\d/.test(n) ? `+${n}` : n;
}

function directAssignment(config: TeamsUserConfiguration, type: PolicyType) {
  return config.effectivePolicyAssignments.find(
    (a) => a.policyType.toLowerCase() === type.toLowerCase() && (a.assignmentType === null || a.assignmentType.toLowerCase() === 'direct'),
  );
}

/**
 * The actual state as the shared diff expects it. Only direct assignments count as the user's
 * own policy (a group or Global policy is what "reset to Global" leaves), exactly as
 * Get-CsOnlineUser reports a user's own assignment; the primary number is the user's number.
 */
export function actualFromConfiguration(config: TeamsUserConfiguration): ActualVoiceState {
  const primary =
    config.telephoneNumbers.find((t) => (t.assignmentCategory ?? 'primary').toLowerCase() === 'primary') ?? config.telephoneNumbers[0];
  const policies: ActualVoiceState['policies'] = {};
  for (const type of policyTypes) policies[type] = normalisePolicyName(directAssignment(config, type)?.displayName ?? null);
  return {
    enterpriseVoiceEnabled: config.isEnterpriseVoiceEnabled,
    phoneNumber: primary === undefined ? null : graphNumber(primary.telephoneNumber),
    phoneSystemLicensed: config.featureTypes.some((f) => f.toLowerCase() === 'phonesystem'),
    policies,
  };
}

/** Teams is ready for voice once its user configuration lists the PhoneSystem feature. */
export function teamsReadyForVoice(config: TeamsUserConfiguration | null): boolean {
  return config !== null && config.featureTypes.some((f) => f.toLowerCase() === 'phonesystem');
}

/**
 * The Graph operations that take Teams from `config` to `desired`, in the shared diff's order
 * (number, Enterprise Voice, policies). Policy types in `unsupportedPolicyTypes` (learned when
 * Graph refused them, or configured) and a bare Enterprise Voice switch — Graph has no such
 * operation; assigning a number turns voice on and unassigning turns it off — come back as
 * `unsupported` for the PowerShell backend.
 */
export function planGraphSteps(
  desired: DesiredVoiceState,
  config: TeamsUserConfiguration,
  userId: string,
  unsupportedPolicyTypes: ReadonlySet<string> = new Set(),
): GraphStep[] {
  const actual = actualFromConfiguration(config);
  return planSteps(desired, actual, userId).map((step): GraphStep => {
    const p = step.parameters;
    if (step.cmdlet === 'Set-CsPhoneNumberAssignment' && typeof p.PhoneNumber === 'string') {
      return { kind: 'assignNumber', number: p.PhoneNumber };
    }
    if (step.cmdlet === 'Remove-CsPhoneNumberAssignment' && typeof p.PhoneNumber === 'string') {
      return { kind: 'unassignNumber', number: p.PhoneNumber };
    }
    if (step.cmdlet === 'Set-CsPhoneNumberAssignment') {
      return {
        kind: 'unsupported',
        what: `EnterpriseVoiceEnabled=${String(p.EnterpriseVoiceEnabled)}`,
        reason: 'Graph has no operation that switches Enterprise Voice without a number assignment',
        step,
      };
    }
    const type = step.cmdlet.replace(/^Grant-Cs/, '') as PolicyType;
    if (unsupportedPolicyTypes.has(type.toLowerCase())) {
      return { kind: 'unsupported', what: `${type}=${String(p.PolicyName ?? 'Global')}`, reason: `Graph refuses policy type ${type}`, step };
    }
    if (typeof p.PolicyName === 'string') return { kind: 'assignPolicy', policyType: type, name: p.PolicyName };
    const current = directAssignment(config, type);
    return { kind: 'unassignPolicy', policyType: type, name: current?.displayName ?? '', policyId: current?.policyId ?? null };
  });
}

/** `telephoneNumberLongRunningOperation.status` → what the backend does next. */
export function operationState(status: string): 'pending' | 'succeeded' | 'failed' {
  const s = status.toLowerCase();
  if (s === 'succeeded' || s === 'skipped') return 'succeeded';
  if (s === 'failed') return 'failed';
  return 'pending';
}

/** A failed assignment whose detail says another user holds the number: a conflict, not a fault. */
export function isNumberTakenDetail(detail: string | null): boolean {
  return detail !== null && /already (been )?assigned|assigned to another/i.test(detail);
}
