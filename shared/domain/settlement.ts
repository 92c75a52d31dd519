import type { ErrorCode } from './errors.js';

/**
 * What a stage's use case concluded about one message. Expected failures are values; the
 * settlement decision below turns them into complete / reschedule / dead-letter.
 */
export type StageOutcome =
  | { kind: 'done'; summary: string }
  | { kind: 'stale'; summary: string }
  /**
   * Not a failure yet: directory-sync, licensing or Teams provisioning lag, or a Teams number
   * operation still running (polled). Retried until the window closes; never counted against the
   * transient budget.
   */
  | { kind: 'wait'; code: Extract<ErrorCode, 'UserNotFound' | 'NotLicensed' | 'TeamsNotProvisioned' | 'OperationPending'>; message: string; retryAfterMs?: number }
  /** Worth retrying soon: throttling, outage. */
  | { kind: 'transient'; code: ErrorCode; message: string; retryAfterMs?: number }
  /** Can never succeed as it is: an operator must act, then replay. */
  | { kind: 'permanent'; code: ErrorCode; message: string };

export interface RetryState {
  /** How many times this message was already rescheduled (0 on the first delivery). */
  attempt: number;
  /** When the first attempt was made (ms). */
  firstAttemptAt: number;
  /**
   * How many of the latest attempts ended in a transient failure, in a row (a wait, whose attempt
   * the services answered, ends the run): the transient budget counts these only, so a person who
   * waited hours for licensing still gets every transient retry (without it, attempt is used, as
   * before the count existed).
   */
  transientAttempts?: number;
}

export interface RetryPolicy {
  /** How long "user not found yet" / "not licensed yet" may last before it is a failure. */
  waitWindowMs: number;
  /** Transient errors in a row get this many retries before they are dead-lettered. */
  maxTransientAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  waitWindowMs: 24 * 60 * 60_000,
  maxTransientAttempts: 8,
  baseDelayMs: 30_000,
  maxDelayMs: 60 * 60_000,
};

export type Settlement =
  | { action: 'complete' }
  | { action: 'reschedule'; at: number; attempt: number; note: string; transientAttempts?: number }
  | { action: 'deadletter'; reason: ErrorCode; description: string };

/** Exponential backoff: base · 2^attempt, capped. */
export function backoffMs(attempt: number, policy: RetryPolicy): number {
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt));
}

function minutes(ms: number): string {
  const m = Math.round(ms / 60_000);
  return m >= 120 ? `${Math.round(m / 60)} hours` : `${m} minutes`;
}

/** Pure: the settlement of a message given the outcome, its retry history and now. */
export function decideSettlement(outcome: StageOutcome, retry: RetryState, now: number, policy: RetryPolicy): Settlement {
  switch (outcome.kind) {
    case 'done':
    case 'stale':
      return { action: 'complete' };
    case 'permanent':
      return { action: 'deadletter', reason: outcome.code, description: outcome.message };
    case 'wait': {
      const elapsed = now - retry.firstAttemptAt;
      const delay = Math.max(outcome.retryAfterMs ?? 0, backoffMs(retry.attempt, policy));
      if (elapsed + delay > policy.waitWindowMs) {
        return {
          action: 'deadletter',
          reason: outcome.code,
          description: `${outcome.message} Still the case after ${retry.attempt + 1} attempts over ${minutes(elapsed)} (window ${minutes(policy.waitWindowMs)}).`,
        };
      }
      // The services answered this attempt: a run of transient failures before it is over. Counted
      // over the whole wait instead, a day of hourly tries for a licence met a 429 or a 503 on nine
      // of them and was dead-lettered for a transient failure the next try would have got past.
      return { action: 'reschedule', at: now + delay, attempt: retry.attempt + 1, note: outcome.message, ...(retry.transientAttempts ? { transientAttempts: 0 } : {}) };
    }
    case 'transient': {
      const failures = retry.transientAttempts ?? retry.attempt;
      if (failures >= policy.maxTransientAttempts) {
        const all = failures === retry.attempt ? '' : ` (${retry.attempt + 1} attempts in all)`;
        return {
          action: 'deadletter',
          reason: outcome.code,
          description: `${outcome.message} Gave up after ${failures + 1} ${all ? 'transient failures' : 'attempts'}${all}; replay when the service recovers.`,
        };
      }
      const delay = Math.max(outcome.retryAfterMs ?? 0, backoffMs(failures, policy));
      return { action: 'reschedule', at: now + delay, attempt: retry.attempt + 1, note: outcome.message, transientAttempts: failures + 1 };
    }
  }
}
