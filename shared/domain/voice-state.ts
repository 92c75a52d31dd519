import { z } from 'zod';

/** Policy types Dialtone can grant. A policy absent from a desired state is not managed. */
export const policyTypes = [
  'CallingLineIdentity',
  'OnlineVoiceRoutingPolicy',
  'TenantDialPlan',
  'TeamsCallingPolicy',
  'OnlineVoicemailPolicy',
  'TeamsEmergencyCallRoutingPolicy',
] as const;
export const PolicyTypeSchema = z.enum(policyTypes);
export type PolicyType = z.infer<typeof PolicyTypeSchema>;

/** E.164 with an optional Direct Routing extension: +31201234567 or +31201234567;ext=1234. */
export const E164_PATTERN = /^\+[1-9]\d{6,14}(;ext=\d{1,10})?$/;
export const PhoneNumberSchema = z
  .string()
  .regex(E164_PATTERN, 'must be E.164 such as +31201234567, optionally with ;ext=1234, without tel:');

/** `null` resets the user to the global policy; a missing key leaves the policy alone. */
export const PolicyAssignmentsSchema = z.partialRecord(PolicyTypeSchema, z.string().min(1).nullable());
export type PolicyAssignments = z.infer<typeof PolicyAssignmentsSchema>;

/** The full desired voice state of one user: commands carry this, never a delta. */
export const DesiredVoiceStateSchema = z.object({
  enterpriseVoiceEnabled: z.boolean(),
  phoneNumber: PhoneNumberSchema.nullable(),
  phoneNumberType: z.literal('DirectRouting'),
  policies: PolicyAssignmentsSchema,
});
export type DesiredVoiceState = z.infer<typeof DesiredVoiceStateSchema>;

/** What Teams actually holds for a user, normalised from Get-CsOnlineUser / Get-CsPhoneNumberAssignment. */
export const ActualVoiceStateSchema = z.object({
  enterpriseVoiceEnabled: z.boolean(),
  phoneNumber: z.string().nullable(),
  phoneSystemLicensed: z.boolean(),
  policies: z.partialRecord(PolicyTypeSchema, z.string().nullable()),
});
export type ActualVoiceState = z.infer<typeof ActualVoiceStateSchema>;

/** Canonical JSON of a desired state (sorted policy keys), for equality and deterministic ids. */
export function canonicalDesiredState(state: DesiredVoiceState): string {
  const policies: Record<string, string | null> = {};
  for (const key of Object.keys(state.policies).sort()) {
    const value = state.policies[key as PolicyType];
    if (value !== undefined) policies[key] = value;
  }
  return JSON.stringify({
    enterpriseVoiceEnabled: state.enterpriseVoiceEnabled,
    phoneNumber: state.phoneNumber,
    phoneNumberType: state.phoneNumberType,
    policies,
  });
}

export function sameDesiredState(a: DesiredVoiceState, b: DesiredVoiceState): boolean {
  return canonicalDesiredState(a) === canonicalDesiredState(b);
}

/** The state a leaver (or a person without voice) must end in. */
export function voiceOffState(managed: readonly PolicyType[]): DesiredVoiceState {
  const policies: PolicyAssignments = {};
  for (const type of managed) policies[type] = null;
  return { enterpriseVoiceEnabled: false, phoneNumber: null, phoneNumberType: 'DirectRouting', policies };
}
