import { poolFill, type PoolFill } from '../domain/pool-fill.js';
import type { NumberInventory } from '../ports/number-inventory.js';
import type { Telemetry } from '../ports/telemetry.js';
import { attributeNames, metricNames } from '../telemetry/names.js';

export interface PoolFillDeps {
  inventory: Pick<NumberInventory, 'pools'> & Partial<Pick<NumberInventory, 'forTenant'>>;
  telemetry: Telemetry;
  /** The registered tenants (none: a single-tenant deployment); each one's own inventory is reported. */
  tenants?: () => Promise<readonly string[]>;
  /** The deployment's own tenant (DIALTONE_TENANT_ID): its inventory is the default one, reported once. */
  defaultTenantId?: string | undefined;
}

/**
 * Reports every pool's fill as a gauge (the workbook's pool tile and the 90% alert read it): the
 * default inventory's pools, then every other registered tenant's own pools, each with its tenant
 * (`dialtone.tenant`), so two tenants' pools of the same id are two series and two alerts.
 */
export async function reportPoolFill(deps: PoolFillDeps): Promise<(PoolFill & { tenantId?: string })[]> {
  const reported: (PoolFill & { tenantId?: string })[] = [];
  const report = async (inventory: Pick<NumberInventory, 'pools'>, tenantId: string | undefined): Promise<void> => {
    for (const fill of (await inventory.pools()).map(poolFill)) {
      deps.telemetry.gauge(metricNames.poolUsedRatio, fill.usedRatio, { [attributeNames.pool]: fill.pool, ...(tenantId ? { [attributeNames.tenant]: tenantId } : {}) });
      reported.push({ ...fill, ...(tenantId ? { tenantId } : {}) });
    }
  };
  const defaultTenant = deps.defaultTenantId?.toLowerCase();
  const registered = [...new Set((deps.tenants ? await deps.tenants() : []).map((t) => t.toLowerCase()))];
  const others = registered.filter((t) => t !== defaultTenant);
  // A single-tenant deployment's gauges stay as they were: no tenant dimension.
  await report(deps.inventory, registered.length > 0 ? defaultTenant : undefined);
  const forTenant = deps.inventory.forTenant;
  if (forTenant) for (const tenantId of others) await report(forTenant.call(deps.inventory, tenantId), tenantId);
  return reported;
}
