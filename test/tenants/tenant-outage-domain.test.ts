import { describe, expect, it } from 'vitest';
import { deferredCopyId } from '../../shared/domain/ids.js';
import { decideDeferral, pauseMs, priorDeferrals, tenantOutageOf, type DeferralPolicy } from '../../shared/domain/tenant-outage.js';

const policy: DeferralPolicy = { firstDelayMs: 30_000, maxDelayMs: 15 * 60_000, windowMs: 4 * 60 * 60_000 };
const T = '11111111-1111-4111-8111-111111111111';
const failed = (cls: 'transient' | 'permanent' | 'conflict', code: string, message = 'x') => ({ status: 'failed' as const, error: { class: cls, code, message } });

describe('tenant outages (pure)', () => {
  it('takes throttling, unavailability and a refused certificate for the tenant, a person\'s own failure not', () => {
    expect(tenantOutageOf(failed('transient', 'Throttled', 'Too many requests. Retry-After: 120'))).toEqual({ code: 'Throttled', message: 'Too many requests. Retry-After: 120', retryAfterMs: 120_000 });
    expect(tenantOutageOf(failed('transient', 'ServiceUnavailable'))?.code).toBe('ServiceUnavailable');
    expect(tenantOutageOf(failed('permanent', 'CertificateInvalid'))?.code).toBe('CertificateInvalid');
    for (const other of [failed('transient', 'UserNotFound'), failed('transient', 'SessionBroken'), failed('permanent', 'PolicyNotFound'), failed('conflict', 'NumberConflict')]) {
      expect(tenantOutageOf(other)).toBeUndefined();
    }
    expect(tenantOutageOf({ status: 'applied', error: undefined })).toBeUndefined();
  });

  it('pauses a tenant for longer while its outage lasts, up to the cap; a Retry-After wins up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6, 40].map((n) => pauseMs(n, undefined, policy))).toEqual([30_000, 60_000, 120_000, 240_000, 480_000, 900_000, 900_000]);
    expect(pauseMs(1, 300_000, policy)).toBe(300_000);
    expect(pauseMs(1, 3_600_000, policy)).toBe(900_000);
  });

  it('sets a command aside until its tenant is expected back, never past its window, and gives it up once the window is over', () => {
    const outage = { code: 'Throttled' as const, message: 'Too many requests.' };
    const first = decideDeferral({ prior: { deferrals: 0 }, nowMs: 1_000, pausedUntilMs: 31_000, tenantId: T, outage, policy });
    expect(first).toEqual({ kind: 'defer', atMs: 31_000, deferrals: 1, sinceMs: 1_000 });
    const nearEnd = decideDeferral({ prior: { deferrals: 9, sinceMs: 1_000 }, nowMs: 1_000 + policy.windowMs - 60_000, pausedUntilMs: 1_000 + policy.windowMs + 600_000, tenantId: T, outage, policy });
    expect(nearEnd).toEqual({ kind: 'defer', atMs: 1_000 + policy.windowMs, deferrals: 10, sinceMs: 1_000 });
    const over = decideDeferral({ prior: { deferrals: 10, sinceMs: 1_000 }, nowMs: 1_000 + policy.windowMs, pausedUntilMs: 1_000 + policy.windowMs + 600_000, tenantId: T, outage, policy });
    expect(over).toMatchObject({ kind: 'giveUp', deferrals: 10, sinceMs: 1_000 });
    expect(over.kind === 'giveUp' && over.reason).toMatch(new RegExp(`^tenant ${T} could not be served for 240 min \\(since 1970-01-01T00:00:01.000Z, set aside 10 times\\): Throttled: .*dialtone dlq replay --tenant-id ${T}$`));
  });

  it('reads back what a copy carries, and names the copies within the bus limits', () => {
    expect(priorDeferrals({ 'dialtone-deferrals': 3, 'dialtone-deferred-since': '2026-11-02T08:00:00.000Z' })).toEqual({ deferrals: 3, sinceMs: Date.parse('2026-11-02T08:00:00Z') });
    expect(priorDeferrals(undefined)).toEqual({ deferrals: 0 });
    expect(priorDeferrals({ 'dialtone-deferrals': 'junk', 'dialtone-deferred-since': 'never' })).toEqual({ deferrals: 0 });
    expect(deferredCopyId('cmd-1', 1)).toBe('cmd-1#d1');
    expect(deferredCopyId('cmd-1#d1', 2)).toBe('cmd-1#d2');
    const long = deferredCopyId('x'.repeat(128), 99999);
    expect(long.length).toBeLessThanOrEqual(128);
    expect(deferredCopyId('x'.repeat(128), 99999)).toBe(long);
  });
});
