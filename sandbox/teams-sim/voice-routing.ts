/**
 * The simulated tenant's voice routing: the global PSTN usage list, online voice routes, online
 * voice routing policies, tenant dial plans and CallingLineIdentity policies, with the
 * MicrosoftTeams cmdlets' semantics and refusals (a usage must exist before a route or policy uses
 * it, a route's gateways must be paired with the tenant, a name is unique, a Set needs an existing
 * object, CallingIDSubstitute Service is no longer accepted). Typed arguments only: parameters are
 * bound in voice-routing-cmdlets.ts. The state is plain JSON so `sandbox run --state DIR` keeps it
 * and a hand edit of the state file is a hand-made change to the tenant.
 */
import { z } from 'zod';
import { CmdletError, REST_EXCEPTION } from './cmdlet-error.js';

const RuleStateSchema = z.object({
  name: z.string().min(1),
  pattern: z.string(),
  translation: z.string(),
  isInternalExtension: z.boolean(),
  description: z.string().nullable(),
});
export type NormalizationRuleState = z.infer<typeof RuleStateSchema>;

export const VoiceRoutingStateSchema = z.object({
  /** The online PSTN gateways paired with the tenant (New-CsOnlinePSTNGateway): a route may only name these. Dialtone does not manage them. */
  pstnGateways: z.array(z.string().min(1)).default([]),
  pstnUsages: z.array(z.string().min(1)),
  voiceRoutes: z.array(
    z.object({
      name: z.string().min(1),
      numberPattern: z.string(),
      gateways: z.array(z.string()),
      usages: z.array(z.string()),
      priority: z.number().int().nonnegative(),
      description: z.string().nullable(),
    }),
  ),
  voiceRoutingPolicies: z.array(z.object({ name: z.string().min(1), usages: z.array(z.string()), description: z.string().nullable() })),
  dialPlans: z.array(
    z.object({ name: z.string().min(1), normalizationRules: z.array(RuleStateSchema), description: z.string().nullable(), simpleName: z.string().nullable() }),
  ),
  callingLineIdentities: z.array(
    z.object({
      name: z.string().min(1),
      description: z.string().nullable(),
      callingIdSubstitute: z.enum(['LineUri', 'Anonymous', 'Resource', 'Service']),
      serviceNumber: z.string().nullable(),
      resourceAccount: z.string().nullable(),
      companyName: z.string().nullable(),
      enableUserOverride: z.boolean(),
      blockIncomingPstnCallerId: z.boolean(),
    }),
  ),
});
export type VoiceRoutingState = z.infer<typeof VoiceRoutingStateSchema>;
type RouteState = VoiceRoutingState['voiceRoutes'][number];
type CliState = VoiceRoutingState['callingLineIdentities'][number];

/** PSListModifier as JSON: `{ "Add": [...] }`, `{ "Remove": [...] }`, `{ "Replace": [...] }`, or a plain list (replace). */
export type ListChange = { add?: string[]; remove?: string[]; replace?: string[] };

export interface RouteArgs {
  numberPattern?: string;
  gateways?: ListChange;
  usages?: ListChange;
  priority?: number;
  description?: string;
}

export interface CliArgs {
  description?: string;
  callingIdSubstitute?: string;
  resourceAccount?: string;
  companyName?: string;
  enableUserOverride?: boolean;
  blockIncomingPstnCallerId?: boolean;
}

function rest(status: string, cmdlet: string, message: string): CmdletError {
  return new CmdletError({ type: REST_EXCEPTION, message, category: status === 'NotFound' ? 'ObjectNotFound' : 'InvalidOperation', fullyQualifiedErrorId: `${status},${cmdlet}` });
}

export const routingErrors = {
  notFound: (cmdlet: string, identity: string) => rest('NotFound', cmdlet, `Management object not found for identity "${identity}".`),
  exists: (cmdlet: string, identity: string) => rest('Conflict', cmdlet, `An object with identity "${identity}" already exists; use the Set- cmdlet to change it.`),
  unknownUsage: (cmdlet: string, usage: string) =>
    rest('BadRequest', cmdlet, `The PSTN usage "${usage}" is not in the global PSTN usage list; add it with Set-CsOnlinePstnUsage -Identity Global -Usage @{Add="${usage}"} first.`),
  usageInUse: (cmdlet: string, usage: string, by: string) => rest('BadRequest', cmdlet, `The PSTN usage "${usage}" is used by ${by} and cannot be removed.`),
  unknownGateway: (cmdlet: string, gateway: string) =>
    rest('BadRequest', cmdlet, `The online PSTN gateway "${gateway}" is not configured in this tenant (Get-CsOnlinePSTNGateway); pair the SBC first.`),
  badPattern: (cmdlet: string, what: string, pattern: string) => rest('BadRequest', cmdlet, `${what} "${pattern}" is not a valid regular expression.`),
  serviceDeprecated: (cmdlet: string) =>
    rest('BadRequest', cmdlet, 'CallingIDSubstitute Service is no longer supported: Caller ID policies with a service number cannot be created; use CallingIDSubstitute Resource with -ResourceAccount.'),
  resourceNeeded: (cmdlet: string) => rest('BadRequest', cmdlet, 'CallingIDSubstitute Resource requires -ResourceAccount (the object id of a resource account).'),
  tooManyRules: (cmdlet: string) => rest('BadRequest', cmdlet, 'A tenant dial plan can hold at most 50 normalization rules.'),
  globalOnly: (cmdlet: string, identity: string) =>
    rest('NotFound', cmdlet, `Management object not found for identity "${identity}". The only online PSTN usage identity is Global.`),
};

const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();
const bare = (identity: string): string => identity.replace(/^tag:/i, '');

function validRegex(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}

function modify(current: string[], change: ListChange): string[] {
  let next = change.replace !== undefined ? [...change.replace] : [...current];
  for (const value of change.add ?? []) if (!next.some((v) => same(v, value))) next.push(value);
  for (const value of change.remove ?? []) next = next.filter((v) => !same(v, value));
  return next;
}

export function emptyVoiceRouting(pstnGateways: string[] = []): VoiceRoutingState {
  return { pstnGateways: [...pstnGateways], pstnUsages: [], voiceRoutes: [], voiceRoutingPolicies: [], dialPlans: [], callingLineIdentities: [] };
}

export class VoiceRouting {
  private state: VoiceRoutingState;

  constructor(initial: VoiceRoutingState) {
    this.state = structuredClone(initial);
  }

  exportState(): VoiceRoutingState {
    return structuredClone(this.state);
  }

  importState(value: unknown): void {
    this.state = VoiceRoutingStateSchema.parse(value);
  }

  // ---- lookups used by the Grant-/Get-Cs* policy cmdlets ----

  /** The Tag: policies of a type this module manages, as the policy list rows expect. */
  policies(type: 'CallingLineIdentity' | 'OnlineVoiceRoutingPolicy' | 'TenantDialPlan'): { identity: string; description: string | null }[] {
    const list =
      type === 'CallingLineIdentity' ? this.state.callingLineIdentities : type === 'OnlineVoiceRoutingPolicy' ? this.state.voiceRoutingPolicies : this.state.dialPlans;
    return list.map((p) => ({ identity: `Tag:${p.name}`, description: p.description }));
  }

  // ---- removals (dialtone tenant unlink) ----

  /**
   * Remove-CsOnlineVoiceRoute / -OnlineVoiceRoutingPolicy / -TenantDialPlan / -CallingLineIdentity:
   * one named item (`Tag:X` or `X`); an unknown one is NotFound, and Global cannot be removed this way.
   */
  remove(cmdlet: string, identity: string): void {
    const name = bare(identity);
    const list =
      cmdlet === 'Remove-CsOnlineVoiceRoute'
        ? this.state.voiceRoutes
        : cmdlet === 'Remove-CsOnlineVoiceRoutingPolicy'
          ? this.state.voiceRoutingPolicies
          : cmdlet === 'Remove-CsTenantDialPlan'
            ? this.state.dialPlans
            : this.state.callingLineIdentities;
    const index = list.findIndex((item) => same(item.name, name));
    if (index < 0) throw routingErrors.notFound(cmdlet, identity);
    list.splice(index, 1);
  }

  // ---- PSTN usages ----

  getPstnUsage(cmdlet: string, identity?: string): Record<string, unknown> {
    if (identity !== undefined && !same(bare(identity), 'Global')) throw routingErrors.globalOnly(cmdlet, identity);
    return { Identity: 'Global', Usage: [...this.state.pstnUsages] };
  }

  setPstnUsage(cmdlet: string, identity: string | undefined, change: ListChange): void {
    if (identity !== undefined && !same(bare(identity), 'Global')) throw routingErrors.globalOnly(cmdlet, identity);
    const next = modify(this.state.pstnUsages, change);
    for (const usage of this.state.pstnUsages) {
      if (next.some((u) => same(u, usage))) continue;
      const route = this.state.voiceRoutes.find((r) => r.usages.some((u) => same(u, usage)));
      const policy = this.state.voiceRoutingPolicies.find((p) => p.usages.some((u) => same(u, usage)));
      if (route) throw routingErrors.usageInUse(cmdlet, usage, `voice route ${route.name}`);
      if (policy) throw routingErrors.usageInUse(cmdlet, usage, `voice routing policy ${policy.name}`);
    }
    this.state.pstnUsages = next;
  }

  // ---- voice routes ----

  getVoiceRoutes(cmdlet: string, identity?: string): Record<string, unknown>[] {
    const routes = [...this.state.voiceRoutes].sort((a, b) => a.priority - b.priority);
    const rows = routes.map((r) => ({
      Identity: r.name,
      Name: r.name,
      Priority: r.priority,
      Description: r.description,
      NumberPattern: r.numberPattern,
      OnlinePstnUsages: [...r.usages],
      OnlinePstnGatewayList: [...r.gateways],
      BridgeSourcePhoneNumber: null,
    }));
    if (identity === undefined) return rows;
    const found = rows.filter((r) => same(r.Identity, identity));
    if (found.length === 0) throw routingErrors.notFound(cmdlet, identity);
    return found;
  }

  newVoiceRoute(cmdlet: string, name: string, args: RouteArgs): void {
    if (this.state.voiceRoutes.some((r) => same(r.name, name))) throw routingErrors.exists(cmdlet, name);
    const route: RouteState = { name, numberPattern: '[0-9]{10}', gateways: [], usages: [], priority: this.state.voiceRoutes.length, description: null };
    this.applyRoute(cmdlet, route, args);
    this.state.voiceRoutes.push(route);
  }

  setVoiceRoute(cmdlet: string, name: string, args: RouteArgs): void {
    const found = this.state.voiceRoutes.find((r) => same(r.name, name));
    if (found === undefined) throw routingErrors.notFound(cmdlet, name);
    const next = structuredClone(found);
    this.applyRoute(cmdlet, next, args);
    Object.assign(found, next);
  }

  private applyRoute(cmdlet: string, route: RouteState, args: RouteArgs): void {
    if (args.numberPattern !== undefined) {
      if (!validRegex(args.numberPattern)) throw routingErrors.badPattern(cmdlet, 'NumberPattern', args.numberPattern);
      route.numberPattern = args.numberPattern;
    }
    if (args.gateways !== undefined) {
      const gateways = modify(route.gateways, args.gateways);
      for (const g of gateways) if (!this.state.pstnGateways.some((known) => same(known, g))) throw routingErrors.unknownGateway(cmdlet, g);
      route.gateways = gateways;
    }
    if (args.usages !== undefined) {
      const usages = modify(route.usages, args.usages);
      this.checkUsages(cmdlet, usages);
      route.usages = usages;
    }
    if (args.priority !== undefined) route.priority = args.priority;
    if (args.description !== undefined) route.description = args.description;
  }

  private checkUsages(cmdlet: string, usages: string[]): void {
    for (const u of usages) if (!this.state.pstnUsages.some((known) => same(known, u))) throw routingErrors.unknownUsage(cmdlet, u);
  }

  // ---- voice routing policies ----

  getVoiceRoutingPolicies(cmdlet: string, identity?: string): Record<string, unknown>[] {
    const rows = [{ Identity: 'Global', OnlinePstnUsages: [] as string[], Description: null as string | null, RouteType: 'BYOT' }].concat(
      this.state.voiceRoutingPolicies.map((p) => ({ Identity: `Tag:${p.name}`, OnlinePstnUsages: [...p.usages], Description: p.description, RouteType: 'BYOT' })),
    );
    return filterIdentity(cmdlet, rows, identity, 'OnlineVoiceRoutingPolicy');
  }

  newVoiceRoutingPolicy(cmdlet: string, name: string, usages: ListChange | undefined, description: string | undefined): void {
    if (same(bare(name), 'Global') || this.state.voiceRoutingPolicies.some((p) => same(p.name, bare(name)))) throw routingErrors.exists(cmdlet, name);
    const list = modify([], usages ?? {});
    this.checkUsages(cmdlet, list);
    this.state.voiceRoutingPolicies.push({ name: bare(name), usages: list, description: description ?? null });
  }

  setVoiceRoutingPolicy(cmdlet: string, name: string, usages: ListChange | undefined, description: string | undefined): void {
    const found = this.state.voiceRoutingPolicies.find((p) => same(p.name, bare(name)));
    if (found === undefined) throw routingErrors.notFound(cmdlet, name);
    if (usages !== undefined) {
      const list = modify(found.usages, usages);
      this.checkUsages(cmdlet, list);
      found.usages = list;
    }
    if (description !== undefined) found.description = description;
  }

  // ---- tenant dial plans ----

  getDialPlans(cmdlet: string, identity?: string): Record<string, unknown>[] {
    const rows = [{ Identity: 'Global', Description: null as string | null, SimpleName: 'DefaultTenantDialPlan' as string | null, NormalizationRules: [] as Record<string, unknown>[] }].concat(
      this.state.dialPlans.map((d) => ({
        Identity: `Tag:${d.name}`,
        Description: d.description,
        SimpleName: d.simpleName,
        NormalizationRules: d.normalizationRules.map((r, i) => ({
          Name: r.name,
          Pattern: r.pattern,
          Translation: r.translation,
          IsInternalExtension: r.isInternalExtension,
          Description: r.description,
          Priority: i,
        })),
      })),
    );
    return filterIdentity(cmdlet, rows, identity, 'TenantDialPlan');
  }

  newDialPlan(cmdlet: string, name: string, options: { description?: string; simpleName?: string; rules?: NormalizationRuleState[] }): void {
    if (same(bare(name), 'Global') || this.state.dialPlans.some((d) => same(d.name, bare(name)))) throw routingErrors.exists(cmdlet, name);
    const rules = options.rules ?? [];
    if (rules.length > 50) throw routingErrors.tooManyRules(cmdlet);
    this.state.dialPlans.push({ name: bare(name), normalizationRules: rules, description: options.description ?? null, simpleName: options.simpleName ?? bare(name) });
  }

  setDialPlan(cmdlet: string, name: string, options: { description?: string; simpleName?: string; rules?: NormalizationRuleState[] }): void {
    const found = this.state.dialPlans.find((d) => same(d.name, bare(name)));
    if (found === undefined) throw routingErrors.notFound(cmdlet, name);
    if (options.rules !== undefined) {
      if (options.rules.length > 50) throw routingErrors.tooManyRules(cmdlet);
      found.normalizationRules = options.rules;
    }
    if (options.description !== undefined) found.description = options.description;
    if (options.simpleName !== undefined) found.simpleName = options.simpleName;
  }

  // ---- CallingLineIdentity policies ----

  getCallingLineIdentities(cmdlet: string, identity?: string): Record<string, unknown>[] {
    const global: CliState = {
      name: 'Global',
      description: null,
      callingIdSubstitute: 'LineUri',
      serviceNumber: null,
      resourceAccount: null,
      companyName: null,
      enableUserOverride: false,
      blockIncomingPstnCallerId: false,
    };
    const rows = [global, ...this.state.callingLineIdentities].map((c) => ({
      Identity: c.name === 'Global' ? 'Global' : `Tag:${c.name}`,
      Description: c.description,
      CallingIDSubstitute: c.callingIdSubstitute,
      ServiceNumber: c.serviceNumber,
      ResourceAccount: c.resourceAccount,
      CompanyName: c.companyName,
      EnableUserOverride: c.enableUserOverride,
      BlockIncomingPstnCallerID: c.blockIncomingPstnCallerId,
    }));
    return filterIdentity(cmdlet, rows, identity, 'CallingLineIdentity');
  }

  newCallingLineIdentity(cmdlet: string, name: string, args: CliArgs): void {
    if (same(bare(name), 'Global') || this.state.callingLineIdentities.some((c) => same(c.name, bare(name)))) throw routingErrors.exists(cmdlet, name);
    const cli: CliState = {
      name: bare(name),
      description: null,
      callingIdSubstitute: 'LineUri',
      serviceNumber: null,
      resourceAccount: null,
      companyName: null,
      enableUserOverride: false,
      blockIncomingPstnCallerId: false,
    };
    this.applyCli(cmdlet, cli, args);
    this.state.callingLineIdentities.push(cli);
  }

  setCallingLineIdentity(cmdlet: string, name: string, args: CliArgs): void {
    const found = this.state.callingLineIdentities.find((c) => same(c.name, bare(name)));
    if (found === undefined) throw routingErrors.notFound(cmdlet, name);
    const next = structuredClone(found);
    this.applyCli(cmdlet, next, args);
    Object.assign(found, next);
  }

  private applyCli(cmdlet: string, cli: CliState, args: CliArgs): void {
    if (args.callingIdSubstitute !== undefined) {
      const value = (['LineUri', 'Anonymous', 'Resource'] as const).find((v) => same(v, args.callingIdSubstitute ?? ''));
      if (same(args.callingIdSubstitute, 'Service')) throw routingErrors.serviceDeprecated(cmdlet);
      if (value === undefined) {
        throw rest('BadRequest', cmdlet, `CallingIDSubstitute "${args.callingIdSubstitute}" is not valid; supported values are Anonymous, LineUri and Resource.`);
      }
      cli.callingIdSubstitute = value;
    }
    if (args.description !== undefined) cli.description = args.description;
    if (args.resourceAccount !== undefined) cli.resourceAccount = args.resourceAccount;
    if (args.companyName !== undefined) cli.companyName = args.companyName;
    if (args.enableUserOverride !== undefined) cli.enableUserOverride = args.enableUserOverride;
    if (args.blockIncomingPstnCallerId !== undefined) cli.blockIncomingPstnCallerId = args.blockIncomingPstnCallerId;
    if (cli.callingIdSubstitute === 'Resource' && cli.resourceAccount === null) throw routingErrors.resourceNeeded(cmdlet);
  }
}

function filterIdentity<R extends { Identity: string }>(cmdlet: string, rows: R[], identity: string | undefined, policyType: string): R[] {
  if (identity === undefined) return rows;
  const match = rows.filter((r) => same(bare(r.Identity), bare(identity)));
  if (match.length === 0) throw rest('NotFound', cmdlet, `Cannot find policy "${bare(identity)}" of type ${policyType} in scope "Tag"`);
  return match;
}
