/** Users subscriptions last at most 41,760 minutes (29 days). */
export const MAX_USERS_SUBSCRIPTION_MS = 41_760 * 60_000;

export interface SubscriptionView {
  id: string;
  resource: string;
  changeType: string;
  notificationUrl: string;
  expirationDateTime: string;
}

export interface WantedSubscription {
  notificationUrl: string;
  /** Renew when fewer than this many ms are left. */
  renewWithinMs: number;
  /** How far ahead to set the expiry (capped at the maximum, minus a safety margin). */
  lifetimeMs: number;
}

export type SubscriptionDecision =
  | { action: 'create'; expiration: Date }
  | { action: 'renew'; id: string; expiration: Date; expiresAt: string }
  | { action: 'keep'; id: string; expiresAt: string };

const SAFETY_MS = 60 * 60_000;

function strip(url: string): string {
  // The function key in the query is ours; Graph echoes the URL as given, so compare without it.
  return url.split('?')[0]!.replace(/\/+$/, '').toLowerCase();
}

/** Pure: keep, renew or create the users subscription that points at our webhook. */
export function decideSubscription(existing: SubscriptionView[], wanted: WantedSubscription, now: Date): SubscriptionDecision {
  const ours = existing
    .filter((s) => /^\/?users$/i.test(s.resource) && strip(s.notificationUrl) === strip(wanted.notificationUrl))
    .sort((a, b) => Date.parse(b.expirationDateTime) - Date.parse(a.expirationDateTime));
  const expiration = new Date(now.getTime() + Math.min(wanted.lifetimeMs, MAX_USERS_SUBSCRIPTION_MS - SAFETY_MS));
  const newest = ours[0];
  if (!newest || Date.parse(newest.expirationDateTime) <= now.getTime()) return { action: 'create', expiration };
  if (Date.parse(newest.expirationDateTime) - now.getTime() < wanted.renewWithinMs) {
    return { action: 'renew', id: newest.id, expiration, expiresAt: newest.expirationDateTime };
  }
  return { action: 'keep', id: newest.id, expiresAt: newest.expirationDateTime };
}
