/**
 * The tenant voice file (docs/TENANT.md): the PSTN usages, voice routes, voice routing policies,
 * dial plans and CallingLineIdentity policies a tenant needs before Dialtone can give anyone a
 * number. `dialtone tenant plan|apply|status` keep the tenant in step with it. Every object is
 * strict, so a misspelt field is an error naming it, not a setting that silently never applies.
 * Pure: parsing and validation only.
 */
import { z } from 'zod';
import { DialtoneError } from './errors.js';
import { describePolicyIssues } from './policy-parse.js';
import { readStructuredText } from './structured-text.js';

/** Teams limits identities to letters, digits and a few separators; 64 keeps every name well inside them. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9 ._()-]{0,63}$/;
const nameSchema = (what: string) =>
  z
    .string({ error: `expected the ${what} name (text)` })
    .trim()
    .regex(NAME, `expected a ${what} name of 1-64 letters, digits, spaces or . _ ( ) - (starting with a letter or digit)`)
    .refine((name) => !/^tag:/i.test(name) && name.toLowerCase() !== 'global', `a ${what} name cannot be Global or start with Tag:`);

const usageName = z
  .string({ error: 'expected a PSTN usage name (text)' })
  .trim()
  .min(1, 'expected a PSTN usage name')
  .max(64, 'a PSTN usage name is at most 64 characters');

/** A .NET regular expression as Teams evaluates it; checked here with JavaScript's, which accepts the common subset. */
const regexSchema = (what: string) =>
  z
    .string({ error: `expected ${what} (a regular expression)` })
    .min(1, `expected ${what} (a regular expression)`)
    .max(512, `${what} is at most 512 characters`)
    .superRefine((pattern, ctx) => {
      try {
        new RegExp(pattern);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: `not a valid regular expression: ${(error as Error).message}` });
      }
    });

const FQDN = /^(?=.{1,253}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/;

function uniqueList<T extends z.ZodType<string>>(item: T, what: string, min: number) {
  return z
    .array(item, { error: `expected a list of ${what}` })
    .min(min, min === 1 ? `list at least one ${what.replace(/s$/, '')}` : `expected a list of ${what}`)
    .max(50, `at most 50 ${what}`)
    .superRefine((list, ctx) => {
      const seen = new Set<string>();
      list.forEach((value, i) => {
        const key = value.toLowerCase();
        if (seen.has(key)) ctx.addIssue({ code: 'custom', path: [i], message: `${value} is listed twice` });
        seen.add(key);
      });
    });
}

export const VoiceRouteSchema = z.strictObject({
  name: nameSchema('voice route'),
  numberPattern: regexSchema('numberPattern'),
  /** Online PSTN gateways (SBC FQDNs) paired with the tenant; Dialtone routes to them, it does not pair them. */
  gateways: uniqueList(z.string({ error: 'expected a gateway FQDN' }).trim().regex(FQDN, 'expected an SBC FQDN such as sbc1.contoso.com'), 'gateways', 1),
  usages: uniqueList(usageName, 'usages', 1),
  priority: z
    .number({ error: 'expected a priority (a whole number, 0 first)' })
    .int('expected a priority (a whole number, 0 first)')
    .min(0, 'expected a priority from 0 to 1000 (0 first)')
    .max(1000, 'expected a priority from 0 to 1000 (0 first)'),
  description: z.string().max(1024).optional(),
});
export type VoiceRoute = z.infer<typeof VoiceRouteSchema>;

export const VoiceRoutingPolicySchema = z.strictObject({
  name: nameSchema('voice routing policy'),
  /** In order: Teams tries the routes of the first usage first. */
  usages: uniqueList(usageName, 'usages', 1),
  description: z.string().max(1024).optional(),
});
export type VoiceRoutingPolicy = z.infer<typeof VoiceRoutingPolicySchema>;

export const NormalizationRuleSchema = z.strictObject({
  name: nameSchema('normalization rule'),
  pattern: regexSchema('pattern'),
  translation: z.string({ error: 'expected a translation such as +31$1' }).min(1, 'expected a translation such as +31$1').max(512),
  isInternalExtension: z.boolean().optional(),
  description: z.string().max(1024).optional(),
});
export type NormalizationRule = z.infer<typeof NormalizationRuleSchema>;

export const DialPlanSchema = z.strictObject({
  name: nameSchema('dial plan'),
  /** In order: the first matching rule wins. A tenant dial plan holds at most 50. */
  normalizationRules: z
    .array(NormalizationRuleSchema, { error: 'expected a list of normalization rules' })
    .max(50, 'a tenant dial plan holds at most 50 normalization rules')
    .superRefine((rules, ctx) => {
      const seen = new Set<string>();
      rules.forEach((rule, i) => {
        const key = rule.name.toLowerCase();
        if (seen.has(key)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `rule ${rule.name} is listed twice` });
        seen.add(key);
      });
    }),
  description: z.string().max(1024).optional(),
  simpleName: z.string().max(256).optional(),
});
export type DialPlan = z.infer<typeof DialPlanSchema>;

/**
 * `Service` and `serviceNumber` stay accepted in the file (the design's example uses them), but
 * Teams no longer creates Caller ID policies with them: such an item is reported `failed` with
 * what to use instead (`Resource` with `resourceAccount`), before any cmdlet runs.
 */
export const callingIdSubstitutes = ['LineUri', 'Anonymous', 'Resource', 'Service'] as const;

export const CallingLineIdentitySchema = z
  .strictObject({
    name: nameSchema('CallingLineIdentity policy'),
    /** What the voice policy's `callingLineIdentity.byDescription` matches: Dialtone finds the policy by it. */
    description: z.string({ error: 'expected a description (the voice policy finds the CLI policy by it)' }).trim().min(1, 'expected a description (the voice policy finds the CLI policy by it)').max(1024),
    callingIdSubstitute: z.enum(callingIdSubstitutes, { error: `expected one of ${callingIdSubstitutes.join(', ')}` }).optional(),
    serviceNumber: z.string().regex(/^\+?[1-9]\d{6,14}$/, 'expected an E.164 number such as +31201234999').optional(),
    /** Object id of the resource account whose number is shown (callingIdSubstitute Resource). */
    resourceAccount: z.uuid('expected the resource account object id (a GUID)').optional(),
    companyName: z.string().max(256).optional(),
    enableUserOverride: z.boolean().optional(),
    blockIncomingPstnCallerId: z.boolean().optional(),
  })
  .superRefine((cli, ctx) => {
    if (cli.callingIdSubstitute === 'Resource' && cli.resourceAccount === undefined) {
      ctx.addIssue({ code: 'custom', path: ['resourceAccount'], message: 'callingIdSubstitute Resource needs resourceAccount (the resource account object id)' });
    }
    if (cli.serviceNumber !== undefined && cli.callingIdSubstitute !== 'Service') {
      ctx.addIssue({ code: 'custom', path: ['serviceNumber'], message: 'serviceNumber only goes with callingIdSubstitute Service' });
    }
  });
export type CallingLineIdentity = z.infer<typeof CallingLineIdentitySchema>;

function uniqueNames<T extends { name: string }>(items: T[], path: string, ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  items.forEach((item, i) => {
    const key = item.name.toLowerCase();
    if (seen.has(key)) ctx.addIssue({ code: 'custom', path: [path, i, 'name'], message: `${item.name} is listed twice` });
    seen.add(key);
  });
}

export const TenantVoiceConfigSchema = z
  .strictObject({
    version: z.literal(1, { error: 'expected version: 1' }),
    pstnUsages: uniqueList(usageName, 'PSTN usages', 0).default([]),
    voiceRoutes: z.array(VoiceRouteSchema).max(200, 'at most 200 voice routes').default([]),
    voiceRoutingPolicies: z.array(VoiceRoutingPolicySchema).max(200, 'at most 200 voice routing policies').default([]),
    dialPlans: z.array(DialPlanSchema).max(200, 'at most 200 dial plans').default([]),
    callingLineIdentities: z.array(CallingLineIdentitySchema).max(200, 'at most 200 CallingLineIdentity policies').default([]),
  })
  .superRefine((file, ctx) => {
    uniqueNames(file.voiceRoutes, 'voiceRoutes', ctx);
    uniqueNames(file.voiceRoutingPolicies, 'voiceRoutingPolicies', ctx);
    uniqueNames(file.dialPlans, 'dialPlans', ctx);
    uniqueNames(file.callingLineIdentities, 'callingLineIdentities', ctx);
    const usages = new Set(file.pstnUsages.map((u) => u.toLowerCase()));
    const needUsage = (list: string[], path: (string | number)[]) =>
      list.forEach((usage, j) => {
        if (!usages.has(usage.toLowerCase())) {
          ctx.addIssue({ code: 'custom', path: [...path, j], message: `PSTN usage ${usage} is not in pstnUsages` });
        }
      });
    const priorities = new Map<number, string>();
    file.voiceRoutes.forEach((route, i) => {
      needUsage(route.usages, ['voiceRoutes', i, 'usages']);
      const other = priorities.get(route.priority);
      // Teams renumbers routes that share a priority, which would be reported as drift on every run.
      if (other !== undefined) ctx.addIssue({ code: 'custom', path: ['voiceRoutes', i, 'priority'], message: `priority ${route.priority} is already used by ${other}` });
      priorities.set(route.priority, route.name);
    });
    file.voiceRoutingPolicies.forEach((policy, i) => needUsage(policy.usages, ['voiceRoutingPolicies', i, 'usages']));
    const descriptions = new Map<string, string>();
    file.callingLineIdentities.forEach((cli, i) => {
      const other = descriptions.get(cli.description);
      // Dialtone resolves a CLI policy by Description: two with one Description would be ambiguous.
      if (other !== undefined) ctx.addIssue({ code: 'custom', path: ['callingLineIdentities', i, 'description'], message: `description ${cli.description} is already used by ${other}` });
      descriptions.set(cli.description, cli.name);
    });
  });
export type TenantVoiceConfig = z.infer<typeof TenantVoiceConfigSchema>;

export type TenantVoiceFormat = 'yaml' | 'json';

/**
 * Parses and validates a tenant voice file. Throws DialtoneError('ConfigInvalid') whose message
 * starts with the source and names every bad field, e.g.
 * `tenant-voice.yaml: voiceRoutes[0].priority: expected a whole number`.
 */
export function parseTenantVoiceConfig(text: string, format: TenantVoiceFormat, sourceName: string): TenantVoiceConfig {
  if (text.trim() === '') throw invalid(sourceName, 'the file is empty; expected version: 1 and the voice routing to keep');
  const read = readStructuredText(text, format);
  if (!read.ok) throw invalid(sourceName, read.message);
  const data = read.data;
  const result = TenantVoiceConfigSchema.safeParse(data);
  if (!result.success) throw invalid(sourceName, describePolicyIssues(result.error.issues));
  return result.data;
}

function invalid(sourceName: string, message: string): DialtoneError {
  return new DialtoneError('ConfigInvalid', `${sourceName}: ${message}`, { details: { source: sourceName } });
}
