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
