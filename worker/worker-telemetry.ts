import type { Clock } from '../shared/ports/clock.js';
import type { Telemetry } from '../shared/ports/telemetry.js';
import { metricNames } from '../shared/telemetry/names.js';
import type { Timers } from './timers.js';

const DAY_MS = 24 * 60 * 60_000;

/**
 * Once a minute while the worker runs: a heartbeat (the "no worker heartbeat for 10 minutes"
 * alert), the warm PowerShell sessions and the days left on the Teams certificate.
 */
export function startWorkerHeartbeat(o: {
  telemetry: Telemetry;
  timers: Timers;
  clock: Clock;
  intervalMs?: number;
  sessions: () => number;
  certificateNotAfter: () => Date;
}): () => void {
  let handle: unknown;
  let stopped = false;
  const beat = (): void => {
    if (stopped) return;
    o.telemetry.count(metricNames.workerHeartbeat, 1);
    o.telemetry.gauge(metricNames.workerSessions, o.sessions());
    const days = (o.certificateNotAfter().getTime() - o.clock.now().getTime()) / DAY_MS;
    o.telemetry.gauge(metricNames.certificateDaysRemaining, Math.floor(days * 10) / 10);
    handle = o.timers.setTimeout(beat, o.intervalMs ?? 60_000);
  };
  beat();
  return () => {
    stopped = true;
    o.timers.clearTimeout(handle);
  };
}
