import { isDialtoneError } from './errors.js';

/**
 * Retrying one call of a long-running round (the directory resync) when it fails transiently,
 * so a round of hundreds of calls finishes under the fault rates Graph, Table Storage and
 * Service Bus show, instead of every attempt meeting one fault somewhere. Pure: the caller
 * sleeps. Message-driven stages do not use it: they reschedule the message instead.
 */
export interface CallRetryPolicy {
  /** Attempts of one call, the first included. */
  maxAttempts: number;
  /** The wait before the second attempt; it doubles for each one after. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A Retry-After longer than this is not waited out in the round: the round stops (and resumes later). */
  maxRetryAfterMs: number;
  /** All the waiting one round may do: it must end well inside the Function timeout (5 min). */
  budgetMs: number;
}

export const defaultCallRetryPolicy: CallRetryPolicy = {
  maxAttempts: 6,
  baseDelayMs: 1_000,
  maxDelayMs: 30_000,
  maxRetryAfterMs: 60_000,
  budgetMs: 150_000,
};

export type CallRetryDecision = { retry: true; waitMs: number } | { retry: false; why: 'permanent' | 'attempts' | 'retryAfter' | 'budget' };

/** Table Storage and HTTP statuses worth a second try: throttled, busy, timed out. */
const TRANSIENT_STATUS = new Set([408, 429, 500, 502, 503, 504]);
/** Node's socket errors (and core-rest-pipeline's name for them): the request may not have reached the service. */
const TRANSIENT_NETWORK = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'UND_ERR_SOCKET', 'REQUEST_SEND_ERROR']);

/**
 * Transient by what the error says of itself: a DialtoneError marked transient (Graph 429 / 5xx,
 * network, as the Graph adapter maps them), a Service Bus error the SDK marks `retryable`
 * (ServiceBusy, ServiceTimeout; not QuotaExceeded), a Table Storage RestError with a busy or
 * timeout status, or a socket error. Anything else (a bug, a refusal) is not retried.
 */
export function isTransientCallError(error: unknown): boolean {
  if (isDialtoneError(error)) return error.transient;
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { name?: unknown; retryable?: unknown; statusCode?: unknown; code?: unknown };
  if (e.name === 'ServiceBusError') return e.retryable === true;
  if (typeof e.statusCode === 'number') return TRANSIENT_STATUS.has(e.statusCode);
  return typeof e.code === 'string' && TRANSIENT_NETWORK.has(e.code);
}

function retryAfterOf(error: unknown): number | undefined {
  if (isDialtoneError(error)) return error.retryAfterMs;
  return undefined;
}

/**
 * Whether to try a call again after failed attempt `attempt` (1-based), and how long to wait:
 * exponential backoff, or Retry-After when the service asks for longer; `spentMs` is what the
 * round has already waited.
 */
export function callRetryDecision(error: unknown, attempt: number, spentMs: number, policy: CallRetryPolicy = defaultCallRetryPolicy): CallRetryDecision {
  if (!isTransientCallError(error)) return { retry: false, why: 'permanent' };
  if (attempt >= policy.maxAttempts) return { retry: false, why: 'attempts' };
  const retryAfter = retryAfterOf(error);
  if (retryAfter !== undefined && retryAfter > policy.maxRetryAfterMs) return { retry: false, why: 'retryAfter' };
  const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  const waitMs = Math.max(backoff, retryAfter ?? 0);
  if (spentMs + waitMs > policy.budgetMs) return { retry: false, why: 'budget' };
  return { retry: true, waitMs };
}
