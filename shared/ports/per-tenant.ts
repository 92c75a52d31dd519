/**
 * A service that exists once per tenant (docs/MULTI-TENANT.md): each tenant's own Graph directory,
 * Teams administration, subscriptions, voice policy. A use case takes either one instance (a
 * single-tenant deployment, tests, the CLI) or a resolver, and asks the resolver for the tenant a
 * message names (`undefined`: the deployment's default tenant, as messages without a tenantId are).
 *
 * The resolver answers for that tenant only, from that tenant's registry entry: A's directory is
 * never handed out for B. A tenant whose credential cannot be made fails (a DialtoneError with
 * the fix in its message) for that tenant's messages alone.
 */
export interface PerTenant<T> {
  readonly perTenant: true;
  forTenant(tenantId: string | undefined): Promise<T>;
}

/** One instance for the whole deployment, or one per tenant. */
export type OneOrPerTenant<T> = T | PerTenant<T>;

export function isPerTenant<T>(value: OneOrPerTenant<T>): value is PerTenant<T> {
  return typeof value === 'object' && value !== null && (value as { perTenant?: unknown }).perTenant === true;
}

/** The instance serving `tenantId`: the one given, or the resolver's answer for it. */
export async function inTenant<T>(value: OneOrPerTenant<T>, tenantId: string | undefined): Promise<T> {
  return isPerTenant(value) ? value.forTenant(tenantId) : value;
}

/** A resolver from a function (tests, the sandbox). */
export function perTenant<T>(forTenant: (tenantId: string | undefined) => Promise<T>): PerTenant<T> {
  return { perTenant: true, forTenant };
}
