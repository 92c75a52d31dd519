import { effectiveTenants, implicitTenant, type EffectiveTenant } from '../domain/tenants.js';
import type { TenantRegistry } from '../ports/tenant-registry.js';

/** How long a read of the tenant registry is used before it is read again. */
export const TENANTS_CACHE_MS = 60_000;

export interface CachedTenantsOptions {
  now?: () => number;
  ttlMs?: number;
  /**
   * Once a list has been read, keep answering with it while the next read runs, and after that
   * read failed (the webhook: Graph waits 3 s for its answer, so a slow or failing Table must not
   * hold it). Without it a caller waits for each read once the list is older than `ttlMs`, and a
   * failed read fails the call (the stages: a message is retried by its queue).
   */
  staleWhileRefreshing?: boolean;
}

/**
 * The tenants in force for routing, read from the registry at most once per `ttlMs` (a tenant
 * added with `dialtone tenants add` is routed to within about a minute). While nothing is
 * registered the one implicit tenant routes everything and messages keep their old shape.
 */
export function cachedTenants(registry: TenantRegistry, homeTenantId?: string, options: CachedTenantsOptions = {}): () => Promise<readonly EffectiveTenant[]> {
  const now = options.now ?? Date.now;
  const ttl = options.ttlMs ?? TENANTS_CACHE_MS;
  const read = () => registry.list().then((rows) => effectiveTenants(rows, implicitTenant({ tenantId: homeTenantId })));
  let cached: { at: number; tenants: Promise<readonly EffectiveTenant[]> } | undefined;
  let lastGood: readonly EffectiveTenant[] | undefined;
  let refreshing = false;
  return () => {
    const t = now();
    if (cached && t - cached.at < ttl) return cached.tenants;
    if (options.staleWhileRefreshing && lastGood !== undefined) {
      if (!refreshing) {
        refreshing = true;
        read()
          .then((tenants) => {
            lastGood = tenants;
            cached = { at: now(), tenants: Promise.resolve(tenants) };
          })
          // The last list stays in use, and the next call reads again (one read at a time).
          .catch(() => undefined)
          .finally(() => {
            refreshing = false;
          });
      }
      return Promise.resolve(lastGood);
    }
    const tenants = read();
    const entry = { at: t, tenants };
    cached = entry;
    tenants.then(
      (list) => {
        lastGood = list;
      },
      () => {
        if (cached === entry) cached = undefined;
      },
    );
    return tenants;
  };
}
