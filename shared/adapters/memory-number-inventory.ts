import type { NumberInventory } from '../ports/number-inventory.js';
import { createEntityNumberInventory } from './entity-number-inventory.js';
import { createMemoryTableService, type MemoryTableService } from './memory-table-client.js';
import { defaultTableNames, type TableNames } from './entity-table.js';

export interface MemoryStorageOptions {
  /** Share one service between the inventory and the records, or keep its snapshot for later. */
  service?: MemoryTableService;
  tableNames?: Partial<TableNames>;
  /** The deployment's own tenant (shared/adapters/entity-number-inventory.ts, InventoryOptions). */
  defaultTenantId?: string | undefined;
}

/** The number inventory in memory, with the same optimistic-concurrency semantics as Table Storage. */
export function createMemoryNumberInventory(options: MemoryStorageOptions = {}): NumberInventory {
  const service = options.service ?? createMemoryTableService();
  const names = { ...defaultTableNames, ...options.tableNames };
  return createEntityNumberInventory({ numbers: service.table(names.numbers), history: service.table(names.numberHistory) }, { defaultTenantId: options.defaultTenantId });
}
