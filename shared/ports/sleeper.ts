/**
 * Waiting inside a long-running round (a per-call retry's backoff). Production waits in real
 * time; the sandbox waits on its simulated clock, so nothing there ever sleeps for real.
 */
export interface Sleeper {
  sleep(ms: number): Promise<void>;
}

export const systemSleeper: Sleeper = {
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
};
