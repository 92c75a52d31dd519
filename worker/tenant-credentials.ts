import { DialtoneError, toDialtoneError } from '../shared/domain/errors.js';
import type { Clock } from '../shared/ports/clock.js';
import type { Logger } from '../shared/ports/logger.js';
import type { CertificateSource, LoadedCertificate } from './certificate.js';
import { CertificateProvider } from './certificate-provider.js';
import type { Credentials } from './pwsh-process.js';
import { sleep, type Timers } from './timers.js';
import type { Sleeper } from '../shared/ports/sleeper.js';

/** A further tenant the worker serves (from the tenant registry), with its own app and certificate. */
export interface WorkerTenant {
  tenantId: string;
  applicationId: string;
  certificates: CertificateSource;
  /** Teams sessions the tenant allows at once across all workers (the registry's sessionLimit). */
  sessionLimit?: number;
}

export interface TenantCredentials {
  /** The tenant's own app and certificate; throws ConfigInvalid (not served) or CertificateInvalid (refused). */
  credentials(tenantId: string): Promise<Credentials>;
  sessionLimit(tenantId: string): number | undefined;
  /**
   * Callers of credentials() (session starts, reconnects) now waiting for a Key Vault Retry-After
   * of their tenant's certificate load: they wait, they are no work under way (the sandbox's quiet check).
   */
  waitingForKeyVault(): number;
  /** Each tenant whose certificate is loaded, with that certificate (what the worker reports; never the key). */
  loaded(): { tenantId: string; certificate: LoadedCertificate }[];
  stop(): void;
}

export interface TenantCredentialsOptions {
  tenants: readonly WorkerTenant[];
  clock: Clock;
  logger: Logger;
  timers: Timers;
  reloadIntervalMs: number;
  /** A tenant's certificate rotated: its sessions (and only its) retire. */
  onRotate: (tenantId: string) => void;
  /** How soon a refused certificate is loaded again, when its tenant's next command comes (default 60 s). */
  retryRefusedMs?: number;
  /**
   * What a Key Vault 429 at the worker's start waits on (WorkerDeps.startWait); a later load of a
   * refused certificate, from a command, waits on `timers`.
   */
  startWait?: Sleeper;
  /**
   * What a certificate loaded again for a session (a refused one, at its tenant's next command)
   * waits on when Key Vault throttles it (default `timers`; the sandbox's clock, WorkerDeps.waitTimers).
   */
  sessionTimers?: Timers;
}

/**
 * One CertificateProvider per registry tenant, started side by side. The answer for a tenant is
 * made from that tenant's entry only, so a session of A can never be given B's app or certificate.
 * A refused certificate is remembered with its reason (never the secret) and loaded again at most
 * once a `retryRefusedMs`; the other tenants are not affected.
 */
export async function startTenantCredentials(options: TenantCredentialsOptions): Promise<TenantCredentials> {
  interface Served {
    tenant: WorkerTenant;
    provider: CertificateProvider;
    ok: boolean;
    failure?: DialtoneError;
    triedAt: number;
    loading?: Promise<void>;
    /** Callers of credentials() awaiting the load, and whether it sleeps for a 429 now. */
    waiters: number;
    sleeping: boolean;
  }
  const { timers, logger } = options;
  const retryMs = options.retryRefusedMs ?? 60_000;
  const served = new Map<string, Served>();
  const load = (entry: Served, wait?: Sleeper): Promise<void> =>
    (entry.loading ??= entry.provider
      .start(wait)
      .then(
        () => {
          entry.ok = true;
          delete entry.failure;
        },
        (error: unknown) => {
          entry.ok = false;
          entry.failure = toDialtoneError(error);
          logger.error("tenant certificate refused; this tenant's commands fail until it is fixed", { tenantId: entry.tenant.tenantId, code: entry.failure.code, reason: entry.failure.message });
        },
      )
      .finally(() => {
        entry.triedAt = options.clock.now().getTime();
        delete entry.loading;
      }));
  for (const tenant of options.tenants) {
    const tenantId = tenant.tenantId.toLowerCase();
    if (served.has(tenantId)) throw new DialtoneError('ConfigInvalid', `tenant ${tenantId} is given twice`);
    const provider = new CertificateProvider(tenant.certificates, {
      clock: options.clock,
      logger: logger.child({ tenantId }),
      timers,
      reloadIntervalMs: options.reloadIntervalMs,
      onRotate: () => options.onRotate(tenantId),
    });
    served.set(tenantId, { tenant, provider, ok: false, triedAt: 0, waiters: 0, sleeping: false });
  }
  await Promise.all([...served.values()].map((entry) => load(entry, options.startWait)));
  return {
    async credentials(tenantId) {
      const entry = served.get(tenantId.toLowerCase());
      if (!entry) {
        throw new DialtoneError('ConfigInvalid', `tenant ${tenantId} is not served by this worker: register it (dialtone tenants add) and restart the worker`, { details: { tenantId } });
      }
      // Measured on the worker's clock (the sandbox's clock there), as the tenant's pause is.
      if (!entry.ok && options.clock.now().getTime() - entry.triedAt >= retryMs) {
        // Every caller waits for the one load; while it sleeps for a 429, they all only wait.
        const sessionWait: Sleeper = {
          sleep: async (ms) => {
            entry.sleeping = true;
            try {
              await sleep(options.sessionTimers ?? timers, ms);
            } finally {
              entry.sleeping = false;
            }
          },
        };
        entry.waiters += 1;
        try {
          await load(entry, sessionWait);
        } finally {
          entry.waiters -= 1;
        }
      }
      if (!entry.ok) {
        throw new DialtoneError('CertificateInvalid', `tenant ${tenantId}: ${entry.failure?.message ?? 'its certificate is not loaded'}`, { details: { tenantId } });
      }
      const { pfxBase64, password } = entry.provider.current();
      return { applicationId: entry.tenant.applicationId, tenantId: entry.tenant.tenantId.toLowerCase(), certificate: { pfxBase64, password } };
    },
    sessionLimit: (tenantId) => served.get(tenantId.toLowerCase())?.tenant.sessionLimit,
    waitingForKeyVault: () => [...served.values()].reduce((n, entry) => n + (entry.sleeping ? entry.waiters : 0), 0),
    loaded: () => [...served].filter(([, entry]) => entry.ok).map(([tenantId, entry]) => ({ tenantId, certificate: entry.provider.current() })),
    stop: () => {
      for (const entry of served.values()) entry.provider.stop();
    },
  };
}
