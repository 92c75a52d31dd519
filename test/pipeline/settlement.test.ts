import { describe, expect, it } from 'vitest';
import { backoffMs, decideSettlement, type RetryPolicy } from '../../shared/domain/settlement.js';

const policy: RetryPolicy = { waitWindowMs: 60 * 60_000, maxTransientAttempts: 3, baseDelayMs: 30_000, maxDelayMs: 20 * 60_000 };
const t0 = Date.parse('2026-11-02T08:00:00Z');

describe('decideSettlement', () => {
  it('completes a message whose work is done', () => {
    expect(decideSettlement({ kind: 'done', summary: 'ok' }, { attempt: 0, firstAttemptAt: t0 }, t0, policy)).toEqual({ action: 'complete' });
  });

  it('completes a stale event instead of dead-lettering it', () => {
    expect(decideSettlement({ kind: 'stale', summary: 'older' }, { attempt: 0, firstAttemptAt: t0 }, t0, policy)).toEqual({ action: 'complete' });
  });

  it('dead-letters a permanent failure at once with its code and message', () => {
    expect(
      decideSettlement({ kind: 'permanent', code: 'UserAmbiguous', message: 'two users' }, { attempt: 0, firstAttemptAt: t0 }, t0, policy),
    ).toEqual({ action: 'deadletter', reason: 'UserAmbiguous', description: 'two users' });
  });

  it('retries a transient failure that follows a long wait for licensing, instead of dead-lettering it at once', () => {
    // Eleven "not licensed yet" attempts are the licensing window at work, not transient failures.
    const s = decideSettlement(
      { kind: 'transient', code: 'Throttled', message: 'Graph said 429' },
      { attempt: 11, firstAttemptAt: t0, transientAttempts: 0 },
      t0 + 30 * 60_000,
      policy,
    );
    expect(s).toMatchObject({ action: 'reschedule', attempt: 12, transientAttempts: 1 });
  });

  it('dead-letters after the transient budget counted in transient failures only, naming both counts', () => {
    const s = decideSettlement(
      { kind: 'transient', code: 'Throttled', message: 'Graph said 429.' },
      { attempt: 11, firstAttemptAt: t0, transientAttempts: 3 },
      t0 + 30 * 60_000,
      policy,
    );
    expect(s).toEqual({
      action: 'deadletter',
      reason: 'Throttled',
      description: 'Graph said 429. Gave up after 4 transient failures (12 attempts in all); replay when the service recovers.',
    });
  });

  it('reschedules a user not found yet with exponential backoff', () => {
    const s = decideSettlement({ kind: 'wait', code: 'UserNotFound', message: 'not yet' }, { attempt: 2, firstAttemptAt: t0 }, t0 + 90_000, policy);
    expect(s).toEqual({ action: 'reschedule', at: t0 + 90_000 + 120_000, attempt: 3, note: 'not yet' });
  });

  it('dead-letters NotLicensed once the next try would fall outside the window', () => {
    const s = decideSettlement(
      { kind: 'wait', code: 'NotLicensed', message: 'No MCOEV.' },
      { attempt: 6, firstAttemptAt: t0 },
      t0 + 50 * 60_000,
      policy,
    );
    expect(s).toEqual({
      action: 'deadletter',
      reason: 'NotLicensed',
      description: 'No MCOEV. Still the case after 7 attempts over 50 minutes (window 60 minutes).',
    });
  });

  it('honours Retry-After when it is longer than the backoff', () => {
    const s = decideSettlement(
      { kind: 'transient', code: 'Throttled', message: '429', retryAfterMs: 120_000 },
      { attempt: 0, firstAttemptAt: t0 },
      t0,
      policy,
    );
    expect(s).toMatchObject({ action: 'reschedule', at: t0 + 120_000, attempt: 1 });
  });

  it('gives up on a transient error after the allowed attempts', () => {
    const s = decideSettlement({ kind: 'transient', code: 'ServiceUnavailable', message: '503.' }, { attempt: 3, firstAttemptAt: t0 }, t0, policy);
    expect(s).toEqual({
      action: 'deadletter',
      reason: 'ServiceUnavailable',
      description: '503. Gave up after 4 attempts; replay when the service recovers.',
    });
  });

  it('caps the backoff', () => {
    expect(backoffMs(20, policy)).toBe(20 * 60_000);
  });
});
