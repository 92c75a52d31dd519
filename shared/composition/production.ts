import { createTableTenantRegistry } from '../adapters/entity-tenant-registry.js';
import { implicitTenant, type EffectiveTenant } from '../domain/tenants.js';
import { cachedTenants } from './cached-tenants.js';
import { DefaultAzureCredential, ManagedIdentityCredential, type TokenCredential } from '@azure/identity';
import { createServiceBusClient, graphSimulatorCredential } from '../adapters/service-bus-client.js';
import { serviceBusRetryOptions, webhookSendRetry } from '../adapters/service-bus-retry.js';
import { createFilePolicyCatalog } from '../adapters/file-policy-catalog.js';
import { createGraphDirectory } from '../adapters/graph-directory.js';
import { createGraphSubscriptions } from '../adapters/graph-subscriptions.js';
import type { SubscriptionMaintenanceDeps } from '../usecases/maintain-graph-subscription.js';
import type { ResyncDeps } from '../usecases/resync-directory.js';
import { entitySyncState } from '../adapters/entity-sync-state.js';
import { azureEntityTable, createTableClient } from '../adapters/table-client.js';
import { loadVoicePolicyFile } from '../adapters/policy-file.js';
import { createTableNumberInventory } from '../adapters/table-number-inventory.js';
import { createTableProvisioningRecords } from '../adapters/table-provisioning-records.js';
import { loadFunctionSettings } from '../config/settings.js';
import { queueNames } from '../contracts/messages.js';
import { defaultRetryPolicy } from '../domain/settlement.js';
import { createCorrelateHandler, createGraphVoiceHandler, createPlanHandler, createRecordHandler } from '../handlers/stages.js';
import { createGraphTeamsAdmin } from '../adapters/graph-teams-admin.js';
import { PolicyIdCache } from '../usecases/apply-voice-graph.js';
import type { BusSender, MessageActions, ReceivedMessage } from '../ports/bus.js';
import { systemClock } from '../ports/clock.js';
import { systemSleeper } from '../ports/sleeper.js';
import { createJsonLogger } from '../logging/logger.js';
import { productionTelemetry } from './telemetry.js';
import { SecretClient } from '@azure/keyvault-secrets';
import { perTenantGraph, tenantGraphCredentials } from '../adapters/tenant-graph-credentials.js';
import type { FunctionSettings } from '../config/settings.js';
import type { PerTenant } from '../ports/per-tenant.js';
import { tenantCommandRoutes, tenantVoicePolicies } from '../usecases/tenant-settings.js';

/**
 * What the SDK-type Service Bus binding hands a function (ServiceBusMessageContext of
 * @azure/functions-extensions-servicebus), typed structurally: the package's own types point at
 * its TypeScript sources, which do not compile under this project's settings.
 */
export interface SdkBindingContext {
  messages: ReceivedMessage | ReceivedMessage[];
  actions: MessageActions;
}

export interface ProductionWebhook {
  tenants: () => Promise<readonly EffectiveTenant[]>;
  clientState: string | undefined;
  sender: BusSender;
  clock: typeof systemClock;
  logger: ReturnType<typeof createJsonLogger>;
  telemetry: ReturnType<typeof productionTelemetry>;
}

/** Graph's credential: the managed identity, or the placeholder for compose.yaml's Graph simulator (settings allow it only there). */
function graphCredential(settings: { graphCredential: 'azure' | 'simulator' }, credential: TokenCredential): TokenCredential {
  return settings.graphCredential === 'simulator' ? graphSimulatorCredential : credential;
}

let webhook: Promise<ProductionWebhook> | undefined;

/** The webhook needs only a sender: it must answer Graph within 3 s, even on a cold start. */
export function productionWebhook(): Promise<ProductionWebhook> {
  webhook ??= Promise.resolve().then(() => {
    const settings = loadFunctionSettings();
    const credential = settings.managedIdentityClientId
      ? new ManagedIdentityCredential({ clientId: settings.managedIdentityClientId })
      : new DefaultAzureCredential();
    // Before the Service Bus client exists, so the distro instruments it.
    const telemetry = productionTelemetry(credential);
    // Its own client, with retries that fit Graph's 3 s (the other Functions keep the SDK's).
    const bus = createServiceBusClient(settings.serviceBus, credential, { retryOptions: serviceBusRetryOptions(webhookSendRetry) });
    const tables = 'endpoint' in settings.tables ? { endpoint: settings.tables.endpoint, credential } : { connectionString: settings.tables.connectionString };
    return {
      // A notification's tenantId puts its change under that registered tenant.
      tenants: cachedTenants(createTableTenantRegistry(tables), settings.homeTenantId, { staleWhileRefreshing: true }),
      clientState: settings.graphClientState,
      sender: bus.createSender(queueNames.userChanges),
      clock: systemClock,
      logger: createJsonLogger({ level: settings.logLevel, write: (line) => console.log(line) }),
      telemetry,
    };
  });
  webhook.catch(() => {
    webhook = undefined;
  });
  return webhook;
}

/** The timer that keeps the Graph users subscription alive. */
export function productionSubscriptionMaintenance(): SubscriptionMaintenanceDeps {
  const settings = loadFunctionSettings();
  const credential = settings.managedIdentityClientId
    ? new ManagedIdentityCredential({ clientId: settings.managedIdentityClientId })
    : new DefaultAzureCredential();
  return {
    subscriptions: createGraphSubscriptions({ baseUrl: settings.graphBaseUrl, credential: graphCredential(settings, credential) }),
    clock: systemClock,
    logger: createJsonLogger({ level: settings.logLevel, write: (line) => console.log(line) }),
    notificationUrl: settings.graphNotificationUrl,
    clientState: settings.graphClientState,
    telemetry: productionTelemetry(credential),
    sleeper: systemSleeper,
  };
}

/** The timer that re-plans users whose change notifications were lost. */
export function productionResync(): ResyncDeps {
  const settings = loadFunctionSettings();
  const credential = settings.managedIdentityClientId
    ? new ManagedIdentityCredential({ clientId: settings.managedIdentityClientId })
    : new DefaultAzureCredential();
  const tables = 'endpoint' in settings.tables ? { endpoint: settings.tables.endpoint, credential } : { connectionString: settings.tables.connectionString };
  const logger = createJsonLogger({ level: settings.logLevel, write: (line) => console.log(line) });
  return {
    delta: createGraphDirectory({ baseUrl: settings.graphBaseUrl, credential: graphCredential(settings, credential), logger }),
    records: createTableProvisioningRecords(tables),
    state: entitySyncState(azureEntityTable(createTableClient(tables, 'dialtonesync'))),
    sender: createServiceBusClient(settings.serviceBus, credential).createSender(queueNames.userChanges),
    clock: systemClock,
    logger,
    sleeper: systemSleeper,
  };
}

/**
 * What the timer Functions need to run once per tenant in force: the tenants, the default tenant
 * (of data without a tenantId) and each tenant's own Graph (its credential: shared/adapters/tenant-graph-credentials.ts).
 */
export function productionEveryTenant(): {
  tenants: () => Promise<readonly EffectiveTenant[]>;
  defaultTenantId: string;
  directory: PerTenant<ReturnType<typeof createGraphDirectory>>;
  subscriptions: PerTenant<ReturnType<typeof createGraphSubscriptions>>;
} {
  const settings = loadFunctionSettings();
  const credential = settings.managedIdentityClientId
    ? new ManagedIdentityCredential({ clientId: settings.managedIdentityClientId })
    : new DefaultAzureCredential();
  const tables = 'endpoint' in settings.tables ? { endpoint: settings.tables.endpoint, credential } : { connectionString: settings.tables.connectionString };
  const tenants = cachedTenants(createTableTenantRegistry(tables), settings.homeTenantId);
  const credentials = tenantGraph(settings, credential, tenants);
  const logger = createJsonLogger({ level: settings.logLevel, write: (line) => console.log(line) });
  return {
    tenants,
    defaultTenantId: implicitTenant({ tenantId: settings.homeTenantId }).tenantId,
    directory: perTenantGraph(credentials, (c) => createGraphDirectory({ baseUrl: settings.graphBaseUrl, credential: c, logger })),
    subscriptions: perTenantGraph(credentials, (c) => createGraphSubscriptions({ baseUrl: settings.graphBaseUrl, credential: c })),
  };
}

export interface ProductionStages {
  correlate: ReturnType<typeof createCorrelateHandler>;
  plan: ReturnType<typeof createPlanHandler>;
  record: ReturnType<typeof createRecordHandler>;
  /** Only with DIALTONE_TEAMS_BACKEND=graph. */
  graphVoice: ReturnType<typeof createGraphVoiceHandler> | undefined;
}

let stages: Promise<ProductionStages> | undefined;

/**
 * Graph per tenant: the managed identity for the home tenant (and messages naming none), each other
 * registered tenant's own app id and Key Vault certificate (shared/adapters/tenant-graph-credentials.ts).
 */
function tenantGraph(settings: FunctionSettings, credential: TokenCredential, tenants: () => Promise<readonly EffectiveTenant[]>): PerTenant<TokenCredential> {
  if (settings.graphCredential === 'simulator') {
    return { perTenant: true, forTenant: async () => graphSimulatorCredential };
  }
  return tenantGraphCredentials({
    home: { tenantId: settings.homeTenantId, credential },
    tenants,
    vault: settings.keyVaultUrl ? { url: settings.keyVaultUrl, secrets: new SecretClient(settings.keyVaultUrl, credential) } : undefined,
    now: () => Date.now(),
  });
}

/**
 * Builds the clients once per Functions worker process (cold start) and reuses them for every
 * invocation. A bad setting fails here, on the first message, with the setting's name.
 */
export function productionStages(): Promise<ProductionStages> {
  stages ??= build().catch((error: unknown) => {
    stages = undefined;
    throw error;
  });
  return stages;
}

async function build(): Promise<ProductionStages> {
  const settings = loadFunctionSettings();
  const credential: TokenCredential = settings.managedIdentityClientId
    ? new ManagedIdentityCredential({ clientId: settings.managedIdentityClientId })
    : new DefaultAzureCredential();
  const logger = createJsonLogger({ level: settings.logLevel, write: (line) => console.log(line) });
  const telemetry = productionTelemetry(credential);
  const bus = createServiceBusClient(settings.serviceBus, credential);
  const senders = new Map<string, BusSender>();
  const sender = (queue: string): BusSender => {
    let s = senders.get(queue);
    if (!s) {
      s = bus.createSender(queue);
      senders.set(queue, s);
    }
    return s;
  };
  const tables = 'endpoint' in settings.tables ? { endpoint: settings.tables.endpoint, credential } : { connectionString: settings.tables.connectionString };
  // DIALTONE_TENANT_ID (set by infra/) names the owner of the inventory's data from before tenants.
  const inventory = createTableNumberInventory(tables, { defaultTenantId: settings.homeTenantId });
  const records = createTableProvisioningRecords(tables);
  const tenants = cachedTenants(createTableTenantRegistry(tables), settings.homeTenantId);
  const credentials = tenantGraph(settings, credential, tenants);
  const directory = perTenantGraph(credentials, (c) => createGraphDirectory({ baseUrl: settings.graphBaseUrl, credential: c }));
  const teamsAdmin = perTenantGraph(credentials, (c) => createGraphTeamsAdmin({ baseUrl: settings.graphBaseUrl, credential: c }));
  const policy = tenantVoicePolicies({ tenants, deployment: await loadVoicePolicyFile(settings.policyPath), load: loadVoicePolicyFile });
  // The catalogue file is the deployment's (an export of the home tenant's CallingLineIdentity policies).
  const catalog = createFilePolicyCatalog(settings.policyCatalogPath);
  const route = tenantCommandRoutes({
    tenants,
    deployment: { backend: settings.teamsBackend, commandsQueue: queueNames.voiceCommands, pwshQueue: settings.graphFallbackQueue },
  });
  const stageDeps = {
    clock: systemClock,
    logger,
    sender,
    telemetry,
    retryPolicy: { ...defaultRetryPolicy, waitWindowMs: settings.retryWindowMs, maxTransientAttempts: settings.maxTransientRetries },
  };
  return {
    correlate: createCorrelateHandler({ ...stageDeps, directory, records, strategies: settings.correlationStrategies, tenants }),
    plan: createPlanHandler({
      ...stageDeps,
      directory,
      records,
      inventory,
      catalog,
      policy,
      route,
      snapshotMaxAgeMs: settings.snapshotMaxAgeMs,
      reservationTtlMs: settings.reservationTtlMs,
      ...(settings.teamsReadiness === 'graph' ? { teams: teamsAdmin } : {}),
    }),
    record: createRecordHandler({ ...stageDeps, records, inventory }),
    graphVoice:
      settings.teamsBackend === 'graph'
        ? createGraphVoiceHandler({
            ...stageDeps,
            admin: teamsAdmin,
            policyIds: new PolicyIdCache(),
            unsupportedPolicyTypes: new Set(settings.graphUnsupportedPolicyTypes.map((t) => t.toLowerCase())),
            fallbackQueue: settings.graphFallbackQueue ?? null,
            pollAfterMs: 5_000,
            route,
            records,
          })
        : undefined,
  };
}
