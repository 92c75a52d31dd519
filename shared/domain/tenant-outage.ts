import type { VoiceResult } from '../contracts/messages.js';
import type { ErrorCode } from './errors.js';

/**
 * A tenant that cannot be served for a while (Teams throttles it or answers "session availability
 * is Busy", its service is unavailable, its certificate cannot be loaded or is refused) must not
 * hold the worker's shared receivers: its commands are set aside on the bus until it is expected
 * back, and the other tenants go on. Pure: the worker's consumer does the I/O.
 */

/** Failures that say the tenant, not the person, cannot be served now. */
export const tenantOutageCodes = ['Throttled', 'ServiceUnavailable', 'CertificateInvalid'] as const satisfies readonly ErrorCode[];
export type TenantOutageCode = (typeof tenantOutageCodes)[number];

export interface TenantOutage {
  code: TenantOutageCode;
  message: string;
  /** A wait Teams asked for (Retry-After), when its message says so. */
  retryAfterMs?: number;
}

export interface DeferralPolicy {
  /** The pause after the tenant's first outage; it doubles with every outage in a row. */
  firstDelayMs: number;
  /** The longest pause (a Retry-After above it is cut to it). */
  maxDelayMs: number;
  /**
   * How long one command may wait for its tenant, from its first deferral: then it is given up as a
   * transient failure with an actionable reason (record dead-letters it; `dialtone dlq replay`).
   */
  windowMs: number;
}

/** Production defaults: 30 s doubling up to 15 min, for at most 4 h (well inside the 24 h number reservation). */
export const defaultDeferralPolicy: DeferralPolicy = { firstDelayMs: 30_000, maxDelayMs: 15 * 60_000, windowMs: 4 * 60 * 60_000 };

const RETRY_AFTER = /retry[- ]after:?\s*(\d+)|try again in (\d+) ?s/i;

/** The tenant outage a failed result reports, if it is one. */
export function tenantOutageOf(result: Pick<VoiceResult, 'status' | 'error'>): TenantOutage | undefined {
  if (result.status !== 'failed' || result.error === undefined) return undefined;
  const code = (tenantOutageCodes as readonly string[]).includes(result.error.code) ? (result.error.code as TenantOutageCode) : undefined;
  if (code === undefined) return undefined;
  // Throttling and outages are transient; a certificate refusal is permanent for the command but
  // lasts only until an operator fixes the certificate, which the worker loads again by itself.
  if (code !== 'CertificateInvalid' && result.error.class !== 'transient') return undefined;
  const match = RETRY_AFTER.exec(result.error.message);
  const seconds = Number(match?.[1] ?? match?.[2]);
  return { code, message: result.error.message, ...(Number.isFinite(seconds) && seconds > 0 ? { retryAfterMs: seconds * 1000 } : {}) };
}

/** How long a tenant pauses after its `strikes`-th outage in a row (1 = the first): doubling, capped; a Retry-After wins up to the cap. */
export function pauseMs(strikes: number, retryAfterMs: number | undefined, policy: DeferralPolicy): number {
  const doubling = policy.firstDelayMs * 2 ** Math.min(Math.max(strikes - 1, 0), 30);
  return Math.min(policy.maxDelayMs, Math.max(doubling, retryAfterMs ?? 0));
}

/** What the worker knows of a command it set aside before (from the copy's application properties). */
export interface PriorDeferrals {
  deferrals: number;
  /** When it was first set aside (ms); absent: never. */
  sinceMs?: number;
}

export type DeferralDecision =
  | { kind: 'defer'; atMs: number; deferrals: number; sinceMs: number }
  | { kind: 'giveUp'; deferrals: number; sinceMs: number; reason: string };

/**
 * A command of a tenant that is paused until `pausedUntilMs`: set aside until then (never past the
 * end of its window, so its last try comes at the window's end), or given up once the window is over.
 */
export function decideDeferral(input: {
  prior: PriorDeferrals;
  nowMs: number;
  pausedUntilMs: number;
  tenantId: string;
  outage: Pick<TenantOutage, 'code' | 'message'>;
  policy: DeferralPolicy;
}): DeferralDecision {
  const { prior, nowMs, policy } = input;
  const sinceMs = prior.sinceMs ?? nowMs;
  const endMs = sinceMs + policy.windowMs;
  if (nowMs >= endMs) {
    return { kind: 'giveUp', deferrals: prior.deferrals, sinceMs, reason: giveUpReason(input.tenantId, input.outage, sinceMs, policy, prior.deferrals) };
  }
  return { kind: 'defer', atMs: Math.min(Math.max(input.pausedUntilMs, nowMs), endMs), deferrals: prior.deferrals + 1, sinceMs };
}

function giveUpReason(tenantId: string, outage: Pick<TenantOutage, 'code' | 'message'>, sinceMs: number, policy: DeferralPolicy, deferrals: number): string {
  const minutes = Math.round(policy.windowMs / 60_000);
  const fix =
    outage.code === 'CertificateInvalid'
      ? `fix the tenant's certificate (dialtone doctor shows it; the worker loads it again by itself)`
      : `Teams kept refusing the tenant's sessions; check its session limit (dialtone tenants show) and other tools using the same app`;
  return (
    `tenant ${tenantId} could not be served for ${minutes} min (since ${new Date(sinceMs).toISOString()}, set aside ${deferrals} times): ` +
    `${outage.code}: ${outage.message}. It was not run while the tenant was paused (an attempt before the pause may have written part of it; the replay re-plans from the newest truth and writes only what still differs). ${fix}, then dialtone dlq replay --tenant-id ${tenantId}`
  );
}

/** The application properties the worker puts on a command it sets aside. */
export const DEFERRALS = 'dialtone-deferrals';
export const DEFERRED_SINCE = 'dialtone-deferred-since';

export function priorDeferrals(properties: Record<string, unknown> | undefined): PriorDeferrals {
  const deferrals = Number(properties?.[DEFERRALS] ?? 0);
  const since = Date.parse(String(properties?.[DEFERRED_SINCE] ?? ''));
  return {
    deferrals: Number.isInteger(deferrals) && deferrals > 0 ? deferrals : 0,
    ...(Number.isFinite(since) ? { sinceMs: since } : {}),
  };
}
