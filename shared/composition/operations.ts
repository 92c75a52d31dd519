import { DefaultAzureCredential, ManagedIdentityCredential } from '@azure/identity';
import { createTableNumberInventory } from '../adapters/table-number-inventory.js';
import { loadFunctionSettings } from '../config/settings.js';
import type { NumberInventory } from '../ports/number-inventory.js';
import type { Telemetry } from '../ports/telemetry.js';
import { productionTelemetry } from './telemetry.js';

/** What the poolMetrics timer needs: the inventory's pool counts and the telemetry to report them. */
export function productionPoolReport(): { inventory: Pick<NumberInventory, 'pools'>; telemetry: Telemetry } {
  const settings = loadFunctionSettings();
  const credential = settings.managedIdentityClientId
    ? new ManagedIdentityCredential({ clientId: settings.managedIdentityClientId })
    : new DefaultAzureCredential();
  const tables = 'endpoint' in settings.tables ? { endpoint: settings.tables.endpoint, credential } : { connectionString: settings.tables.connectionString };
  return { inventory: createTableNumberInventory(tables, { defaultTenantId: settings.tenantId }), telemetry: productionTelemetry(credential) };
}
