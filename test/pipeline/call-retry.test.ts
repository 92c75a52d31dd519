import { describe, expect, it } from 'vitest';
import { DialtoneError } from '../../shared/domain/errors.js';
import { callRetryDecision, defaultCallRetryPolicy, isTransientCallError } from '../../shared/domain/call-retry.js';

const policy = { maxAttempts: 4, baseDelayMs: 1_000, maxDelayMs: 8_000, maxRetryAfterMs: 60_000, budgetMs: 30_000 };
const throttled = (retryAfterMs?: number) =>
  new DialtoneError('Throttled', 'Graph 429', { transient: true, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) });

describe('per-call retry of transient errors (pure)', () => {
  it('knows the transient errors of Graph, Service Bus and Table Storage, and nothing else', () => {
    expect(isTransientCallError(throttled())).toBe(true);
    expect(isTransientCallError(Object.assign(new Error('busy'), { name: 'ServiceBusError', code: 'ServiceBusy', retryable: true }))).toBe(true);
    expect(isTransientCallError(Object.assign(new Error('full'), { name: 'ServiceBusError', code: 'QuotaExceeded', retryable: false }))).toBe(false);
    expect(isTransientCallError(Object.assign(new Error('busy'), { name: 'RestError', statusCode: 503, code: 'ServerBusy' }))).toBe(true);
    expect(isTransientCallError(Object.assign(new Error('timed out'), { name: 'RestError', statusCode: 500, code: 'OperationTimedOut' }))).toBe(true);
    expect(isTransientCallError(Object.assign(new Error('too big'), { name: 'RestError', statusCode: 400, code: 'PropertyValueTooLarge' }))).toBe(false);
    expect(isTransientCallError(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isTransientCallError(new DialtoneError('InvalidMessage', 'bad'))).toBe(false);
    expect(isTransientCallError(new TypeError('x is undefined'))).toBe(false);
  });

  it('backs off exponentially, capped, and gives up after the last attempt', () => {
    expect(callRetryDecision(throttled(), 1, 0, policy)).toEqual({ retry: true, waitMs: 1_000 });
    expect(callRetryDecision(throttled(), 2, 1_000, policy)).toEqual({ retry: true, waitMs: 2_000 });
    expect(callRetryDecision(throttled(), 3, 3_000, policy)).toEqual({ retry: true, waitMs: 4_000 });
    expect(callRetryDecision(throttled(), 4, 7_000, policy)).toEqual({ retry: false, why: 'attempts' });
    expect(callRetryDecision(throttled(), 3, 0, { ...policy, maxAttempts: 10, maxDelayMs: 3_000 })).toEqual({ retry: true, waitMs: 3_000 });
  });

  it('honours Retry-After when it asks for longer than the backoff, up to its cap', () => {
    expect(callRetryDecision(throttled(5_000), 1, 0, policy)).toEqual({ retry: true, waitMs: 5_000 });
    expect(callRetryDecision(throttled(500), 2, 0, policy)).toEqual({ retry: true, waitMs: 2_000 });
    expect(callRetryDecision(throttled(600_000), 1, 0, policy)).toEqual({ retry: false, why: 'retryAfter' });
  });

  it('never waits past the round budget, and never retries a permanent error', () => {
    expect(callRetryDecision(throttled(), 2, 29_000, policy)).toEqual({ retry: false, why: 'budget' });
    expect(callRetryDecision(new DialtoneError('InvalidMessage', 'bad'), 1, 0, policy)).toEqual({ retry: false, why: 'permanent' });
  });

  it('keeps a resync round well inside the five-minute function timeout by default', () => {
    expect(defaultCallRetryPolicy.budgetMs).toBeLessThanOrEqual(180_000);
    expect(defaultCallRetryPolicy.maxAttempts).toBeGreaterThanOrEqual(4);
  });
});
