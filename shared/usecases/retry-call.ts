import { callRetryDecision, defaultCallRetryPolicy, type CallRetryPolicy } from '../domain/call-retry.js';
import type { Logger } from '../ports/logger.js';
import type { Sleeper } from '../ports/sleeper.js';

/** Runs one call of a round, retried on transient errors (see shared/domain/call-retry.ts). */
export type RetryCall = <T>(operation: string, call: () => Promise<T>) => Promise<T>;

/**
 * A retrier for one round: each call is retried on its own with backoff (or the service's
 * Retry-After), all of the round's waits together bounded by the policy's budget, so one round
 * of hundreds of calls gets through the odd throttled or busy answer. The waits go through the
 * sleeper port: real time in production, the simulated clock in the sandbox.
 */
export function callRetrier(deps: { sleeper: Sleeper; logger: Logger; policy?: CallRetryPolicy }): RetryCall & { waitedMs(): number; retries(): number } {
  const policy = deps.policy ?? defaultCallRetryPolicy;
  let spent = 0;
  let retries = 0;
  const retry = async <T>(operation: string, call: () => Promise<T>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (error: unknown) {
        const decision = callRetryDecision(error, attempt, spent, policy);
        if (!decision.retry) throw error;
        spent += decision.waitMs;
        retries += 1;
        deps.logger.warn('call retried', { operation, attempt, waitMs: decision.waitMs, reason: describe(error) });
        await deps.sleeper.sleep(decision.waitMs);
      }
    }
  };
  return Object.assign(retry, { waitedMs: () => spent, retries: () => retries });
}

function describe(error: unknown): string {
  const code = typeof (error as { code?: unknown })?.code === 'string' ? `${(error as { code: string }).code}: ` : '';
  const message = error instanceof Error ? error.message : String(error);
  return `${code}${message}`.slice(0, 300);
}
