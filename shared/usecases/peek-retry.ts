import { callRetryDecision, isTransientCallError, type CallRetryPolicy } from '../domain/call-retry.js';
import { DialtoneError } from '../domain/errors.js';
import type { BusReceiver, BusSessionReceiver, ReceivedMessage } from '../ports/bus.js';
import { systemSleeper, type Sleeper } from '../ports/sleeper.js';

/**
 * An operator's peek (dlq list / show / dry runs, doctor's dead-letter count) when Service Bus
 * answers ServiceBusy or a timeout: the SDK's own retries have given up by then, so the command
 * tries a few more times with backoff (1, 2, 4 s: seven seconds in all) before it fails. A peek
 * changes nothing, so trying it again is always safe.
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
 * Peeks, retrying a transient Service Bus error (ServiceBusy, ServiceTimeout: the SDK's
 * `retryable`) a bounded number of times. When every attempt was refused it throws one
 * DialtoneError (ServiceUnavailable, transient) whose message says what was peeked, what Service
 * Bus answered, that nothing changed and what to do; any other error is thrown as it came.
 * `what` names the entity for that message ("the dead letters of user-changes").
 */
export async function peekRetrying(
  receiver: Pick<BusReceiver | BusSessionReceiver, 'peekMessages'>,
  max: number,
  peekOptions: { fromSequenceNumber?: unknown } | undefined,
  what: string,
  options: PeekRetryOptions = {},
): Promise<ReceivedMessage[]> {
  const sleeper = options.sleeper ?? systemSleeper;
  const policy = options.policy ?? peekRetryPolicy;
  let waited = 0;
  for (let attempt = 1; ; attempt++) {
    try {
      return await receiver.peekMessages(max, peekOptions);
    } catch (error: unknown) {
      if (!isTransientCallError(error)) throw error;
      const decision = callRetryDecision(error, attempt, waited, policy);
      if (!decision.retry) {
        const code = typeof (error as { code?: unknown }).code === 'string' ? (error as { code: string }).code : 'a transient error';
        throw new DialtoneError(
          'ServiceUnavailable',
          `Service Bus answered ${code} to ${attempt} peeks of ${what} over ${Math.round(waited / 1000)} s; nothing was read or changed. Run the command again in a minute.`,
          { transient: true, cause: error, details: { attempts: attempt, waitedMs: waited, code } },
        );
      }
      waited += decision.waitMs;
      await sleeper.sleep(decision.waitMs);
    }
  }
}
