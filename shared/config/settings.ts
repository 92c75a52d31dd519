import { z } from 'zod';
import { DialtoneError } from '../domain/errors.js';
import { correlationStrategies } from '../domain/correlation.js';
import { policyTypes, type PolicyType } from '../domain/voice-state.js';
import type { CorrelationStrategy } from '../ports/directory.js';

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const namespaceHost = z
  .string()
  .regex(/^[a-z0-9-]+\.servicebus\.windows\.net$/i, 'must be a namespace host name such as contoso-dialtone.servicebus.windows.net');

/**
 * A Service Bus connection string is accepted for the emulator only (compose.yaml): Azure is
 * reached with the managed identity, so no SAS key of a real namespace is ever in a setting. The
 * message never repeats the value (it holds a key).
 */
const emulatorConnectionString = z
  .string()
  .refine(
    (v) => /(^|;)\s*UseDevelopmentEmulator\s*=\s*true\s*(;|$)/i.test(v) && /(^|;)\s*Endpoint\s*=\s*sb:\/\//i.test(v),
    'must be the Service Bus emulator\'s connection string (Endpoint=sb://…;…;UseDevelopmentEmulator=true); in Azure use the namespace and the managed identity',
  );

/** Where Service Bus is: a namespace reached with the managed identity, or the local emulator. */
export type ServiceBusTarget = { kind: 'namespace'; namespace: string } | { kind: 'emulator'; connectionString: string };

/** One of the two settings, never both; the issue names `identity` (the Azure one) when neither is set. */
function exactlyOneServiceBus(identity: string, connection: string) {
  return (env: Record<string, unknown>, ctx: z.RefinementCtx): void => {
    const has = (key: string) => env[key] !== undefined;
    if (has(identity) && has(connection)) {
      ctx.addIssue({ code: 'custom', path: [connection], message: `set either ${identity} (Azure, managed identity) or ${connection} (the local emulator), not both` });
    } else if (!has(identity) && !has(connection)) {
      ctx.addIssue({ code: 'custom', path: [identity], message: `is required (or ${connection}, the local emulator's connection string)` });
    }
  };
}

function serviceBusTarget(namespace: string | undefined, connectionString: string | undefined): ServiceBusTarget | undefined {
  if (connectionString !== undefined) return { kind: 'emulator', connectionString };
  return namespace !== undefined ? { kind: 'namespace', namespace } : undefined;
}

const FunctionEnvSchema = z
  .object({
    // The same two settings the Service Bus trigger reads for connection 'ServiceBusConnection'.
    ServiceBusConnection__fullyQualifiedNamespace: namespaceHost.optional(),
    ServiceBusConnection: emulatorConnectionString.optional(),
    AZURE_CLIENT_ID: z.string().uuid().optional(),
    DIALTONE_TABLES_ENDPOINT: z.url().optional(),
    DIALTONE_TABLES_CONNECTION_STRING: z.string().min(1).optional(),
    DIALTONE_POLICY_PATH: z.string().min(1).default('config/voice-policy.yaml'),
    DIALTONE_POLICY_CATALOG_PATH: z.string().min(1).default('config/policy-catalog.json'),
    DIALTONE_GRAPH_BASE_URL: z.url().default('https://graph.microsoft.com/v1.0'),
    /** `simulator`: a fixed placeholder token for the Graph simulator of compose.yaml, never for Microsoft Graph. */
    DIALTONE_GRAPH_CREDENTIAL: z.enum(['azure', 'simulator']).default('azure'),
    DIALTONE_CORRELATION_STRATEGIES: z
      .string()
      .default('userPrincipalName,employeeId,mail')
      .transform((value) => value.split(',').map((s) => s.trim()).filter(Boolean))
      .pipe(z.array(z.enum(correlationStrategies)).min(1)),
    DIALTONE_RETRY_WINDOW_MINUTES: positiveInt(1440),
    DIALTONE_MAX_TRANSIENT_RETRIES: positiveInt(8),
    DIALTONE_SNAPSHOT_MAX_AGE_SECONDS: positiveInt(300),
    DIALTONE_RESERVATION_TTL_MINUTES: positiveInt(1440),
    DIALTONE_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
    DIALTONE_GRAPH_NOTIFICATION_URL: z
      .url()
      .refine((u) => u.startsWith('https://'), 'must be the https URL of the graphNotifications function, with its ?code= key')
      .optional(),
    DIALTONE_GRAPH_CLIENT_STATE: z.string().min(16, 'must be at least 16 characters').max(128, 'must be at most 128 characters').optional(),
    DIALTONE_TEAMS_BACKEND: z.enum(['powershell', 'graph']).default('powershell'),
    DIALTONE_TEAMS_READINESS: z.enum(['graph', 'off']).default('graph'),
    // Empty (the Bicep's value when no worker is deployed) means none.
    DIALTONE_GRAPH_FALLBACK_QUEUE: z.preprocess(
      (v) => (v === '' ? undefined : v),
      z
        .string()
        .regex(/^[a-z0-9][a-z0-9._-]{0,259}$/i, 'must be a Service Bus queue name (the hybrid worker\'s queue)')
        .optional(),
    ),
    /** The home tenant (the Function App's own): reached with the managed identity; other registered tenants with their certificate. Also the owner of the number inventory's data from before tenants. */
    DIALTONE_TENANT_ID: z.uuid('must be the Entra tenant id (a GUID)').optional(),
    /** The Key Vault holding each registered tenant's certificate (its registry certificateName), for Graph per tenant. */
    // Empty (the Bicep's value when the app serves its home tenant only) means none.
    DIALTONE_KEYVAULT_URL: z.preprocess(
      (v) => (v === '' ? undefined : v),
      z.url().refine((u) => u.startsWith('https://'), 'must be the https URL of the Key Vault').optional(),
    ),
    DIALTONE_GRAPH_UNSUPPORTED_POLICY_TYPES: z
      .string()
      .default('')
      .transform((value) => value.split(',').map((s) => s.trim()).filter(Boolean))
      .pipe(z.array(z.enum(policyTypes)).max(policyTypes.length)),
  })
  .refine((env) => env.DIALTONE_TABLES_ENDPOINT !== undefined || env.DIALTONE_TABLES_CONNECTION_STRING !== undefined, {
    message: 'set DIALTONE_TABLES_ENDPOINT (https://<account>.table.core.windows.net) or DIALTONE_TABLES_CONNECTION_STRING (local only)',
    path: ['DIALTONE_TABLES_ENDPOINT'],
  })
  .superRefine(exactlyOneServiceBus('ServiceBusConnection__fullyQualifiedNamespace', 'ServiceBusConnection'))
  .superRefine((env, ctx) => {
    // A token goes only where it is meant: Entra tokens over https to Graph, the placeholder to a plain-HTTP simulator.
    const plainHttp = env.DIALTONE_GRAPH_BASE_URL.startsWith('http://');
    if (env.DIALTONE_GRAPH_CREDENTIAL === 'simulator' && !plainHttp) {
      ctx.addIssue({ code: 'custom', path: ['DIALTONE_GRAPH_CREDENTIAL'], message: 'simulator is only for a Graph simulator at an http:// DIALTONE_GRAPH_BASE_URL' });
    }
    if (env.DIALTONE_GRAPH_CREDENTIAL === 'azure' && plainHttp) {
      ctx.addIssue({ code: 'custom', path: ['DIALTONE_GRAPH_BASE_URL'], message: 'must be https (an Entra token is never sent over plain HTTP; DIALTONE_GRAPH_CREDENTIAL=simulator for the local simulator)' });
    }
  });

export interface FunctionSettings {
  serviceBus: ServiceBusTarget;
  /** `simulator`: Graph is the local simulator (compose.yaml), called with a placeholder token. */
  graphCredential: 'azure' | 'simulator';
  managedIdentityClientId: string | undefined;
  tables: { endpoint: string } | { connectionString: string };
  policyPath: string;
  policyCatalogPath: string;
  graphBaseUrl: string;
  correlationStrategies: CorrelationStrategy[];
  retryWindowMs: number;
  maxTransientRetries: number;
  snapshotMaxAgeMs: number;
  reservationTtlMs: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** The secret Graph echoes in every notification; without it the webhook refuses notifications. */
  graphClientState: string | undefined;
  /** Where Graph sends notifications (the graphNotifications function with its key). */
  graphNotificationUrl: string | undefined;
  /** Who applies voice commands: the hybrid worker (powershell) or the graphVoice function. */
  teamsBackend: 'powershell' | 'graph';
  /** `graph`: plan waits until Teams' user configuration lists PhoneSystem (either backend); `off`: it does not. */
  teamsReadiness: 'graph' | 'off';
  /** graph backend: the hybrid worker's queue for the steps Graph cannot take; none = fail them. */
  graphFallbackQueue: string | undefined;
  /** graph backend: policy types to hand to PowerShell without trying Graph. */
  graphUnsupportedPolicyTypes: PolicyType[];
  /** The home tenant, reached with the managed identity (DIALTONE_TENANT_ID); also the owner of the number inventory's data from before tenants. */
  homeTenantId: string | undefined;
  /** Where registered tenants' certificates are (DIALTONE_KEYVAULT_URL), for Graph per tenant. */
  keyVaultUrl: string | undefined;
}

const TeamsBackendSchema = z.object({ DIALTONE_TEAMS_BACKEND: z.enum(['powershell', 'graph']).default('powershell') });

/**
 * Only the Teams backend, for function registration (which happens at import, before the other
 * settings are needed): a wrong value fails here with the setting's name.
 */
export function teamsBackendSetting(env: Record<string, string | undefined> = process.env): 'powershell' | 'graph' {
  const parsed = TeamsBackendSchema.safeParse(env);
  if (!parsed.success) throw new DialtoneError('ConfigInvalid', `Invalid Dialtone settings: ${describeSettingsError(parsed.error)}`);
  return parsed.data.DIALTONE_TEAMS_BACKEND;
}

/** Formats zod issues as `SETTING: problem` so a start-up failure names the setting. */
export { exactlyOneServiceBus, emulatorConnectionString, namespaceHost, serviceBusTarget };

/** Every setting the function app reads (compose.yaml is checked against it). */
export const functionSettingNames: readonly string[] = Object.keys(FunctionEnvSchema.shape);

export function describeSettingsError(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(settings)'}: ${i.message}`).join('; ');
}

/** Reads the Function App's settings once; a missing or malformed one fails with its name. */
export function loadFunctionSettings(env: Record<string, string | undefined> = process.env): FunctionSettings {
  const parsed = FunctionEnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new DialtoneError('ConfigInvalid', `Invalid Dialtone settings: ${describeSettingsError(parsed.error)}`);
  }
  const e = parsed.data;
  return {
    serviceBus: serviceBusTarget(e.ServiceBusConnection__fullyQualifiedNamespace, e.ServiceBusConnection) as ServiceBusTarget,
    graphCredential: e.DIALTONE_GRAPH_CREDENTIAL,
    managedIdentityClientId: e.AZURE_CLIENT_ID,
    tables: e.DIALTONE_TABLES_ENDPOINT
      ? { endpoint: e.DIALTONE_TABLES_ENDPOINT }
      : { connectionString: e.DIALTONE_TABLES_CONNECTION_STRING ?? '' },
    policyPath: e.DIALTONE_POLICY_PATH,
    policyCatalogPath: e.DIALTONE_POLICY_CATALOG_PATH,
    graphBaseUrl: e.DIALTONE_GRAPH_BASE_URL,
    correlationStrategies: e.DIALTONE_CORRELATION_STRATEGIES,
    retryWindowMs: e.DIALTONE_RETRY_WINDOW_MINUTES * 60_000,
    maxTransientRetries: e.DIALTONE_MAX_TRANSIENT_RETRIES,
    snapshotMaxAgeMs: e.DIALTONE_SNAPSHOT_MAX_AGE_SECONDS * 1000,
    reservationTtlMs: e.DIALTONE_RESERVATION_TTL_MINUTES * 60_000,
    logLevel: e.DIALTONE_LOG_LEVEL,
    graphClientState: e.DIALTONE_GRAPH_CLIENT_STATE,
    graphNotificationUrl: e.DIALTONE_GRAPH_NOTIFICATION_URL,
    teamsBackend: e.DIALTONE_TEAMS_BACKEND,
    teamsReadiness: e.DIALTONE_TEAMS_READINESS,
    graphFallbackQueue: e.DIALTONE_GRAPH_FALLBACK_QUEUE,
    graphUnsupportedPolicyTypes: e.DIALTONE_GRAPH_UNSUPPORTED_POLICY_TYPES,
    homeTenantId: e.DIALTONE_TENANT_ID?.toLowerCase(),
    keyVaultUrl: e.DIALTONE_KEYVAULT_URL,
  };
}

const OperatorEnvSchema = z.object({
  /** The graphNotifications function's URL: `dialtone tenant unlink` deletes the subscriptions that deliver to it. */
  DIALTONE_GRAPH_NOTIFICATION_URL: z.url().refine((u) => u.startsWith('https://'), 'must be the https URL of the graphNotifications function').optional(),
  DIALTONE_SERVICEBUS_NAMESPACE: namespaceHost.optional(),
  DIALTONE_SERVICEBUS_CONNECTION_STRING: emulatorConnectionString.optional(),
  DIALTONE_TABLES_ENDPOINT: z.url().optional(),
  DIALTONE_TABLES_CONNECTION_STRING: z.string().min(1).optional(),
  DIALTONE_KEYVAULT_URL: z.url().optional(),
  DIALTONE_CERT_NAME: z.string().min(1).optional(),
  /** The tenant a single-tenant deployment serves (the worker's DIALTONE_TENANT_ID / DIALTONE_APP_ID). */
  DIALTONE_TENANT_ID: z.uuid('must be the Entra tenant id (a GUID)').optional(),
  DIALTONE_APP_ID: z.uuid('must be the app registration (client) id (a GUID)').optional(),
  DIALTONE_FUNCTION_PRINCIPAL_ID: z.uuid().optional(),
  DIALTONE_WORKER_PRINCIPAL_ID: z.uuid().optional(),
  DIALTONE_GRAPH_BASE_URL: z.url().default('https://graph.microsoft.com/v1.0'),
  DIALTONE_POLICY_PATH: z.string().min(1).default('config/voice-policy.yaml'),
  DIALTONE_POLICY_CATALOG_PATH: z.string().min(1).default('config/policy-catalog.json'),
  DIALTONE_TEAMS_BACKEND: z.enum(['powershell', 'graph']).default('powershell'),
  DIALTONE_TEAMS_READINESS: z.enum(['graph', 'off']).default('graph'),
});

/** Every setting the operator CLI reads. */
export const operatorSettingNames: readonly string[] = Object.keys(OperatorEnvSchema.shape);

export interface OperatorSettings {
  /** Undefined when neither DIALTONE_SERVICEBUS_NAMESPACE nor DIALTONE_SERVICEBUS_CONNECTION_STRING is set. */
  serviceBus: ServiceBusTarget | undefined;
  tables: { endpoint: string } | { connectionString: string } | undefined;
  keyVaultUrl: string | undefined;
  certificateName: string | undefined;
  tenantId: string | undefined;
  applicationId: string | undefined;
  functionPrincipalId: string | undefined;
  workerPrincipalId: string | undefined;
  graphBaseUrl: string;
  graphNotificationUrl: string | undefined;
  policyPath: string;
  policyCatalogPath: string;
  /** The deployment's backend, for the permissions `doctor` checks (the Function App's DIALTONE_TEAMS_BACKEND). */
  teamsBackend: 'powershell' | 'graph';
  teamsReadiness: 'graph' | 'off';
}

/** Settings of the `dialtone` CLI against a real deployment (signed in with `az login`). */
export function loadOperatorSettings(env: Record<string, string | undefined> = process.env): OperatorSettings {
  const parsed = OperatorEnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new DialtoneError('ConfigInvalid', `Invalid Dialtone settings: ${describeSettingsError(parsed.error)}`);
  }
  const e = parsed.data;
  return {
    serviceBus: serviceBusTarget(e.DIALTONE_SERVICEBUS_NAMESPACE, e.DIALTONE_SERVICEBUS_CONNECTION_STRING),
    tables: e.DIALTONE_TABLES_ENDPOINT
      ? { endpoint: e.DIALTONE_TABLES_ENDPOINT }
      : e.DIALTONE_TABLES_CONNECTION_STRING
        ? { connectionString: e.DIALTONE_TABLES_CONNECTION_STRING }
        : undefined,
    keyVaultUrl: e.DIALTONE_KEYVAULT_URL,
    certificateName: e.DIALTONE_CERT_NAME,
    tenantId: e.DIALTONE_TENANT_ID,
    applicationId: e.DIALTONE_APP_ID,
    functionPrincipalId: e.DIALTONE_FUNCTION_PRINCIPAL_ID,
    workerPrincipalId: e.DIALTONE_WORKER_PRINCIPAL_ID,
    graphBaseUrl: e.DIALTONE_GRAPH_BASE_URL,
    graphNotificationUrl: e.DIALTONE_GRAPH_NOTIFICATION_URL,
    policyPath: e.DIALTONE_POLICY_PATH,
    policyCatalogPath: e.DIALTONE_POLICY_CATALOG_PATH,
    teamsBackend: e.DIALTONE_TEAMS_BACKEND,
    teamsReadiness: e.DIALTONE_TEAMS_READINESS,
  };
}

/** Fails with the name of the setting an operator command needs. */
export function required<T>(value: T | undefined, setting: string, purpose: string): T {
  if (value === undefined) throw new DialtoneError('ConfigInvalid', `${setting} is not set; ${purpose} needs it.`);
  return value;
}
