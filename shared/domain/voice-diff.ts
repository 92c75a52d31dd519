import { DialtoneError } from './errors.js';
import { policyTypes, type ActualVoiceState, type DesiredVoiceState, type PolicyType } from './voice-state.js';

/** One write cmdlet the worker must run; parameters are data, splatted by the host. */
export interface Step {
  cmdlet: string;
  parameters: Record<string, unknown>;
  write: true;
}

/** `tel:+31…;EXT=12` → `+31…;ext=12`; empty → null. Teams and HR disagree on both spellings. */
export function normalisePhoneNumber(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const trimmed = value.trim().replace(/^tel:/i, '').replace(/;ext=/i, ';ext=');
  return trimmed === '' ? null : trimmed;
}

/** Policy names compare without `Tag:` and without case, as Teams resolves them. */
export function normalisePolicyName(value: unknown): string | null {
  let name: unknown = value;
  if (typeof value === 'object' && value !== null) name = (value as { Name?: unknown }).Name;
  if (typeof name !== 'string') return null;
  const stripped = name.trim().replace(/^tag:/i, '');
  if (stripped === '' || stripped.toLowerCase() === 'global') return null;
  return stripped;
}

function samePolicy(a: string | null, b: string | null): boolean {
  return (a?.toLowerCase() ?? null) === (b?.toLowerCase() ?? null);
}

function sameNumber(a: string | null, b: string | null): boolean {
  return normalisePhoneNumber(a) === normalisePhoneNumber(b);
}

function asBoolean(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  return typeof value === 'string' && value.trim().toLowerCase() === 'true';
}

function firstObject(value: unknown): Record<string, unknown> | undefined {
  const candidate = Array.isArray(value) ? (value as unknown[])[0] : value;
  return typeof candidate === 'object' && candidate !== null ? (candidate as Record<string, unknown>) : undefined;
}

function assignedNumber(assignments: unknown[]): string | null {
  for (const row of assignments) {
    if (typeof row !== 'object' || row === null) continue;
    const number = normalisePhoneNumber((row as { TelephoneNumber?: unknown }).TelephoneNumber);
    if (number !== null) return number;
  }
  return null;
}

/**
 * Get-CsOnlineUser + Get-CsPhoneNumberAssignment (filtered on the user) → the actual voice state.
 * The assignment rows are the source of truth for the number; LineURI, which can lag, is the fallback.
 */
export function normaliseActual(onlineUser: unknown, assignments: unknown[]): ActualVoiceState {
  const user = firstObject(onlineUser);
  if (!user) throw new DialtoneError('UserNotFound', 'Get-CsOnlineUser returned no user.');
  const features = Array.isArray(user.FeatureTypes) ? (user.FeatureTypes as unknown[]) : [];
  const policies: ActualVoiceState['policies'] = {};
  for (const type of policyTypes) policies[type] = normalisePolicyName(user[type]);
  return {
    enterpriseVoiceEnabled: asBoolean(user.EnterpriseVoiceEnabled),
    phoneNumber: assignedNumber(assignments) ?? normalisePhoneNumber(user.LineURI),
    phoneSystemLicensed: features.some((f) => typeof f === 'string' && f.toLowerCase() === 'phonesystem'),
    policies,
  };
}

function managedPolicies(desired: DesiredVoiceState): [PolicyType, string | null][] {
  const out: [PolicyType, string | null][] = [];
  for (const type of policyTypes) {
    const value = desired.policies[type];
    if (value !== undefined) out.push([type, normalisePolicyName(value)]);
  }
  return out;
}

/**
 * The write cmdlets that take `actual` to `desired`, in order: number, then EnterpriseVoiceEnabled
 * (only when the number step's side effect does not already settle it), then one grant per
 * managed policy that differs. A state that already holds gives [].
 */
export function planSteps(desired: DesiredVoiceState, actual: ActualVoiceState, userId: string): Step[] {
  const steps: Step[] = [];
  let voiceAfterNumberStep = actual.enterpriseVoiceEnabled;
  const wanted = normalisePhoneNumber(desired.phoneNumber);
  if (wanted !== null && !sameNumber(wanted, actual.phoneNumber)) {
    steps.push({
      cmdlet: 'Set-CsPhoneNumberAssignment',
      parameters: { Identity: userId, PhoneNumber: wanted, PhoneNumberType: desired.phoneNumberType },
      write: true,
    });
    voiceAfterNumberStep = true;
  } else if (wanted === null && actual.phoneNumber !== null) {
    // The exact number, not -RemoveAll: the audit names what was taken away, and a number of
    // another type that Dialtone does not manage is never wiped as a side effect.
    steps.push({
      cmdlet: 'Remove-CsPhoneNumberAssignment',
      parameters: { Identity: userId, PhoneNumber: actual.phoneNumber, PhoneNumberType: desired.phoneNumberType },
      write: true,
    });
    voiceAfterNumberStep = false;
  }
  if (desired.enterpriseVoiceEnabled !== voiceAfterNumberStep) {
    steps.push({
      cmdlet: 'Set-CsPhoneNumberAssignment',
      parameters: { Identity: userId, EnterpriseVoiceEnabled: desired.enterpriseVoiceEnabled },
      write: true,
    });
  }
  for (const [type, name] of managedPolicies(desired)) {
    if (samePolicy(name, actual.policies[type] ?? null)) continue;
    steps.push({ cmdlet: `Grant-Cs${type}`, parameters: { Identity: userId, PolicyName: name }, write: true });
  }
  return steps;
}

const show = (value: string | boolean | null): string => (value === null ? 'none' : String(value));

/** What still differs after applying, one readable line per field; [] when the desired state holds. */
export function verify(desired: DesiredVoiceState, actual: ActualVoiceState): string[] {
  const differences: string[] = [];
  if (!sameNumber(desired.phoneNumber, actual.phoneNumber)) {
    differences.push(`phoneNumber: expected ${show(desired.phoneNumber)}, found ${show(actual.phoneNumber)}`);
  }
  if (desired.enterpriseVoiceEnabled !== actual.enterpriseVoiceEnabled) {
    differences.push(
      `enterpriseVoiceEnabled: expected ${show(desired.enterpriseVoiceEnabled)}, found ${show(actual.enterpriseVoiceEnabled)}`,
    );
  }
  for (const [type, name] of managedPolicies(desired)) {
    const found = actual.policies[type] ?? null;
    if (!samePolicy(name, found)) differences.push(`policies.${type}: expected ${show(name)}, found ${show(found)}`);
  }
  return differences;
}
