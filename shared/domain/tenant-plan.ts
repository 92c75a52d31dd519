/**
 * Tenant set-up as code, the pure part: what the tenant holds (read with the Get-Cs* cmdlets and
 * normalised here), what the tenant voice file wants, and the per-item plan between them with the
 * cmdlet calls (as data) that would close the gap. It never plans a removal: an item the file does
 * not name is not the file's to delete, and a PSTN usage is only ever added
 * (`Set-CsOnlinePstnUsage -Identity Global -Usage @{Add=…}`), never replaced.
 */
import { z } from 'zod';
import type { CallingLineIdentity, DialPlan, NormalizationRule, TenantVoiceConfig, VoiceRoute, VoiceRoutingPolicy } from './tenant-voice.js';

export const tenantItemKinds = ['pstnUsage', 'voiceRoute', 'voiceRoutingPolicy', 'dialPlan', 'callingLineIdentity'] as const;
export type TenantItemKind = (typeof tenantItemKinds)[number];

/** The statuses of the contract (`{ items: [{ kind, identity, status, detail }] }`). */
export type TenantItemStatus = 'created' | 'already_exists' | 'updated' | 'drifted' | 'failed';

export interface TenantItemReport {
  kind: TenantItemKind;
  identity: string;
  status: TenantItemStatus;
  detail: string;
}

/** One cmdlet call, as data: the worker's pwsh host splats the parameters, never evaluates text. */
export interface TenantStep {
  cmdlet: string;
  parameters: Record<string, unknown>;
}

export interface PlannedItem {
  kind: TenantItemKind;
  identity: string;
  /** `refused`: the file asks for something Teams will not do; nothing is run for it. */
  change: 'create' | 'update' | 'none' | 'refused';
  /** What differs, e.g. `priority: 2 → 1`; for `refused`, why. */
  differences: string[];
  steps: TenantStep[];
  /** PSTN usages this item refers to: if adding one of them fails, this item is not applied. */
  needsUsages: string[];
}

// ---- what the tenant holds ----

export interface ActualNormalizationRule {
  name: string;
  pattern: string;
  translation: string;
  isInternalExtension: boolean;
  description: string | null;
}

export interface TenantVoiceActual {
  pstnUsages: string[];
  voiceRoutes: { name: string; numberPattern: string; gateways: string[]; usages: string[]; priority: number; description: string | null }[];
  voiceRoutingPolicies: { name: string; usages: string[]; description: string | null }[];
  dialPlans: { name: string; normalizationRules: ActualNormalizationRule[]; description: string | null; simpleName: string | null }[];
  callingLineIdentities: {
    name: string;
    description: string | null;
    callingIdSubstitute: string | null;
    serviceNumber: string | null;
    resourceAccount: string | null;
    companyName: string | null;
    enableUserOverride: boolean | null;
    blockIncomingPstnCallerId: boolean | null;
  }[];
}

const text = z.string().nullable().optional();
const list = z.array(z.string()).nullable().optional();
const PstnUsageRowSchema = z.looseObject({ Identity: text, Usage: list });
const VoiceRouteRowSchema = z.looseObject({
  Identity: z.string(),
  NumberPattern: text,
  OnlinePstnGatewayList: list,
  OnlinePstnUsages: list,
  Priority: z.number().int().nullable().optional(),
  Description: text,
});
const RoutingPolicyRowSchema = z.looseObject({ Identity: z.string(), OnlinePstnUsages: list, Description: text });
const NormalizationRuleRowSchema = z.looseObject({
  Name: z.string(),
  Pattern: text,
  Translation: text,
  IsInternalExtension: z.boolean().nullable().optional(),
  Description: text,
});
const DialPlanRowSchema = z.looseObject({
  Identity: z.string(),
  Description: text,
  SimpleName: text,
  NormalizationRules: z.array(NormalizationRuleRowSchema).nullable().optional(),
});
const CallingLineIdentityRowSchema = z.looseObject({
  Identity: z.string(),
  Description: text,
  CallingIDSubstitute: text,
  ServiceNumber: text,
  ResourceAccount: text,
  CompanyName: text,
  EnableUserOverride: z.boolean().nullable().optional(),
  BlockIncomingPstnCallerID: z.boolean().nullable().optional(),
});

/** The raw output of the five Get-Cs* cmdlets, as the pwsh host returned it. */
export interface TenantVoiceRaw {
  pstnUsages: unknown;
  voiceRoutes: unknown;
  voiceRoutingPolicies: unknown;
  dialPlans: unknown;
  callingLineIdentities: unknown;
}

/** `Tag:VRP-NL` → `VRP-NL`; the Global entries are not the file's and are left out. */
function bare(identity: string): string {
  return identity.replace(/^tag:/i, '');
}

function rows<T extends z.ZodType>(schema: T, value: unknown, what: string): z.infer<T>[] {
  const array = value === null || value === undefined ? [] : Array.isArray(value) ? value : [value];
  const parsed = z.array(schema).safeParse(array);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`unexpected ${what} output: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid'}`);
  }
  return parsed.data;
}

/** Normalises what the Get-Cs* cmdlets returned; a shape Dialtone does not recognise is an error naming the cmdlet. */
export function normaliseTenantVoice(raw: TenantVoiceRaw): TenantVoiceActual {
  const usageRows = rows(PstnUsageRowSchema, raw.pstnUsages, 'Get-CsOnlinePstnUsage');
  const notGlobal = <R extends { Identity: string }>(r: R): boolean => bare(r.Identity).toLowerCase() !== 'global';
  return {
    pstnUsages: usageRows.flatMap((r) => r.Usage ?? []),
    voiceRoutes: rows(VoiceRouteRowSchema, raw.voiceRoutes, 'Get-CsOnlineVoiceRoute').map((r) => ({
      name: bare(r.Identity),
      numberPattern: r.NumberPattern ?? '',
      gateways: r.OnlinePstnGatewayList ?? [],
      usages: r.OnlinePstnUsages ?? [],
      priority: r.Priority ?? 0,
      description: r.Description ?? null,
    })),
    voiceRoutingPolicies: rows(RoutingPolicyRowSchema, raw.voiceRoutingPolicies, 'Get-CsOnlineVoiceRoutingPolicy')
      .filter(notGlobal)
      .map((r) => ({ name: bare(r.Identity), usages: r.OnlinePstnUsages ?? [], description: r.Description ?? null })),
    dialPlans: rows(DialPlanRowSchema, raw.dialPlans, 'Get-CsTenantDialPlan')
      .filter(notGlobal)
      .map((r) => ({
        name: bare(r.Identity),
        description: r.Description ?? null,
        simpleName: r.SimpleName ?? null,
        normalizationRules: (r.NormalizationRules ?? []).map((n) => ({
          name: n.Name,
          pattern: n.Pattern ?? '',
          translation: n.Translation ?? '',
          isInternalExtension: n.IsInternalExtension ?? false,
          description: n.Description ?? null,
        })),
      })),
    callingLineIdentities: rows(CallingLineIdentityRowSchema, raw.callingLineIdentities, 'Get-CsCallingLineIdentity')
      .filter(notGlobal)
      .map((r) => ({
        name: bare(r.Identity),
        description: r.Description ?? null,
        callingIdSubstitute: r.CallingIDSubstitute ?? null,
        serviceNumber: r.ServiceNumber ?? null,
        resourceAccount: r.ResourceAccount ?? null,
        companyName: r.CompanyName ?? null,
        enableUserOverride: r.EnableUserOverride ?? null,
        blockIncomingPstnCallerId: r.BlockIncomingPstnCallerID ?? null,
      })),
  };
}

// ---- the plan ----

const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();
const findByName = <T extends { name: string }>(items: T[], name: string): T | undefined => items.find((i) => same(i.name, name));
const show = (values: readonly string[]): string => `[${values.join(', ')}]`;
const sameSet = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((x) => b.some((y) => same(x, y))) && b.every((y) => a.some((x) => same(x, y)));
const sameList = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => same(x, b[i] ?? ''));

/** Builds the plan: one item per entry of the file, in the order the cmdlets must run (usages first). */
export function planTenantVoice(desired: TenantVoiceConfig, actual: TenantVoiceActual): PlannedItem[] {
  return [
    ...desired.pstnUsages.map((usage) => planUsage(usage, actual)),
    ...desired.voiceRoutes.map((route) => planRoute(route, actual)),
    ...desired.voiceRoutingPolicies.map((policy) => planRoutingPolicy(policy, actual)),
    ...desired.dialPlans.map((plan) => planDialPlan(plan, actual)),
    ...desired.callingLineIdentities.map((cli) => planCallingLineIdentity(cli, actual)),
  ];
}

function planUsage(usage: string, actual: TenantVoiceActual): PlannedItem {
  const exists = actual.pstnUsages.some((u) => same(u, usage));
  return {
    kind: 'pstnUsage',
    identity: usage,
    change: exists ? 'none' : 'create',
    differences: [],
    // Tenant-wide by design: only ever Add, and only this one usage.
    steps: exists ? [] : [{ cmdlet: 'Set-CsOnlinePstnUsage', parameters: { Identity: 'Global', Usage: { Add: [usage] } } }],
    needsUsages: [],
  };
}

function planRoute(route: VoiceRoute, actual: TenantVoiceActual): PlannedItem {
  const found = findByName(actual.voiceRoutes, route.name);
  const base = { kind: 'voiceRoute' as const, identity: route.name, needsUsages: route.usages };
  if (found === undefined) {
    const parameters: Record<string, unknown> = {
      Identity: route.name,
      NumberPattern: route.numberPattern,
      OnlinePstnGatewayList: { Add: route.gateways },
      OnlinePstnUsages: { Add: route.usages },
      Priority: route.priority,
    };
    if (route.description !== undefined) parameters['Description'] = route.description;
    return { ...base, change: 'create', differences: [], steps: [{ cmdlet: 'New-CsOnlineVoiceRoute', parameters }] };
  }
  const differences: string[] = [];
  const parameters: Record<string, unknown> = { Identity: found.name };
  if (found.numberPattern !== route.numberPattern) {
    differences.push(`numberPattern: ${found.numberPattern} → ${route.numberPattern}`);
    parameters['NumberPattern'] = route.numberPattern;
  }
  if (!sameSet(found.gateways, route.gateways)) {
    differences.push(`gateways: ${show(found.gateways)} → ${show(route.gateways)}`);
    parameters['OnlinePstnGatewayList'] = { Replace: route.gateways };
  }
  if (!sameSet(found.usages, route.usages)) {
    differences.push(`usages: ${show(found.usages)} → ${show(route.usages)}`);
    parameters['OnlinePstnUsages'] = { Replace: route.usages };
  }
  if (found.priority !== route.priority) {
    differences.push(`priority: ${found.priority} → ${route.priority}`);
    parameters['Priority'] = route.priority;
  }
  if (route.description !== undefined && (found.description ?? '') !== route.description) {
    differences.push(`description: ${found.description ?? '(none)'} → ${route.description}`);
    parameters['Description'] = route.description;
  }
  return finishUpdate(base, differences, 'Set-CsOnlineVoiceRoute', parameters);
}

function planRoutingPolicy(policy: VoiceRoutingPolicy, actual: TenantVoiceActual): PlannedItem {
  const found = findByName(actual.voiceRoutingPolicies, policy.name);
  const base = { kind: 'voiceRoutingPolicy' as const, identity: policy.name, needsUsages: policy.usages };
  if (found === undefined) {
    const parameters: Record<string, unknown> = { Identity: policy.name, OnlinePstnUsages: { Add: policy.usages } };
    if (policy.description !== undefined) parameters['Description'] = policy.description;
    return { ...base, change: 'create', differences: [], steps: [{ cmdlet: 'New-CsOnlineVoiceRoutingPolicy', parameters }] };
  }
  const differences: string[] = [];
  const parameters: Record<string, unknown> = { Identity: found.name };
  // Order matters: Teams tries the routes of the first usage first.
  if (!sameList(found.usages, policy.usages)) {
    differences.push(`usages: ${show(found.usages)} → ${show(policy.usages)}`);
    parameters['OnlinePstnUsages'] = { Replace: policy.usages };
  }
  if (policy.description !== undefined && (found.description ?? '') !== policy.description) {
    differences.push(`description: ${found.description ?? '(none)'} → ${policy.description}`);
    parameters['Description'] = policy.description;
  }
  return finishUpdate(base, differences, 'Set-CsOnlineVoiceRoutingPolicy', parameters);
}

/** A rule as data for the host, which builds it with `New-CsVoiceNormalizationRule -InMemory`. */
function ruleData(parent: string, rule: NormalizationRule): Record<string, unknown> {
  const data: Record<string, unknown> = { Parent: parent, Name: rule.name, Pattern: rule.pattern, Translation: rule.translation };
  if (rule.isInternalExtension !== undefined) data['IsInternalExtension'] = rule.isInternalExtension;
  if (rule.description !== undefined) data['Description'] = rule.description;
  return data;
}

function sameRule(actual: ActualNormalizationRule, rule: NormalizationRule): boolean {
  return (
    same(actual.name, rule.name) &&
    actual.pattern === rule.pattern &&
    actual.translation === rule.translation &&
    actual.isInternalExtension === (rule.isInternalExtension ?? false) &&
    (rule.description === undefined || (actual.description ?? '') === rule.description)
  );
}

function describeRule(rule: { name: string; pattern: string; translation: string }): string {
  return `${rule.name} ${rule.pattern} → ${rule.translation}`;
}

function planDialPlan(plan: DialPlan, actual: TenantVoiceActual): PlannedItem {
  const found = findByName(actual.dialPlans, plan.name);
  const base = { kind: 'dialPlan' as const, identity: plan.name, needsUsages: [] };
  const rules = plan.normalizationRules.map((rule) => ruleData(plan.name, rule));
  if (found === undefined) {
    const parameters: Record<string, unknown> = { Identity: plan.name };
    if (plan.description !== undefined) parameters['Description'] = plan.description;
    if (plan.simpleName !== undefined) parameters['SimpleName'] = plan.simpleName;
    if (rules.length > 0) parameters['NormalizationRules'] = rules;
    return { ...base, change: 'create', differences: [], steps: [{ cmdlet: 'New-CsTenantDialPlan', parameters }] };
  }
  const differences: string[] = [];
  const parameters: Record<string, unknown> = { Identity: found.name };
  const rulesMatch = found.normalizationRules.length === plan.normalizationRules.length && plan.normalizationRules.every((rule, i) => {
    const have = found.normalizationRules[i];
    return have !== undefined && sameRule(have, rule);
  });
  if (!rulesMatch) {
    differences.push(
      `normalizationRules: ${show(found.normalizationRules.map(describeRule))} → ${show(plan.normalizationRules.map(describeRule))}`,
    );
    // The dial plan is the file's: its rule list is set as a whole, in the file's order.
    parameters['NormalizationRules'] = rules;
  }
  if (plan.description !== undefined && (found.description ?? '') !== plan.description) {
    differences.push(`description: ${found.description ?? '(none)'} → ${plan.description}`);
    parameters['Description'] = plan.description;
  }
  if (plan.simpleName !== undefined && (found.simpleName ?? '') !== plan.simpleName) {
    differences.push(`simpleName: ${found.simpleName ?? '(none)'} → ${plan.simpleName}`);
    parameters['SimpleName'] = plan.simpleName;
  }
  return finishUpdate(base, differences, 'Set-CsTenantDialPlan', parameters);
}

export const SERVICE_SUBSTITUTE_REFUSED =
  'callingIdSubstitute Service is deprecated: Teams no longer creates or honours Caller ID policies with a service number; use callingIdSubstitute Resource with resourceAccount (the object id of a resource account that has the number)';

function planCallingLineIdentity(cli: CallingLineIdentity, actual: TenantVoiceActual): PlannedItem {
  const base = { kind: 'callingLineIdentity' as const, identity: cli.name, needsUsages: [] };
  if (cli.callingIdSubstitute === 'Service') return { ...base, change: 'refused', differences: [SERVICE_SUBSTITUTE_REFUSED], steps: [] };
  const wanted: [field: string, parameter: string, value: string | boolean | undefined][] = [
    ['description', 'Description', cli.description],
    ['callingIdSubstitute', 'CallingIDSubstitute', cli.callingIdSubstitute],
    ['resourceAccount', 'ResourceAccount', cli.resourceAccount],
    ['companyName', 'CompanyName', cli.companyName],
    ['enableUserOverride', 'EnableUserOverride', cli.enableUserOverride],
    ['blockIncomingPstnCallerId', 'BlockIncomingPstnCallerID', cli.blockIncomingPstnCallerId],
  ];
  const found = findByName(actual.callingLineIdentities, cli.name);
  if (found === undefined) {
    const parameters: Record<string, unknown> = { Identity: cli.name };
    for (const [, parameter, value] of wanted) if (value !== undefined) parameters[parameter] = value;
    return { ...base, change: 'create', differences: [], steps: [{ cmdlet: 'New-CsCallingLineIdentity', parameters }] };
  }
  const differences: string[] = [];
  const parameters: Record<string, unknown> = { Identity: found.name };
  const have: Record<string, string | boolean | null> = {
    description: found.description,
    callingIdSubstitute: found.callingIdSubstitute,
    resourceAccount: found.resourceAccount,
    companyName: found.companyName,
    enableUserOverride: found.enableUserOverride,
    blockIncomingPstnCallerId: found.blockIncomingPstnCallerId,
  };
  // Only what the file states is the file's: an unstated setting is left as the tenant has it.
  for (const [field, parameter, value] of wanted) {
    if (value === undefined) continue;
    const current = have[field] ?? null;
    const equal = typeof value === 'string' && typeof current === 'string' && field !== 'description' ? same(value, current) : value === current;
    if (!equal) {
      differences.push(`${field}: ${current === null ? '(none)' : String(current)} → ${String(value)}`);
      parameters[parameter] = value;
    }
  }
  return finishUpdate(base, differences, 'Set-CsCallingLineIdentity', parameters);
}

function finishUpdate(
  base: Pick<PlannedItem, 'kind' | 'identity' | 'needsUsages'>,
  differences: string[],
  cmdlet: string,
  parameters: Record<string, unknown>,
): PlannedItem {
  if (differences.length === 0) return { ...base, change: 'none', differences, steps: [] };
  return { ...base, change: 'update', differences, steps: [{ cmdlet, parameters }] };
}

// ---- reports ----

const kindLabel: Record<TenantItemKind, string> = {
  pstnUsage: 'PSTN usage',
  voiceRoute: 'voice route',
  voiceRoutingPolicy: 'voice routing policy',
  dialPlan: 'dial plan',
  callingLineIdentity: 'CallingLineIdentity policy',
};

/** `tenant status`: the tenant against the file; anything missing or different is drift. */
export function statusReport(plan: readonly PlannedItem[]): TenantItemReport[] {
  return plan.map((item) => {
    const report = { kind: item.kind, identity: item.identity };
    switch (item.change) {
      case 'none':
        return { ...report, status: 'already_exists', detail: `${kindLabel[item.kind]} matches the file` };
      case 'create':
        return { ...report, status: 'drifted', detail: `missing: the tenant has no ${kindLabel[item.kind]} ${item.identity}` };
      case 'update':
        return { ...report, status: 'drifted', detail: item.differences.join('; ') };
      case 'refused':
        return { ...report, status: 'failed', detail: item.differences.join('; ') };
    }
  });
}

/** `tenant plan`: what `apply` would report, each detail saying what it would do. */
export function dryRunReport(plan: readonly PlannedItem[]): TenantItemReport[] {
  return plan.map((item) => {
    const report = { kind: item.kind, identity: item.identity };
    switch (item.change) {
      case 'none':
        return { ...report, status: 'already_exists', detail: `${kindLabel[item.kind]} matches the file; nothing to do` };
      case 'create':
        return { ...report, status: 'created', detail: `would create with ${item.steps.map((s) => s.cmdlet).join(', ')}` };
      case 'update':
        return { ...report, status: 'updated', detail: `would update (${item.differences.join('; ')}) with ${item.steps.map((s) => s.cmdlet).join(', ')}` };
      case 'refused':
        return { ...report, status: 'failed', detail: item.differences.join('; ') };
    }
  });
}

export { kindLabel as tenantItemLabels };
