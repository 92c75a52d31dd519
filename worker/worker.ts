import type { BusClient } from '../shared/ports/bus.js';
import type { Clock } from '../shared/ports/clock.js';
import type { Logger } from '../shared/ports/logger.js';
import type { SessionSlots } from '../shared/ports/session-slots.js';
import type { Telemetry } from '../shared/ports/telemetry.js';
import type { Sleeper } from '../shared/ports/sleeper.js';
import { noopTelemetry } from '../shared/telemetry/noop.js';
import { applyVoiceCommand, type ApplyDeps } from './apply.js';
import { BulkApplier, defaultBulkSettings, type BulkSettings, type BulkStats } from './bulk.js';
import type { CertificateSource } from './certificate.js';
import { CertificateProvider } from './certificate-provider.js';
import { VoiceCommandConsumer, type ConsumerStats } from './consumer.js';
import { SessionPool, type PoolStats } from './pool.js';
import type { PwshCommand } from './pwsh-process.js';
import { startTenantCredentials, type WorkerTenant } from './tenant-credentials.js';
import { realTimers, type Timers } from './timers.js';
import { startWorkerHeartbeat } from './worker-telemetry.js';
import { startCertificateReports } from './certificate-report.js';
import type { WorkerReports } from '../shared/ports/worker-reports.js';
import { defaultDeferralPolicy, type DeferralPolicy } from '../shared/domain/tenant-outage.js';

/** Everything tunable, with the production defaults of shared/config/worker-settings.ts. */
export interface WorkerTuning {
  tenantId: string;
  applicationId: string;
  maxSessions?: number;
  maxSessionsPerTenant?: number;
  idleTimeoutMs?: number;
  maxSessionAgeMs?: number;
  cmdletTimeoutMs?: number;
  connectTimeoutMs?: number;
  concurrentSessions?: number;
  maxDeliveryCount?: number;
  shutdownGraceMs?: number;
  certificateReloadMs?: number;
  maxTransientAttempts?: number;
  backoffMs?: readonly number[];
  lockRenewalIntervalMs?: number;
  /** Wait after Service Bus answered ServiceBusy / QuotaExceeded to a session accept (default 10 s). */
  busyBackoffMs?: number;
  /**
   * Tenant outages (throttled, unavailable, certificate refused): the tenant pauses and its commands
   * wait on the bus (default: shared/domain/tenant-outage.ts's defaultDeferralPolicy); `false` turns
   * it off (such commands are abandoned for redelivery as any other transient failure).
   */
  tenantDeferral?: Partial<DeferralPolicy> | false;
  /** voice-commands (powershell backend) or voice-commands-pwsh (what the graph backend hands over). */
  commandsQueue?: string;
  /**
   * The bulk path (worker/bulk.ts): `users` people in flight at once (0 or absent: off, one
   * person per `concurrentSessions` loop), sharing reads, batch policy operations and verification.
   */
  bulk?: Partial<BulkSettings> & { users: number };
}

export type { WorkerTenant } from './tenant-credentials.js';

export interface WorkerDeps {
  bus: BusClient;
  /** The default tenant's certificate (settings.tenantId / applicationId): the worker refuses to start without it. */
  certificates: CertificateSource;
  /**
   * The registry's tenants. Each connects with its own app and certificate; a tenant whose
   * certificate is refused does not stop the worker: its commands fail CertificateInvalid (the
   * certificate is loaded again, at most once a minute, when its next command comes).
   */
  tenants?: WorkerTenant[];
  pwsh: PwshCommand;
  settings: WorkerTuning;
  clock: Clock;
  logger: Logger;
  timers?: Timers;
  /** The tenant-wide session limit shared with other workers; `holderId` names this worker in it. */
  slots?: { slots: SessionSlots; holderId: string };
  /** How to wait when no session is available (the sandbox passes its bus's activity signal). */
  idleWait?: (ms: number, signal: AbortSignal) => Promise<unknown>;
  /** Spans and metrics (shared/telemetry); none when absent. */
  telemetry?: Telemetry;
  /**
   * What the bulk path's windows and polls, and the lock renewal of the people it holds, wait on
   * (default `timers`; the sandbox's clock there).
   */
  bulkTimers?: Timers;
  /**
   * What the worker's waits are measured on — the retry after a transient cmdlet failure, the wait
   * for a tenant session slot held by another worker, session lock renewals, cmdlet and connect
   * deadlines, and a Key Vault 429 on a refused registry tenant's certificate loaded again for a
   * session (default `timers`; process start and the backoff after a throttled session accept
   * stay on `timers`; idle reaping and session age are on `poolTimers`). The sandbox passes its clock, on which its cmdlets
   * take their time: a wait then costs sandbox time, the sandbox never holds its clock still while
   * a worker only waits, and a cmdlet that waits for the clock never misses a real-time deadline.
   */
  waitTimers?: Timers;
  /**
   * What the session pool's idle reaper ticks on and what a session's idle time and age are
   * measured on (default `timers`). The sandbox passes its clock as daemon timers: production's
   * 10-minute idle timeout and 50-minute session age then play out in sandbox time.
   */
  poolTimers?: Timers;
  /**
   * What the certificate reload (DIALTONE_CERT_RELOAD) and the certificate report heartbeat wait
   * on (default `timers`; the sandbox's clock there, so a rotation plays out in sandbox time).
   */
  certificateTimers?: Timers;
  /**
   * What the worker's start waits on when Key Vault throttles its certificate reads (a 429's
   * Retry-After; default `certificateTimers`, real time in production). The sandbox passes the wait
   * of its tracked restart, as for systemd's RestartSec: the wait is sandbox time, on a timer its
   * quiet check sees, and the restart gives its hold on the clock back while it waits.
   */
  startWait?: Sleeper;
  /**
   * Where this worker reports the certificate it connects with (`dialtone cert rotate` waits for
   * the new thumbprint): at start, after a rotation and every `intervalMs` (default 60 s).
   */
  reports?: { reports: WorkerReports; workerId: string; intervalMs?: number };
}

export interface Worker {
  /** Starts receiving; the certificate was already checked by createWorker. */
  start(): void;
  /** Graceful: in-flight commands finish within the grace period, the rest are abandoned. */
  stop(): Promise<void>;
  busy(): boolean;
  /** Cmdlets sent and not answered, and sessions starting (see SessionPool.pendingWork), less those only waiting for Key Vault's Retry-After. */
  pendingWork(): number;
  stats(): { pool: PoolStats; consumer: ConsumerStats; bulk?: BulkStats };
  readonly pool: SessionPool;
}

/**
 * Builds the hybrid worker from ready dependencies, so production (worker/main.ts), the sandbox
 * and the tests run the very same code. Refuses (throws CertificateInvalid) when the certificate
 * is missing, expired, not yet valid or has no private key.
 */
export async function createWorker(deps: WorkerDeps): Promise<Worker> {
  const s = deps.settings;
  const timers = deps.timers ?? realTimers;
  // The provider is built first (no certificate, no worker); the pool it retires comes next.
  const rotation: { pool?: SessionPool; report?: () => Promise<void> } = {};
  const certificateTimers = deps.certificateTimers ?? timers;
  const certificates = new CertificateProvider(deps.certificates, {
    clock: deps.clock,
    logger: deps.logger,
    timers: certificateTimers,
    reloadIntervalMs: s.certificateReloadMs ?? 60 * 60_000,
    onRotate: () => {
      // New sessions connect with the new certificate; warm ones retire when they are idle.
      rotation.pool?.retireAll('certificate rotated');
      void rotation.report?.();
    },
  });
  await certificates.start(deps.startWait);
  const tenants = await startTenantCredentials({
    tenants: (deps.tenants ?? []).filter((t) => t.tenantId.toLowerCase() !== s.tenantId.toLowerCase()),
    clock: deps.clock,
    logger: deps.logger,
    timers: certificateTimers,
    reloadIntervalMs: s.certificateReloadMs ?? 60 * 60_000,
    onRotate: (tenantId) => {
      rotation.pool?.retireAll('certificate rotated', tenantId);
      void rotation.report?.();
    },
    ...(deps.startWait ? { startWait: deps.startWait } : {}),
    // A refused tenant certificate loaded again for a session waits like the worker's other waits.
    ...(deps.waitTimers ? { sessionTimers: deps.waitTimers } : {}),
  });
  const pool = new SessionPool({
    command: deps.pwsh,
    // Keyed by the session's tenant only: a session of tenant A is connected with A's app and certificate, never another's.
    credentials: async (tenantId) => {
      if (tenantId === s.tenantId.toLowerCase() || tenantId === s.tenantId) {
        const { pfxBase64, password } = certificates.current();
        return { applicationId: s.applicationId, tenantId, certificate: { pfxBase64, password } };
      }
      return tenants.credentials(tenantId);
    },
    sessionLimit: (tenantId) => tenants.sessionLimit(tenantId),
    maxSessions: s.maxSessions ?? 8,
    maxSessionsPerTenant: Math.min(s.maxSessionsPerTenant ?? 4, s.maxSessions ?? 8),
    idleTimeoutMs: s.idleTimeoutMs ?? 600_000,
    maxSessionAgeMs: s.maxSessionAgeMs ?? 50 * 60_000,
    connectTimeoutMs: s.connectTimeoutMs ?? 120_000,
    logger: deps.logger,
    timers,
    ...(deps.waitTimers ? { waitTimers: deps.waitTimers } : {}),
    ...(deps.poolTimers ? { poolTimers: deps.poolTimers } : {}),
    ...(deps.slots ? { slots: deps.slots.slots, holderId: deps.slots.holderId } : {}),
  });
  rotation.pool = pool;
  const sessions = pool;
  const applyDeps: Omit<ApplyDeps, 'signal'> = {
    sessions,
    tenantId: s.tenantId,
    clock: deps.clock,
    logger: deps.logger,
    // ApplyDeps.timers only paces the retries.
    timers: deps.waitTimers ?? timers,
    cmdletTimeoutMs: s.cmdletTimeoutMs ?? 120_000,
    tenantOutagesDeferred: s.tenantDeferral !== false,
    ...(s.maxTransientAttempts === undefined ? {} : { maxTransientAttempts: s.maxTransientAttempts }),
    ...(s.backoffMs === undefined ? {} : { backoffMs: s.backoffMs }),
  };
  const bulkUsers = s.bulk?.users ?? 0;
  const bulk =
    bulkUsers > 0
      ? new BulkApplier({ ...applyDeps, settings: { ...defaultBulkSettings, peopleInFlight: bulkUsers, ...withoutUsers(s.bulk) }, bulkTimers: deps.bulkTimers ?? timers })
      : undefined;
  const consumer = new VoiceCommandConsumer({
    bus: deps.bus,
    logger: deps.logger,
    // The people the bulk path holds wait on its clock, and so does the renewal of their locks.
    timers: bulk ? (deps.bulkTimers ?? timers) : timers,
    ...(!bulk && deps.waitTimers ? { waitTimers: deps.waitTimers } : {}),
    concurrentSessions: bulk ? bulkUsers : (s.concurrentSessions ?? 4),
    ...(bulk ? { acceptors: Math.min(bulkUsers, s.concurrentSessions ?? 4) } : {}),
    maxDeliveryCount: s.maxDeliveryCount ?? 10,
    now: () => deps.clock.now(),
    defaultTenantId: s.tenantId,
    ...(s.tenantDeferral === false ? {} : { deferral: { ...defaultDeferralPolicy, ...s.tenantDeferral } }),
    ...(s.commandsQueue === undefined ? {} : { commandsQueue: s.commandsQueue }),
    ...(s.lockRenewalIntervalMs === undefined ? {} : { lockRenewalIntervalMs: s.lockRenewalIntervalMs }),
    ...(s.busyBackoffMs === undefined ? {} : { busyBackoffMs: s.busyBackoffMs }),
    ...(deps.idleWait ? { idleWait: deps.idleWait } : {}),
    ...(deps.telemetry ? { telemetry: deps.telemetry } : {}),
    apply: (command, signal) => (bulk ? bulk.apply(command, signal) : applyVoiceCommand(command, { ...applyDeps, signal })),
  });
  let stopped: Promise<void> | undefined;
  let stopHeartbeat: (() => void) | undefined;
  let stopReports: (() => void) | undefined;
  return {
    pool,
    start: () => {
      consumer.start();
      if (deps.reports) {
        const reporter = startCertificateReports({
          reports: deps.reports.reports,
          workerId: deps.reports.workerId,
          clock: deps.clock,
          timers: certificateTimers,
          logger: deps.logger,
          intervalMs: deps.reports.intervalMs ?? 60_000,
          // Every tenant's certificate: cert rotate of a registered tenant's waits on these.
          current: () => [{ tenantId: s.tenantId, certificate: certificates.current() }, ...tenants.loaded()],
        });
        rotation.report = reporter.reportNow;
        stopReports = reporter.stop;
      }
      if (deps.telemetry && deps.telemetry !== noopTelemetry) {
        stopHeartbeat = startWorkerHeartbeat({
          telemetry: deps.telemetry,
          timers,
          clock: deps.clock,
          sessions: () => sessions.stats().live,
          certificateNotAfter: () => certificates.current().notAfter,
        });
      }
      deps.logger.info('worker started', { tenantId: s.tenantId, tenants: 1 + (deps.tenants?.length ?? 0), concurrentSessions: s.concurrentSessions ?? 4 });
    },
    stop: () => {
      stopped ??= (async () => {
        stopHeartbeat?.();
        stopReports?.();
        const graceMs = s.shutdownGraceMs ?? 60_000;
        await consumer.stop(graceMs, () => sessions.drain(0));
        certificates.stop();
        tenants.stop();
        await sessions.drain(0);
        deps.logger.info('worker stopped', { ...consumer.stats() });
      })();
      return stopped;
    },
    busy: () => consumer.busy(),
    // A session start waiting for Key Vault's Retry-After of its tenant's certificate only waits.
    pendingWork: () => pool.pendingWork() - tenants.waitingForKeyVault(),
    stats: () => ({ pool: sessions.stats(), consumer: consumer.stats(), ...(bulk ? { bulk: bulk.stats() } : {}) }),
  };
}

function withoutUsers(bulk: WorkerTuning['bulk']): Partial<BulkSettings> {
  if (bulk === undefined) return {};
  const { users: _users, ...rest } = bulk;
  return rest;
}
