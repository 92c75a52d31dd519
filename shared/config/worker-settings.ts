import { z } from 'zod';
import { DialtoneError } from '../domain/errors.js';
import { queueNames } from '../contracts/queues.js';
import { DEFAULT_BULK_USERS } from './bulk-defaults.js';
import { describeSettingsError, emulatorConnectionString, exactlyOneServiceBus, namespaceHost, serviceBusTarget, type ServiceBusTarget } from './settings.js';

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const nonEmpty = z.string().trim().min(1);

const WorkerEnvSchema = z
  .object({
    DIALTONE_SERVICEBUS_NAMESPACE: namespaceHost.optional(),
    /** The local emulator only (compose.yaml); Azure is reached with the host's managed identity. */
    DIALTONE_SERVICEBUS_CONNECTION_STRING: emulatorConnectionString.optional(),
    DIALTONE_TENANT_ID: z.uuid('must be the Entra tenant id (a GUID)'),
    DIALTONE_APP_ID: z.uuid('must be the app registration (client) id (a GUID)'),
    DIALTONE_KEYVAULT_URL: z.url().optional(),
    DIALTONE_CERT_NAME: nonEmpty.optional(),
    DIALTONE_CERT_FILE: nonEmpty.optional(),
    DIALTONE_CERT_PASSWORD_FILE: nonEmpty.optional(),
    DIALTONE_CERT_RELOAD_MINUTES: positiveInt(60),
    DIALTONE_PWSH_PATH: nonEmpty.default('pwsh'),
    DIALTONE_PWSH_SCRIPT: nonEmpty.default('worker/pwsh/host.ps1'),
    DIALTONE_MAX_SESSIONS: positiveInt(8),
    DIALTONE_MAX_SESSIONS_PER_TENANT: positiveInt(4),
    /** Teams sessions the tenant allows at once across every worker (leases in Table Storage). */
    DIALTONE_TENANT_SESSION_LIMIT: positiveInt(4),
    DIALTONE_SESSION_LEASE_SECONDS: positiveInt(60),
    DIALTONE_TABLES_ENDPOINT: z.url().optional(),
    DIALTONE_IDLE_TIMEOUT_SECONDS: positiveInt(600),
    DIALTONE_MAX_SESSION_AGE_MINUTES: positiveInt(50),
    DIALTONE_CMDLET_TIMEOUT_SECONDS: positiveInt(120),
    DIALTONE_CONNECT_TIMEOUT_SECONDS: positiveInt(120),
    DIALTONE_CONCURRENT_SESSIONS: positiveInt(4),
    /** The bulk path: people in flight at once sharing reads, batch policy operations and verification; 0 = off. */
    DIALTONE_BULK_USERS: z.coerce.number().int().min(0).max(5000).default(DEFAULT_BULK_USERS),
    DIALTONE_BULK_WINDOW_MS: z.coerce.number().int().min(0).max(60_000).default(2_000),
    DIALTONE_BULK_GRANT_WINDOW_MS: z.coerce.number().int().min(0).max(600_000).default(10_000),
    DIALTONE_BULK_OPERATIONS_IN_FLIGHT: z.coerce.number().int().min(1).max(10).default(4),
    DIALTONE_MAX_DELIVERY_COUNT: positiveInt(10),
    /** A throttled / unavailable tenant (or one whose certificate is refused): its first pause, doubling while it lasts. */
    DIALTONE_TENANT_PAUSE_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
    DIALTONE_TENANT_PAUSE_MAX_SECONDS: z.coerce.number().int().min(1).max(3600).default(900),
    /** How long one command may wait for its tenant to come back before it is given up (dead-lettered by record). */
    DIALTONE_TENANT_DEFER_WINDOW_MINUTES: z.coerce.number().int().min(1).max(1440).default(240),
    DIALTONE_SHUTDOWN_GRACE_SECONDS: positiveInt(60),
    DIALTONE_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
    // powershell backend: voice-commands; graph backend: voice-commands-pwsh (what Graph cannot apply).
    DIALTONE_COMMANDS_QUEUE: z.enum([queueNames.voiceCommands, queueNames.voiceCommandsPowerShell]).default(queueNames.voiceCommands),
  })
  .superRefine(exactlyOneServiceBus('DIALTONE_SERVICEBUS_NAMESPACE', 'DIALTONE_SERVICEBUS_CONNECTION_STRING'))
  .superRefine((env, ctx) => {
    if (env.DIALTONE_TENANT_PAUSE_SECONDS > env.DIALTONE_TENANT_PAUSE_MAX_SECONDS) {
      ctx.addIssue({ code: 'custom', path: ['DIALTONE_TENANT_PAUSE_SECONDS'], message: 'must not be above DIALTONE_TENANT_PAUSE_MAX_SECONDS' });
    }
    const keyVault = env.DIALTONE_KEYVAULT_URL !== undefined || env.DIALTONE_CERT_NAME !== undefined;
    if (keyVault) {
      if (env.DIALTONE_KEYVAULT_URL === undefined) {
        ctx.addIssue({ code: 'custom', path: ['DIALTONE_KEYVAULT_URL'], message: 'is required with DIALTONE_CERT_NAME' });
      }
      if (env.DIALTONE_CERT_NAME === undefined) {
        ctx.addIssue({ code: 'custom', path: ['DIALTONE_CERT_NAME'], message: 'is required with DIALTONE_KEYVAULT_URL' });
      }
    } else if (env.DIALTONE_CERT_FILE === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['DIALTONE_KEYVAULT_URL'],
        message: 'set DIALTONE_KEYVAULT_URL + DIALTONE_CERT_NAME (production) or DIALTONE_CERT_FILE (development only)',
      });
    }
  });

/** Every setting the worker reads (compose.yaml is checked against it). */
export const workerSettingNames: readonly string[] = Object.keys(WorkerEnvSchema.shape);

export type CertificateSettings =
  | { kind: 'keyVault'; vaultUrl: string; name: string; reloadIntervalMs: number }
  | { kind: 'file'; path: string; passwordFile: string | undefined };

export interface WorkerSettings {
  serviceBus: ServiceBusTarget;
  tenantId: string;
  applicationId: string;
  certificate: CertificateSettings;
  pwsh: { path: string; script: string };
  pool: {
    maxSessions: number;
    maxSessionsPerTenant: number;
    idleTimeoutMs: number;
    maxSessionAgeMs: number;
    cmdletTimeoutMs: number;
    connectTimeoutMs: number;
  };
  /** The shared session limit; without a Tables endpoint only this worker's own limits apply. */
  tenantSessions: { limit: number; leaseMs: number; tablesEndpoint: string | undefined };
  concurrentSessions: number;
  /** The bulk path (worker/bulk.ts); users 0 = off. */
  bulk: { users: number; windowMs: number; grantWindowMs: number; operationsInFlight: number };
  maxDeliveryCount: number;
  /** Tenant outages: how long a tenant pauses and how long its commands wait for it (shared/domain/tenant-outage.ts). */
  tenantDeferral: { firstDelayMs: number; maxDelayMs: number; windowMs: number };
  shutdownGraceMs: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** The queue the worker takes commands from. */
  commandsQueue: string;
}

/** Reads the worker's settings once; a missing or malformed one fails with its name. */
export function loadWorkerSettings(env: Record<string, string | undefined> = process.env): WorkerSettings {
  const parsed = WorkerEnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new DialtoneError('ConfigInvalid', `Invalid worker settings: ${describeSettingsError(parsed.error)}`);
  }
  const e = parsed.data;
  const certificate: CertificateSettings =
    e.DIALTONE_KEYVAULT_URL !== undefined && e.DIALTONE_CERT_NAME !== undefined
      ? {
          kind: 'keyVault',
          vaultUrl: e.DIALTONE_KEYVAULT_URL,
          name: e.DIALTONE_CERT_NAME,
          reloadIntervalMs: e.DIALTONE_CERT_RELOAD_MINUTES * 60_000,
        }
      : { kind: 'file', path: e.DIALTONE_CERT_FILE ?? '', passwordFile: e.DIALTONE_CERT_PASSWORD_FILE };
  return {
    serviceBus: serviceBusTarget(e.DIALTONE_SERVICEBUS_NAMESPACE, e.DIALTONE_SERVICEBUS_CONNECTION_STRING) as ServiceBusTarget,
    tenantId: e.DIALTONE_TENANT_ID,
    applicationId: e.DIALTONE_APP_ID,
    certificate,
    pwsh: { path: e.DIALTONE_PWSH_PATH, script: e.DIALTONE_PWSH_SCRIPT },
    pool: {
      maxSessions: e.DIALTONE_MAX_SESSIONS,
      maxSessionsPerTenant: Math.min(e.DIALTONE_MAX_SESSIONS_PER_TENANT, e.DIALTONE_MAX_SESSIONS),
      idleTimeoutMs: e.DIALTONE_IDLE_TIMEOUT_SECONDS * 1000,
      maxSessionAgeMs: e.DIALTONE_MAX_SESSION_AGE_MINUTES * 60_000,
      cmdletTimeoutMs: e.DIALTONE_CMDLET_TIMEOUT_SECONDS * 1000,
      connectTimeoutMs: e.DIALTONE_CONNECT_TIMEOUT_SECONDS * 1000,
    },
    tenantSessions: { limit: e.DIALTONE_TENANT_SESSION_LIMIT, leaseMs: e.DIALTONE_SESSION_LEASE_SECONDS * 1000, tablesEndpoint: e.DIALTONE_TABLES_ENDPOINT },
    concurrentSessions: e.DIALTONE_CONCURRENT_SESSIONS,
    bulk: {
      users: e.DIALTONE_BULK_USERS,
      windowMs: e.DIALTONE_BULK_WINDOW_MS,
      grantWindowMs: e.DIALTONE_BULK_GRANT_WINDOW_MS,
      operationsInFlight: e.DIALTONE_BULK_OPERATIONS_IN_FLIGHT,
    },
    maxDeliveryCount: e.DIALTONE_MAX_DELIVERY_COUNT,
    tenantDeferral: {
      firstDelayMs: e.DIALTONE_TENANT_PAUSE_SECONDS * 1000,
      maxDelayMs: e.DIALTONE_TENANT_PAUSE_MAX_SECONDS * 1000,
      windowMs: e.DIALTONE_TENANT_DEFER_WINDOW_MINUTES * 60_000,
    },
    shutdownGraceMs: e.DIALTONE_SHUTDOWN_GRACE_SECONDS * 1000,
    logLevel: e.DIALTONE_LOG_LEVEL,
    commandsQueue: e.DIALTONE_COMMANDS_QUEUE,
  };
}

/** The environment a child pwsh inherits, plus the overrides its launcher asks for. */
export function childEnvironment(overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return { ...process.env, ...overrides };
}
