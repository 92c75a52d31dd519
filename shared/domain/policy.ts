/**
 * The voice policy engine: decides a person's desired voice state from their attributes.
 * Pure: the caller passes the parsed policy, the merged attributes and the Teams policy catalogue.
 */
import { anyGlobMatches } from './glob.js';
import { attributeText, type PersonAttributes } from './policy-attributes.js';
import { managedPolicyTypes, type PolicyRule, type PolicySettings, type VoicePolicy } from './policy-schema.js';
import type { PolicyAssignments, PolicyType } from './voice-state.js';

export { mergeAttributes, type AttributeValue, type PersonAttributes } from './policy-attributes.js';
export { formatFieldPath, parseVoicePolicy, type ParsePolicyOptions, type PolicyFormat } from './policy-parse.js';
export { managedPolicyTypes, VoicePolicySchema, type PolicyRule, type PolicySettings, type VoicePolicy } from './policy-schema.js';

/** The Teams policies the engine looks up; structurally the same as the PolicyCatalog port's entries. */
export interface PolicyCatalogSnapshot {
  callingLineIdentities: readonly { identity: string; description?: string | null }[];
}

export type PolicyErrorCode = 'CallingLineIdentityNotFound' | 'CallingLineIdentityAmbiguous' | 'PolicyInvalid';

export type PolicyDecision =
  | {
      kind: 'voice';
      enterpriseVoice: boolean;
      /** null when no rule names a pool, or when enterpriseVoice is false; the caller decides what that means. */
      numberPool: string | null;
      /** Every managed policy type; null resets to Global. */
      policies: PolicyAssignments;
      matchedRules: string[];
    }
  | {
      kind: 'no-voice';
      /** The last matching rule with `voice: false`; null when defaults.voice is false and no rule granted voice. */
      rule: string | null;
      matchedRules: string[];
      managedPolicies: PolicyType[];
    }
  | { kind: 'error'; code: PolicyErrorCode; message: string; matchedRules: string[] };

export function ruleMatches(rule: PolicyRule, attributes: PersonAttributes): boolean {
  return Object.entries(rule.when).every(([name, patterns]) => {
    const value = attributeText(attributes, name);
    return value !== undefined && anyGlobMatches(patterns, value);
  });
}

export function evaluatePolicy(policy: VoicePolicy, attributes: PersonAttributes, catalog: PolicyCatalogSnapshot): PolicyDecision {
  const managed = managedPolicyTypes(policy);
  const matched = policy.rules.filter((rule) => ruleMatches(rule, attributes));
  const matchedRules = matched.map((rule) => rule.name);

  let voice = policy.defaults.voice;
  let deniedBy: string | null = null;
  let enterpriseVoice = policy.defaults.enterpriseVoice;
  let numberPool: string | null = policy.defaults.numberPool ?? null;
  const settings: PolicySettings = { ...policy.defaults.policies };
  let explicitCallingLineIdentity = false;
  for (const rule of matched) {
    if (rule.voice === false) deniedBy = rule.name;
    else if (rule.voice === true) voice = true;
    if (rule.enterpriseVoice !== undefined) enterpriseVoice = rule.enterpriseVoice;
    if (rule.numberPool !== undefined) numberPool = rule.numberPool;
    for (const [type, name] of Object.entries(rule.policies ?? {}) as [PolicyType, string | null | undefined][]) {
      if (name === undefined) continue;
      settings[type] = name;
      if (type === 'CallingLineIdentity') explicitCallingLineIdentity = true;
    }
  }

  if (deniedBy !== null || !voice) return { kind: 'no-voice', rule: deniedBy, matchedRules, managedPolicies: managed };

  const byDescription = policy.callingLineIdentity?.byDescription;
  if (byDescription !== undefined && !explicitCallingLineIdentity) {
    const found = callingLineIdentityByDescription(byDescription, attributes, catalog);
    if (!found.ok) return { kind: 'error', code: found.code, message: found.message, matchedRules };
    settings.CallingLineIdentity = found.name;
  }

  const policies: PolicyAssignments = {};
  for (const type of managed) policies[type] = settings[type] ?? null;
  return { kind: 'voice', enterpriseVoice, numberPool: enterpriseVoice ? numberPool : null, policies, matchedRules };
}

type Lookup =
  | { ok: true; name: string | null }
  | { ok: false; code: 'CallingLineIdentityNotFound' | 'CallingLineIdentityAmbiguous'; message: string };

const remedy = 'or name the CallingLineIdentity policy in a rule of the voice policy';

/** Description equality is trimmed and case-insensitive: Teams admins type descriptions by hand. */
function callingLineIdentityByDescription(attribute: string, attributes: PersonAttributes, catalog: PolicyCatalogSnapshot): Lookup {
  const value = attributeText(attributes, attribute);
  if (value === undefined) {
    return {
      ok: false,
      code: 'CallingLineIdentityNotFound',
      message: `the person has no ${attribute}, which callingLineIdentity.byDescription needs to choose a CallingLineIdentity policy; give the person a ${attribute} ${remedy}`,
    };
  }
  const wanted = value.toLowerCase();
  const identities = [
    ...new Set(
      catalog.callingLineIdentities
        .filter((entry) => (entry.description ?? '').trim().toLowerCase() === wanted)
        .map((entry) => entry.identity),
    ),
  ].sort();
  const [only, ...others] = identities;
  if (only === undefined) {
    return {
      ok: false,
      code: 'CallingLineIdentityNotFound',
      message: `no CallingLineIdentity policy has the Description '${value}' (the person's ${attribute}); create one with that Description ${remedy}`,
    };
  }
  if (others.length > 0) {
    return {
      ok: false,
      code: 'CallingLineIdentityAmbiguous',
      message: `${identities.length} CallingLineIdentity policies have the Description '${value}' (the person's ${attribute}): ${identities.join(', ')}; give each policy a unique Description ${remedy}`,
    };
  }
  return { ok: true, name: policyNameOf(only) };
}

/** Grant-Cs* takes the identity without `Tag:`; the Global policy is granted by resetting (null). */
function policyNameOf(identity: string): string | null {
  const name = identity.trim().replace(/^tag:/i, '');
  return name.toLowerCase() === 'global' ? null : name;
}
