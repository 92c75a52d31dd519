import type { SendRetryPolicy } from '../../shared/adapters/service-bus-retry.js';
import type { BusSender } from '../../shared/ports/bus.js';

/**
 * A sender that retries as @azure/service-bus does under a client's retry policy: an error the
 * broker marks retryable (ServiceBusy) is tried again after the policy's fixed delay, up to its
 * retries, on the given clock. The in-memory bus answers at once, so a try never reaches the
 * policy's per-try timeout here; the delays are what a busy broker costs the caller. The sandbox
 * gives it to the graphNotifications webhook, whose answer time Graph judges.
 */
export function withSdkSendRetry(inner: BusSender, policy: SendRetryPolicy, sleep: (ms: number) => Promise<void>): BusSender {
  const retrying = async <T>(call: () => Promise<T>): Promise<T> => {
    for (let retry = 0; ; retry++) {
      try {
        return await call();
      } catch (error) {
        if (retry >= policy.maxRetries || (error as { retryable?: unknown }).retryable !== true) throw error;
        await sleep(policy.retryDelayInMs);
      }
    }
  };
  return {
    sendMessages: (messages) => retrying(() => inner.sendMessages(messages)),
    createMessageBatch: (options) => retrying(() => inner.createMessageBatch(options)),
    scheduleMessages: (messages, at) => retrying(() => inner.scheduleMessages(messages, at)),
    close: () => inner.close(),
  };
}
