import { createMemoryProvisioningRecords } from '../../shared/adapters/memory-provisioning-records.js';
import { provisioningRecordsContract } from './provisioning-records.contract.js';

provisioningRecordsContract('memory', () => createMemoryProvisioningRecords());
