import { callRetryDecision, isTransientCallError, type CallRetryPolicy } from '../domain/call-retry.js';
import { DialtoneError } from '../domain/errors.js';
import type { BusReceiver, BusSessionReceiver, ReceivedMessage } from '../ports/bus.js';
import { systemSleeper, type Sleeper } from '../ports/sleeper.js';

/**
 * An operator's Service Bus call (dlq list / show / replay / purge, doctor's dead-letter count)
 * when Service Bus answers ServiceBusy or a timeout: the SDK's own retries have given up by then, so the command
 * tries a few more times with backoff (1, 2, 4 s: seven seconds in all) before it fails.
 */
export const peekRetryPolicy: CallRetryPolicy = {
  maxAttempts: 4,
  baseDelayMs: 1_000,
  maxDelayMs: 4_000,
  maxRetryAfterMs: 4_000,
  budgetMs: 7_000,
};

export interface PeekRetryOptions {
  /** Real time for the CLI; tests pass one that records the waits. */
  sleeper?: Sleeper;
  policy?: CallRetryPolicy;
}

/**
 * One Service Bus call of an operator's command, retrying a transient error (ServiceBusy,
 * ServiceTimeout: the SDK's `retryable`) a bounded number of times. A throttled request is not
 * applied, so trying it again is safe for a peek, a receive, a complete, and a send whose message
 * id duplicate detection knows. When every attempt was refused it throws one DialtoneError
 * (ServiceUnavailable, transient) with `refused(attempts, seconds, code)` as its message; any
 * other error is thrown as it came.
 */
export async function busCallRetrying<T>(call: () => Promise<T>, refused: (attempts: number, seconds: number, code: string) => string, options: PeekRetryOptions = {}): Promise<T> {
  const sleeper = options.sleeper ?? systemSleeper;
  const policy = options.policy ?? peekRetryPolicy;
  let waited = 0;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error: unknown) {
      if (!isTransientCallError(error)) throw error;
      const decision = callRetryDecision(error, attempt, waited, policy);
      if (!decision.retry) {
        const code = typeof (error as { code?: unknown }).code === 'string' ? (error as { code: string }).code : 'a transient error';
        throw new DialtoneError('ServiceUnavailable', refused(attempt, Math.round(waited / 1000), code), { transient: true, cause: error, details: { attempts: attempt, waitedMs: waited, code } });
      }
      waited += decision.waitMs;
      await sleeper.sleep(decision.waitMs);
    }
  }
}

/**
 * Peeks through `busCallRetrying`; `what` names the entity for the message ("the dead letters of
 * user-changes"), which says that nothing changed and what to do.
 */
export function peekRetrying(
  receiver: Pick<BusReceiver | BusSessionReceiver, 'peekMessages'>,
  max: number,
  peekOptions: { fromSequenceNumber?: unknown } | undefined,
  what: string,
  options: PeekRetryOptions = {},
): Promise<ReceivedMessage[]> {
  return busCallRetrying(
    () => receiver.peekMessages(max, peekOptions),
    (attempts, seconds, code) => `Service Bus answered ${code} to ${attempts} peeks of ${what} over ${seconds} s; nothing was read or changed. Run the command again in a minute.`,
    options,
  );
}
