import type { ProvisioningRecords } from '../ports/provisioning-records.js';
import { createEntityProvisioningRecords } from './entity-provisioning-records.js';
import type { MemoryStorageOptions } from './memory-number-inventory.js';
import { createMemoryTableService } from './memory-table-client.js';
import { defaultTableNames } from './entity-table.js';

/** Provisioning records in memory, with the same optimistic-concurrency semantics as Table Storage. */
export function createMemoryProvisioningRecords(options: MemoryStorageOptions = {}): ProvisioningRecords {
  const service = options.service ?? createMemoryTableService();
  const names = { ...defaultTableNames, ...options.tableNames };
  return createEntityProvisioningRecords(service.table(names.provisioning));
}
