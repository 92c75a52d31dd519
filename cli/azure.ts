import { DefaultAzureCredential } from '@azure/identity';
import { createServiceBusClient } from '../shared/adapters/service-bus-client.js';
import { createFilePolicyCatalog } from '../shared/adapters/file-policy-catalog.js';
import { createGraphDirectory } from '../shared/adapters/graph-directory.js';
import { loadVoicePolicyFile } from '../shared/adapters/policy-file.js';
import { createTableNumberInventory } from '../shared/adapters/table-number-inventory.js';
import { createTableProvisioningRecords } from '../shared/adapters/table-provisioning-records.js';
import { loadOperatorSettings, required } from '../shared/config/settings.js';
import type { BusClient } from '../shared/ports/bus.js';
import { systemClock } from '../shared/ports/clock.js';
import type { Directory } from '../shared/ports/directory.js';
import type { NumberInventory } from '../shared/ports/number-inventory.js';
import type { ProvisioningRecords } from '../shared/ports/provisioning-records.js';
import type { DoctorProbes } from '../shared/usecases/doctor.js';
import type { PlanDeps } from '../shared/usecases/plan-voice.js';
import { createGraphTeamsAdmin } from '../shared/adapters/graph-teams-admin.js';
import { createTableTenantRegistry } from '../shared/adapters/entity-tenant-registry.js';
import { implicitTenant } from '../shared/domain/tenants.js';
import type { TenantsBackend } from './commands/tenants.js';
import { realDoctorProbes, tenantDoctorProbes } from './doctor-probes.js';
import { createGraphSubscriptions } from '../shared/adapters/graph-subscriptions.js';
import type { GraphSubscriptionsHandle } from './commands/tenant.js';
import type { SetupBackend } from './commands/setup.js';
import { createGraphEntraAdmin } from '../shared/adapters/graph-entra-admin.js';
import { createKeyVaultCertificates } from '../shared/adapters/keyvault-certificates.js';
import { createEntityWorkerReports } from '../shared/adapters/entity-worker-reports.js';
import { azureEntityTable, createTableClient } from '../shared/adapters/table-client.js';

/**
 * The real deployment behind the operator commands (signed in with `az login`). Loaded only
 * when a command needs Azure, so `dialtone --help` and sandbox work never load the Azure SDKs.
 */
export async function realProbes(): Promise<DoctorProbes> {
  let settings;
  try {
    settings = loadOperatorSettings();
  } catch (error) {
    return { settingsProblems: [(error as Error).message], skipped: [] };
  }
  const credential = new DefaultAzureCredential();
  const tables = settings.tables;
  const serviceBus = settings.serviceBus;
  const probes = realDoctorProbes(settings, credential, {
    ...(serviceBus ? { bus: () => createServiceBusClient(serviceBus, credential) } : {}),
    ...(tables
      ? { inventory: () => createTableNumberInventory('endpoint' in tables ? { endpoint: tables.endpoint, credential } : tables, { defaultTenantId: settings.tenantId }) }
      : {}),
  });
  // Every registered tenant's consent, Teams role and certificate (none registered: the deployment's own checks above).
  if (tables) {
    try {
      const registered = await createTableTenantRegistry('endpoint' in tables ? { endpoint: tables.endpoint, credential } : tables).list();
      probes.tenants = tenantDoctorProbes(settings, credential, registered);
    } catch (error) {
      probes.settingsProblems.push(`the tenant registry could not be read: ${(error as Error).message}`);
    }
  }
  return probes;
}

export async function realBus(command = 'dialtone dlq'): Promise<BusClient> {
  const settings = loadOperatorSettings();
  const serviceBus = required(settings.serviceBus, 'DIALTONE_SERVICEBUS_NAMESPACE', command);
  return createServiceBusClient(serviceBus, new DefaultAzureCredential());
}

function tableOptions(command: string) {
  const tables = required(loadOperatorSettings().tables, 'DIALTONE_TABLES_ENDPOINT', command);
  return 'endpoint' in tables ? { endpoint: tables.endpoint, credential: new DefaultAzureCredential() } : tables;
}

export async function realInventory(command = 'dialtone numbers'): Promise<NumberInventory> {
  return createTableNumberInventory(tableOptions(command), { defaultTenantId: loadOperatorSettings().tenantId });
}

export async function realRecords(command = 'dialtone status'): Promise<ProvisioningRecords> {
  return createTableProvisioningRecords(tableOptions(command));
}

/** Dialtone's Graph subscriptions (`dialtone tenant unlink`), signed in as the operator. */
export async function realGraphSubscriptions(): Promise<GraphSubscriptionsHandle> {
  const settings = loadOperatorSettings();
  const notificationUrl = required(settings.graphNotificationUrl, 'DIALTONE_GRAPH_NOTIFICATION_URL', 'dialtone tenant unlink (to find Dialtone\'s Graph subscription)');
  const subscriptions = createGraphSubscriptions({ baseUrl: settings.graphBaseUrl, credential: new DefaultAzureCredential() });
  return { subscriptions, notificationUrl, close: async () => undefined };
}

/** The tenant registry (Table Storage `tenants`) and the tenant the deployment's settings name. */
export async function realTenants(): Promise<TenantsBackend> {
  const settings = loadOperatorSettings();
  return {
    registry: createTableTenantRegistry(tableOptions('dialtone tenants')),
    implicit: implicitTenant({ tenantId: settings.tenantId, applicationId: settings.applicationId, certificateName: settings.certificateName, voicePolicy: settings.policyPath }),
  };
}

/** Entra ID through Graph, for the person resolver and `plan`. */
export async function realDirectory(): Promise<Directory> {
  const settings = loadOperatorSettings();
  return createGraphDirectory({ baseUrl: settings.graphBaseUrl, credential: new DefaultAzureCredential() });
}

export async function realPlanDeps(): Promise<PlanDeps> {
  const settings = loadOperatorSettings();
  return {
    directory: await realDirectory(),
    records: await realRecords('dialtone plan'),
    inventory: await realInventory('dialtone plan'),
    catalog: createFilePolicyCatalog(settings.policyCatalogPath),
    policy: await loadVoicePolicyFile(settings.policyPath),
    clock: systemClock,
    snapshotMaxAgeMs: 0,
    reservationTtlMs: 0,
    // Teams' live state (and readiness), as the plan function reads it; needs TeamsUserConfiguration.Read.All.
    teams: createGraphTeamsAdmin({ baseUrl: settings.graphBaseUrl, credential: new DefaultAzureCredential() }),
  };
}

/** Entra through Graph and the Key Vault, as the signed-in operator (`dialtone setup`, `dialtone cert`). */
export async function realSetup(): Promise<SetupBackend> {
  const settings = loadOperatorSettings();
  const vaultUrl = required(settings.keyVaultUrl, 'DIALTONE_KEYVAULT_URL', 'dialtone setup');
  const credential = new DefaultAzureCredential();
  const { CertificateClient } = await import('@azure/keyvault-certificates');
  return {
    entra: createGraphEntraAdmin({ baseUrl: settings.graphBaseUrl, credential }),
    vault: createKeyVaultCertificates(new CertificateClient(vaultUrl, credential)),
    defaults: {
      ...(settings.functionPrincipalId ? { functionPrincipalId: settings.functionPrincipalId } : {}),
      ...(settings.certificateName ? { certificateName: settings.certificateName } : {}),
      ...(settings.applicationId ? { applicationId: settings.applicationId } : {}),
      ...(settings.tenantId ? { tenantId: settings.tenantId } : {}),
      teamsBackend: settings.teamsBackend,
      teamsReadiness: settings.teamsReadiness,
    },
    workerReports: async () => {
      const tables = settings.tables;
      if (!tables) return undefined;
      const connection = 'endpoint' in tables ? { endpoint: tables.endpoint, credential } : tables;
      return createEntityWorkerReports(azureEntityTable(createTableClient(connection, 'sessionslots')));
    },
    clock: systemClock,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    close: async () => undefined,
  };
}
