/**
 * How long each Function's invocations ran, in sandbox time, against host.json's functionTimeout.
 * Azure cancels an invocation that outlasts it (the messages it held are abandoned and delivered
 * again, a timer round is failed and retried) and recycles the language worker; the sandbox does
 * not cut an invocation off, so it measures every one instead: a run in which none came near the
 * timeout is a run production would not have cut short.
 */
export interface FunctionDuration {
  invocations: number;
  /** The longest invocation, in sandbox ms. */
  longestMs: number;
  /** Invocations that ran longer than the timeout. */
  overTimeout: number;
}

export class FunctionDurations {
  private readonly byFunction = new Map<string, FunctionDuration>();

  constructor(readonly timeoutMs: number) {}

  record(name: string, ms: number): void {
    const d = this.byFunction.get(name) ?? { invocations: 0, longestMs: 0, overTimeout: 0 };
    d.invocations += 1;
    d.longestMs = Math.max(d.longestMs, ms);
    if (ms > this.timeoutMs) d.overTimeout += 1;
    this.byFunction.set(name, d);
  }

  /** Runs `fn` as one invocation of `name`, timed on `nowMs` (the sandbox clock). */
  async time<T>(name: string, nowMs: () => number, fn: () => Promise<T>): Promise<T> {
    const start = nowMs();
    try {
      return await fn();
    } finally {
      this.record(name, nowMs() - start);
    }
  }

  summary(): Record<string, FunctionDuration> {
    return Object.fromEntries([...this.byFunction].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, { ...v }]));
  }
}
