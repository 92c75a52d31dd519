import { createTableProvisioningRecords } from '../../shared/adapters/table-provisioning-records.js';
import { useAzurite } from '../helpers/azurite.js';
import { provisioningRecordsContract } from './provisioning-records.contract.js';

const azurite = useAzurite();

provisioningRecordsContract('Azure Table Storage (Azurite)', () =>
  createTableProvisioningRecords({ connectionString: azurite.connectionString(), tableNames: azurite.uniqueTableNames() }),
);
