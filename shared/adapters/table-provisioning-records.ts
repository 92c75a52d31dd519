import type { ProvisioningRecords } from '../ports/provisioning-records.js';
import { createEntityProvisioningRecords } from './entity-provisioning-records.js';
import { azureEntityTable, createTableClient, defaultTableNames, type TableStorageOptions } from './table-client.js';

/** Provisioning records on Azure Table Storage (production with a credential, Azurite with a connection string). */
export function createTableProvisioningRecords(options: TableStorageOptions): ProvisioningRecords {
  const names = { ...defaultTableNames, ...options.tableNames };
  return createEntityProvisioningRecords(azureEntityTable(createTableClient(options, names.provisioning)));
}
