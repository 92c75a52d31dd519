import { createMemoryNumberInventory } from '../../shared/adapters/memory-number-inventory.js';
import { numberInventoryContract } from './number-inventory.contract.js';

numberInventoryContract('memory', () => createMemoryNumberInventory());
