import type { NumberInventory } from '../ports/number-inventory.js';
import { createEntityNumberInventory, type InventoryOptions } from './entity-number-inventory.js';
import { azureEntityTable, createTableClient, defaultTableNames, type TableStorageOptions } from './table-client.js';

/** The number inventory on Azure Table Storage (production with a credential, Azurite with a connection string). */
export function createTableNumberInventory(options: TableStorageOptions, inventory: InventoryOptions = {}): NumberInventory {
  const names = { ...defaultTableNames, ...options.tableNames };
  return createEntityNumberInventory({
    numbers: azureEntityTable(createTableClient(options, names.numbers)),
    history: azureEntityTable(createTableClient(options, names.numberHistory)),
  }, inventory);
}
