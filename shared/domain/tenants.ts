/**
 * The tenants one deployment serves (issue 16), as plain data: what is kept per tenant, its
 * bounds, and the rules that decide which tenant a piece of work belongs to. Pure: no I/O, no
 * clock (times are passed in).
 *
 * A deployment with no registry serves exactly one tenant, the *implicit* one, made from its
 * settings; data written before the registry existed (messages and records without a tenantId)
 * belongs to that tenant, the deployment's default tenant.
 */
import { z } from 'zod';
import { correlationStrategies } from './correlation.js';

/** Entra tenant ids and app (client) ids are GUIDs. */
const guid = (what: string) => z.string().trim().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, `must be ${what} (a GUID)`).transform((s) => s.toLowerCase());

/** Key Vault object names: 1–127 letters, digits and dashes. */
const keyVaultName = z.string().trim().regex(/^[0-9A-Za-z-]{1,127}$/, 'must be a Key Vault certificate name (1-127 letters, digits and dashes)');

/** A file reference (the voice policy, the tenant voice configuration): a path or blob name. */
const fileRef = z.string().trim().min(1).max(1_024);

/** Pool ids as the numbers file names them (shared/domain/numbers.ts). */
const poolId = z.string().trim().min(1).max(64).regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be a pool id (letters, digits, dot, dash, underscore)');

/** A UPN domain used to route HR events that carry no tenantId. */
const upnDomain = z
  .string()
  .trim()
  .min(3)
  .max(253)
  .regex(/^(?=.{3,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i, 'must be a domain name such as contoso.com')
  .transform((s) => s.toLowerCase());

const unique = <T extends z.ZodTypeAny>(item: T, max: number) =>
  z
    .array(item)
    .max(max)
    .refine((values: unknown[]) => new Set(values).size === values.length, 'must not name the same value twice');

/** Teams sessions one tenant allows at once across all workers: about 10 per tenant (FIELD-NOTES). */
export const TENANT_SESSION_LIMIT_MAX = 10;

/** What an operator gives for a tenant (`dialtone tenants add`). */
export const TenantInputSchema = z.object({
  tenantId: guid('the Entra tenant id'),
  displayName: z.string().trim().min(1).max(256),
  /** The app registration the worker connects to this tenant with (multi-tenant app or one per tenant). */
  applicationId: guid('the app registration (client) id'),
  /** The Key Vault certificate (with its private key) for that app in this tenant. */
  certificateName: keyVaultName,
  /** The voice policy file for this tenant (docs/POLICY.md); none = the deployment's. */
  voicePolicy: fileRef.optional(),
  /** The tenant voice configuration file (`dialtone tenant plan|apply --config`), for reference. */
  tenantVoiceConfig: fileRef.optional(),
  /** The number pools of this tenant's own inventory (another tenant may have a pool of the same id). */
  pools: unique(poolId, 200).default([]),
  /** Lookup order in this tenant's directory; none = the deployment's. */
  correlationStrategies: unique(z.enum(correlationStrategies), correlationStrategies.length).pipe(z.array(z.enum(correlationStrategies)).min(1)).optional(),
  /** Who applies this tenant's voice commands; none = the deployment's (DIALTONE_TEAMS_BACKEND). */
  teamsBackend: z.enum(['powershell', 'graph']).optional(),
  /** Teams PowerShell sessions this tenant allows at once, across every worker. */
  sessionLimit: z.number().int().min(1).max(TENANT_SESSION_LIMIT_MAX).default(3),
  /** UPN domains whose HR events belong to this tenant when an event names no tenantId. */
  upnDomains: unique(upnDomain, 50).default([]),
});
export type TenantInput = z.input<typeof TenantInputSchema>;

export const TenantSchema = TenantInputSchema.extend({
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Tenant = z.infer<typeof TenantSchema>;

/**
 * What `dialtone tenants update` may change (the tenant id never changes). Parse it to check it
 * only: its parsed value has the defaults of the fields not given; merge the patch as given.
 */
export const TenantPatchSchema = TenantInputSchema.omit({ tenantId: true }).partial().strict();
export type TenantPatch = z.input<typeof TenantPatchSchema>;

/** A tenant as the deployment sees it: registered, or the implicit one made from the settings. */
export interface EffectiveTenant extends Omit<Tenant, 'createdAt' | 'updatedAt'> {
  source: 'registry' | 'implicit';
}

/** The settings a single-tenant deployment runs with, from which the implicit tenant is made. */
export interface ImplicitTenantSettings {
  tenantId: string | undefined;
  applicationId?: string | undefined;
  certificateName?: string | undefined;
  voicePolicy?: string | undefined;
  correlationStrategies?: readonly (typeof correlationStrategies)[number][] | undefined;
  teamsBackend?: 'powershell' | 'graph' | undefined;
  sessionLimit?: number | undefined;
}

/** The tenant id given to data of a deployment whose settings name no tenant (the sandbox's own, or unknown). */
export const UNNAMED_TENANT = 'default';

export function implicitTenant(settings: ImplicitTenantSettings): EffectiveTenant {
  return {
    source: 'implicit',
    tenantId: settings.tenantId?.toLowerCase() ?? UNNAMED_TENANT,
    displayName: 'the deployment\'s own tenant (no registry)',
    applicationId: settings.applicationId ?? '',
    certificateName: settings.certificateName ?? '',
    ...(settings.voicePolicy ? { voicePolicy: settings.voicePolicy } : {}),
    pools: [],
    ...(settings.correlationStrategies ? { correlationStrategies: [...settings.correlationStrategies] } : {}),
    teamsBackend: settings.teamsBackend ?? 'powershell',
    sessionLimit: Math.min(TENANT_SESSION_LIMIT_MAX, Math.max(1, settings.sessionLimit ?? 3)),
    upnDomains: [],
  };
}

/** The tenants in force: the registry's, or the implicit one while the registry is empty. */
export function effectiveTenants(registered: readonly Tenant[], implicit: EffectiveTenant): EffectiveTenant[] {
  if (registered.length === 0) return [implicit];
  return registered.map(({ createdAt: _c, updatedAt: _u, ...t }) => ({ ...t, source: 'registry' as const }));
}

/** Which tenant a stored item without a tenantId belongs to: the deployment's default tenant. */
export function tenantOf(item: { tenantId?: string | undefined }, defaultTenantId: string): string {
  return item.tenantId ?? defaultTenantId;
}

/**
 * Why two tenants may not both be registered like this (a UPN domain claimed twice), or undefined.
 * Pools are not compared: every tenant has its own inventory, so two tenants may both have a pool
 * `ams` (a number still belongs to one tenant only: the inventory refuses an overlapping import).
 */
export function registryConflict(candidate: Pick<Tenant, 'tenantId' | 'upnDomains'>, others: readonly Tenant[]): string | undefined {
  for (const other of others) {
    if (other.tenantId === candidate.tenantId) continue;
    const domain = candidate.upnDomains.find((d) => other.upnDomains.includes(d));
    if (domain) return `UPN domain ${domain} already routes to tenant ${other.tenantId} (${other.displayName})`;
  }
  return undefined;
}

export type TenantRouting =
  | { ok: true; tenantId: string; by: 'event' | 'upnDomain' | 'implicit' }
  | { ok: false; reason: string };

/**
 * The tenant an HR event belongs to: the tenantId it names (which must be a tenant in force), else
 * the tenant whose UPN domain matches the person's UPN (or mail), else — with exactly one tenant
 * in force — that tenant. Anything else is refused with a reason naming what to fix.
 */
export function routeToTenant(event: { tenantId?: string | undefined; person: { userPrincipalName?: string | undefined; mail?: string | undefined } }, tenants: readonly EffectiveTenant[]): TenantRouting {
  if (event.tenantId !== undefined) {
    const id = event.tenantId.toLowerCase();
    if (tenants.some((t) => t.tenantId === id)) return { ok: true, tenantId: id, by: 'event' };
    return { ok: false, reason: `tenantId ${event.tenantId} is not a tenant of this deployment (see dialtone tenants list)` };
  }
  for (const name of [event.person.userPrincipalName, event.person.mail]) {
    const domain = name?.split('@')[1]?.toLowerCase();
    if (!domain) continue;
    const matches = tenants.filter((t) => t.upnDomains.includes(domain));
    if (matches.length === 1 && matches[0]) return { ok: true, tenantId: matches[0].tenantId, by: 'upnDomain' };
  }
  if (tenants.length === 1 && tenants[0]) return { ok: true, tenantId: tenants[0].tenantId, by: 'implicit' };
  return {
    ok: false,
    reason: `the event names no tenantId and its UPN domain routes to no tenant; ${tenants.length} tenants are registered, so add "tenantId" to the event or a UPN domain to a tenant (dialtone tenants update --upn-domain)`,
  };
}

/** Where a tenant's voice commands go, or why they cannot go anywhere in this deployment. */
export type VoiceCommandRoute = { ok: true; queue: string } | { ok: false; reason: string };

/**
 * The queue for a tenant's voice commands, by its Teams backend (the registry's `teamsBackend`)
 * and what the deployment runs: `voice-commands` is consumed by the graphVoice function in a
 * graph deployment and by the hybrid worker in a powershell one; a graph deployment's worker (when
 * there is one) takes `pwshQueue` (DIALTONE_GRAPH_FALLBACK_QUEUE, voice-commands-pwsh). A
 * powershell deployment runs no graphVoice, so a tenant that asks for Graph is refused, saying how
 * to fix it, rather than being applied through PowerShell behind the operator's back.
 */
export function voiceCommandRoute(
  tenant: { tenantId: string; teamsBackend?: 'powershell' | 'graph' | undefined } | undefined,
  deployment: { backend: 'powershell' | 'graph'; commandsQueue: string; pwshQueue: string | undefined },
): VoiceCommandRoute {
  const wanted = tenant?.teamsBackend ?? deployment.backend;
  if (wanted === deployment.backend) return { ok: true, queue: deployment.commandsQueue };
  if (wanted === 'powershell') {
    if (deployment.pwshQueue) return { ok: true, queue: deployment.pwshQueue };
    return {
      ok: false,
      reason: `tenant ${tenant?.tenantId ?? '(default)'} is served with teamsBackend powershell, and this graph deployment runs no hybrid worker (DIALTONE_GRAPH_FALLBACK_QUEUE is not set): deploy with graphWithWorker=true or set the tenant's teamsBackend to graph (dialtone tenants update), then replay`,
    };
  }
  return {
    ok: false,
    reason: `tenant ${tenant?.tenantId ?? '(default)'} is registered with teamsBackend graph, and this deployment runs DIALTONE_TEAMS_BACKEND=powershell (no graphVoice function): deploy with teamsBackend=graph (graphWithWorker=true keeps the worker for powershell tenants) or set the tenant's teamsBackend to powershell, then replay`,
  };
}
