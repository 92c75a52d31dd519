import type { Clock } from '../shared/ports/clock.js';
import type { Logger } from '../shared/ports/logger.js';
import type { WorkerReports } from '../shared/ports/worker-reports.js';
import type { LoadedCertificate } from './certificate.js';
import type { Timers } from './timers.js';

/**
 * Tells the operator side which certificate this worker connects with (thumbprint, version,
 * expiry; never the key), one report for each tenant it serves (the home tenant's and each
 * registered tenant's own certificate): at start, after every rotation, and on a heartbeat so
 * `dialtone cert rotate` of a tenant's certificate can tell a live worker from a stopped one. A
 * failed report is logged and retried at the next beat; it never stops the worker.
 */
export function startCertificateReports(o: {
  reports: WorkerReports;
  workerId: string;
  clock: Clock;
  timers: Timers;
  logger: Logger;
  intervalMs: number;
  /** The certificate of each tenant served now, the home tenant's first. */
  current: () => { tenantId: string; certificate: LoadedCertificate }[];
}): { reportNow(): Promise<void>; stop(): void } {
  let handle: unknown;
  let stopped = false;
  let chain: Promise<void> = Promise.resolve();
  const send = async (): Promise<void> => {
    for (const { tenantId, certificate: c } of o.current()) {
      try {
        await o.reports.report({
          workerId: o.workerId,
          tenantId,
          thumbprint: c.thumbprint,
          version: c.version,
          notAfter: c.notAfter.toISOString(),
          reportedAt: o.clock.now().toISOString(),
        });
      } catch (error) {
        o.logger.warn('could not report the worker certificate', { tenantId, reason: error instanceof Error ? error.message : String(error) });
      }
    }
  };
  // One report at a time, in order: a rotation's report is never overtaken by an older beat.
  const reportNow = (): Promise<void> => (chain = chain.then(send));
  const beat = (): void => {
    if (stopped) return;
    void reportNow();
    handle = o.timers.setTimeout(beat, o.intervalMs);
  };
  beat();
  return {
    reportNow,
    stop: () => {
      stopped = true;
      o.timers.clearTimeout(handle);
    },
  };
}
