/**
 * The voice policy file (docs/POLICY.md): which person gets Teams Phone, from which number pool,
 * with which policies. Every object is strict, so a misspelt field is an error and not a rule
 * that silently never applies.
 */
import { z } from 'zod';
import { policyTypes, type PolicyType } from './voice-state.js';

/**
 * A policy name as Grant-Cs* takes it: the identity without `Tag:`. A leading `Tag:` is rejected
 * rather than stripped, so the file always reads the way the cmdlets are called.
 */
const PolicyNameSchema = z
  .string({ error: 'expected a policy name (text) or null to reset to Global' })
  .trim()
  .min(1, 'expected a policy name (text) or null to reset to Global')
  .superRefine((name, ctx) => {
    if (/^tag:/i.test(name)) {
      const bare = name.slice(4).trim();
      ctx.addIssue({ code: 'custom', message: `write the policy name without 'Tag:' (${bare}, not ${name})` });
    }
  });

const policiesShape = Object.fromEntries(policyTypes.map((type) => [type, PolicyNameSchema.nullable().optional()])) as Record<
  PolicyType,
  z.ZodOptional<z.ZodNullable<typeof PolicyNameSchema>>
>;

/** Policy per type: a name grants it, `null` resets the person to Global, an absent type is left alone. */
export const PolicySettingsSchema = z.strictObject(policiesShape);
export type PolicySettings = z.infer<typeof PolicySettingsSchema>;

export const GLOB_LIST_MESSAGE = 'expected string or list of strings';

/** One glob or a list of globs (any matches); normalised to a list of trimmed patterns. */
const GlobListSchema = z.unknown().transform((value, ctx): string[] => {
  const list: unknown = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0 || !list.every((item) => typeof item === 'string')) {
    ctx.addIssue({ code: 'custom', message: GLOB_LIST_MESSAGE });
    return z.NEVER;
  }
  const patterns = (list as string[]).map((pattern) => pattern.trim());
  if (patterns.some((pattern) => pattern === '')) {
    ctx.addIssue({ code: 'custom', message: 'expected a non-empty pattern (use "*" for any value)' });
    return z.NEVER;
  }
  return patterns;
});

const PoolNameSchema = z.string({ error: 'expected a number pool name' }).trim().min(1, 'expected a number pool name');

export const PolicyRuleSchema = z.strictObject({
  /** Unique (case-insensitively) within the file; appears in decisions, logs and dead letters. */
  name: z.string({ error: 'expected a rule name' }).trim().min(1, 'expected a rule name').max(100),
  /** Person attribute → glob(s). Every listed attribute must match; a missing attribute never matches. */
  when: z
    .record(z.string().trim().min(1), GlobListSchema, { error: 'expected a map of attribute: pattern' })
    .refine((when) => Object.keys(when).length > 0, 'list at least one attribute to match (put settings for everyone in defaults)'),
  /** `false`: no Teams Phone for this person, whatever other rules say. `true`: grants voice when defaults.voice is false. */
  voice: z.boolean().optional(),
  enterpriseVoice: z.boolean().optional(),
  /** The pool to take the number from; `null` clears a pool set by defaults or an earlier rule. */
  numberPool: PoolNameSchema.nullable().optional(),
  policies: PolicySettingsSchema.optional(),
});
export type PolicyRule = z.infer<typeof PolicyRuleSchema>;

export const PolicyDefaultsSchema = z.strictObject({
  /** Whether a person matched by no `voice` rule gets Teams Phone at all (opt-out when true, opt-in when false). */
  voice: z.boolean().default(true),
  enterpriseVoice: z.boolean().default(true),
  numberPool: PoolNameSchema.optional(),
  policies: PolicySettingsSchema.optional(),
});

export const VoicePolicySchema = z
  .strictObject({
    version: z.literal(1, { error: 'expected 1 (the only version of the policy file format)' }),
    defaults: PolicyDefaultsSchema.prefault({}),
    /** The CallingLineIdentity policy whose Description equals this person attribute. */
    callingLineIdentity: z
      .strictObject({ byDescription: z.string({ error: 'expected an attribute name' }).trim().min(1, 'expected an attribute name') })
      .optional(),
    rules: z.array(PolicyRuleSchema, { error: 'expected a list of rules' }),
    /** Extra HR attribute names rules may match (beyond the HR contract and Entra ID); `policy validate` knows them. */
    attributes: z.array(z.string().trim().min(1), { error: 'expected a list of attribute names' }).optional(),
    /** The policy types Dialtone grants and resets; by default the ones this file names. */
    managedPolicies: z
      .array(z.enum(policyTypes, { error: `expected one of ${policyTypes.join(', ')}` }), { error: 'expected a list of policy types' })
      .optional(),
  })
  .superRefine((policy, ctx) => {
    const seen = new Map<string, number>();
    policy.rules.forEach((rule, index) => {
      const key = rule.name.toLowerCase();
      const first = seen.get(key);
      if (first === undefined) seen.set(key, index);
      else ctx.addIssue({ code: 'custom', path: ['rules', index, 'name'], message: `duplicate rule name '${rule.name}' (also rules[${first}].name)` });
    });

    const byDescription = policy.callingLineIdentity !== undefined;
    if (byDescription && policy.defaults.policies?.CallingLineIdentity !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['defaults', 'policies', 'CallingLineIdentity'],
        message: 'cannot be combined with callingLineIdentity.byDescription, which chooses the policy per person; name it in a rule to override the lookup',
      });
    }

    const managed = policy.managedPolicies;
    if (managed === undefined) return;
    if (byDescription && !managed.includes('CallingLineIdentity')) {
      ctx.addIssue({
        code: 'custom',
        path: ['callingLineIdentity', 'byDescription'],
        message: 'CallingLineIdentity is not in managedPolicies; add it there or remove callingLineIdentity',
      });
    }
    const check = (settings: PolicySettings | undefined, path: (string | number)[]): void => {
      for (const type of Object.keys(settings ?? {}) as PolicyType[]) {
        if (!managed.includes(type)) {
          ctx.addIssue({ code: 'custom', path: [...path, type], message: `${type} is not in managedPolicies; add it there or remove this setting` });
        }
      }
    };
    check(policy.defaults.policies, ['defaults', 'policies']);
    policy.rules.forEach((rule, index) => check(rule.policies, ['rules', index, 'policies']));
  });

export type VoicePolicy = z.infer<typeof VoicePolicySchema>;

/** The policy types Dialtone manages for everyone under this policy, in the canonical order of policyTypes. */
export function managedPolicyTypes(policy: VoicePolicy): PolicyType[] {
  const listed = policy.managedPolicies;
  if (listed !== undefined) return policyTypes.filter((type) => listed.includes(type));
  const named = new Set<string>(Object.keys(policy.defaults.policies ?? {}));
  for (const rule of policy.rules) for (const type of Object.keys(rule.policies ?? {})) named.add(type);
  if (policy.callingLineIdentity !== undefined) named.add('CallingLineIdentity');
  return policyTypes.filter((type) => named.has(type));
}
