import { createTableNumberInventory } from '../../shared/adapters/table-number-inventory.js';
import { useAzurite } from '../helpers/azurite.js';
import { numberInventoryContract } from './number-inventory.contract.js';

const azurite = useAzurite();

numberInventoryContract('Azure Table Storage (Azurite)', () =>
  createTableNumberInventory({ connectionString: azurite.connectionString(), tableNames: azurite.uniqueTableNames() }),
);
