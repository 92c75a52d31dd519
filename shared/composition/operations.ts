import { DefaultAzureCredential, ManagedIdentityCredential } from '@azure/identity';
import { createTableNumberInventory } from '../adapters/table-number-inventory.js';
import { loadFunctionSettings } from '../config/settings.js';
import { createTableTenantRegistry } from '../adapters/entity-tenant-registry.js';
import type { PoolFillDeps } from '../usecases/report-pool-fill.js';
import { productionTelemetry } from './telemetry.js';

/** What the poolMetrics timer needs: every tenant's inventory (registry), its pool counts and the telemetry to report them. */
export function productionPoolReport(): PoolFillDeps {
  const settings = loadFunctionSettings();
  const credential = settings.managedIdentityClientId
    ? new ManagedIdentityCredential({ clientId: settings.managedIdentityClientId })
    : new DefaultAzureCredential();
  const tables = 'endpoint' in settings.tables ? { endpoint: settings.tables.endpoint, credential } : { connectionString: settings.tables.connectionString };
  const registry = createTableTenantRegistry(tables);
  return {
    inventory: createTableNumberInventory(tables, { defaultTenantId: settings.homeTenantId }),
    telemetry: productionTelemetry(credential),
    tenants: async () => (await registry.list()).map((t) => t.tenantId),
    defaultTenantId: settings.homeTenantId,
  };
}
