/**
 * The timer Functions' NCRONTAB schedules (UTC), one source for the Function registrations
 * and the sandbox, which runs the same timers on its simulated clock.
 */
export const timerSchedules = {
  /** Every six hours at :15: create or renew the Graph users subscription. */
  graphSubscription: '0 15 */6 * * *',
  /** Every twelve hours at :45: re-plan users /users/delta reports as changed. */
  graphResync: '0 45 */12 * * *',
} as const;

/**
 * The timers' retry policy (the Functions host's exponentialBackoff retry for timer triggers),
 * one source for the Function registrations and the sandbox. A resync or subscription round is
 * all-or-nothing: without it one transient Graph or Table error would leave the safety net
 * unrun until the next occurrence, 6 or 12 hours later.
 */
export const timerRetry = {
  strategy: 'exponentialBackoff',
  maxRetryCount: 6,
  /** Milliseconds. */
  minimumInterval: 60_000,
  /** Milliseconds. */
  maximumInterval: 30 * 60_000,
} as const;

/** The wait before retry `attempt` (1-based) under `timerRetry`, without the host's small jitter. */
export function timerRetryDelayMs(attempt: number): number {
  return Math.min(timerRetry.maximumInterval, timerRetry.minimumInterval * 2 ** (attempt - 1));
}
