import type { EntityTable } from '../shared/adapters/entity-table.js';

/**
 * The retry policy the Azure Table client brings, for the sandbox's in-memory Table twin.
 *
 * In production (and on Azurite) every Table request goes through `@azure/data-tables`' pipeline,
 * whose exponential retry strategy sends a request again after a 408, a 5xx other than 501 / 505
 * (503 `ServerBusy`, 500 `OperationTimedOut`) or a request that got no answer, up to 3 times. The
 * twin (`shared/adapters/memory-table-client.ts`) is the service, not the client: without this
 * layer each of its injected 503s and timeouts reached the use case at once, so a `plan` attempt,
 * which makes a few dozen Table requests, failed about one time in three under the chaos run's
 * Table faults, and a plan or record message could spend its whole transient budget (8 retries)
 * on them — a dead letter production's client would not have produced. Conflicts (409 / 412,
 * `EntityConflict`) and refusals are not retried, as the SDK does not retry them.
 */
export interface ClientRetryPolicy {
  maxRetries: number;
  retryDelayInMs: number;
  maxRetryDelayInMs: number;
}

/** The SDK's three retries, after 20 ms doubling up to 500 ms rather than 1 s up to 64 s (as on Azurite): a real-time wait holds the sandbox clock. */
export const sandboxTableRetry: ClientRetryPolicy = { maxRetries: 3, retryDelayInMs: 20, maxRetryDelayInMs: 500 };

/** What the SDK's exponential retry strategy sends again: 408 and 5xx but 501 and 505, and a request with no answer (no status). */
export function isRetriedByTableClient(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { statusCode, name } = error as { statusCode?: unknown; name?: unknown };
  if (typeof statusCode === 'number') return statusCode === 408 || (statusCode >= 500 && statusCode !== 501 && statusCode !== 505);
  // A RestError without a status is a request that got no answer (a socket error, a timeout).
  return name === 'RestError';
}

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** `table` behind the Table client's retry policy: each request is sent again on its own, the last failure is thrown. */
export function withTableClientRetry(table: EntityTable, policy: ClientRetryPolicy = sandboxTableRetry, sleep: (ms: number) => Promise<void> = realSleep): EntityTable {
  const send = async <T>(request: () => Promise<T>): Promise<T> => {
    for (let retry = 0; ; retry++) {
      try {
        return await request();
      } catch (error) {
        if (retry >= policy.maxRetries || !isRetriedByTableClient(error)) throw error;
        await sleep(Math.min(policy.maxRetryDelayInMs, policy.retryDelayInMs * 2 ** retry));
      }
    }
  };
  return {
    name: table.name,
    ensure: () => send(() => table.ensure()),
    get: (partitionKey, rowKey) => send(() => table.get(partitionKey, rowKey)),
    query: (query) => send(() => table.query(query)),
    transact: (partitionKey, ops) => send(() => table.transact(partitionKey, ops)),
  };
}
