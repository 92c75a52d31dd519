import type { CallRetryPolicy } from '../domain/call-retry.js';
import { decideSubscription, type SubscriptionDecision } from '../domain/graph-subscription.js';
import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { Sleeper } from '../ports/sleeper.js';
import type { Subscriptions } from '../ports/subscriptions.js';
import type { Telemetry } from '../ports/telemetry.js';
import { metricNames } from '../telemetry/names.js';
import { callRetrier } from './retry-call.js';

export interface SubscriptionMaintenanceDeps {
  subscriptions: Subscriptions;
  clock: Clock;
  logger: Logger;
  notificationUrl: string | undefined;
  clientState: string | undefined;
  renewWithinMs?: number;
  lifetimeMs?: number;
  /** Reports the hours left on the subscription (the "not renewed" alert reads it). */
  telemetry?: Telemetry;
  /** Where a retried Graph call waits: real time in production, the sandbox clock in the sandbox. */
  sleeper: Sleeper;
  /** Per-call retry (default shared/domain/call-retry.ts's, as the resync's). */
  retryPolicy?: CallRetryPolicy;
}

/**
 * Keeps one users subscription alive: created when missing or lapsed, renewed when it would
 * lapse within `renewWithinMs` (default 3 days). Users subscriptions send no `missed` lifecycle
 * events, so an unnoticed lapse would silently stop licence-removal notifications.
 *
 * Each Graph call is retried on its own when Graph answers 429 / 5xx or the network fails, with
 * backoff or Graph's Retry-After, as the resync's calls are (shared/domain/call-retry.ts), so one
 * throttled answer does not fail the run; a refusal (403, 400) is not retried and fails the run.
 * A create retried after a failure that reached Graph could leave a second subscription: its
 * notifications carry another subscription id and cost one re-plan that sends nothing, and only
 * the newest is renewed, so the other lapses.
 */
export async function maintainGraphSubscription(deps: SubscriptionMaintenanceDeps): Promise<SubscriptionDecision | { action: 'not-configured' }> {
  if (!deps.notificationUrl || !deps.clientState) {
    deps.logger.warn('graph subscription not maintained: set DIALTONE_GRAPH_NOTIFICATION_URL and DIALTONE_GRAPH_CLIENT_STATE');
    return { action: 'not-configured' };
  }
  const retry = callRetrier({ sleeper: deps.sleeper, logger: deps.logger, ...(deps.retryPolicy ? { policy: deps.retryPolicy } : {}) });
  const existing = await retry('list graph subscriptions', () => deps.subscriptions.list());
  const now = deps.clock.now();
  const decision = decideSubscription(
    existing,
    { notificationUrl: deps.notificationUrl, renewWithinMs: deps.renewWithinMs ?? 3 * 86_400_000, lifetimeMs: deps.lifetimeMs ?? 28 * 86_400_000 },
    now,
  );
  if (decision.action === 'create') {
    const wanted = {
      resource: '/users',
      changeType: 'updated,deleted',
      notificationUrl: deps.notificationUrl,
      lifecycleNotificationUrl: deps.notificationUrl,
      clientState: deps.clientState,
      expirationDateTime: decision.expiration.toISOString(),
    };
    const created = await retry('create graph subscription', () => deps.subscriptions.create(wanted));
    deps.logger.info('graph subscription created', { subscriptionId: created.id, expires: created.expirationDateTime });
  } else if (decision.action === 'renew') {
    const renewed = await retry('renew graph subscription', () => deps.subscriptions.renew(decision.id, decision.expiration.toISOString()));
    deps.logger.info('graph subscription renewed', { subscriptionId: renewed.id, expires: renewed.expirationDateTime, was: decision.expiresAt });
  } else {
    deps.logger.info('graph subscription current', { subscriptionId: decision.id, expires: decision.expiresAt });
  }
  const expires = decision.action === 'keep' ? Date.parse(decision.expiresAt) : decision.expiration.getTime();
  deps.telemetry?.gauge(metricNames.graphSubscriptionHoursRemaining, Math.max(0, Math.round((expires - now.getTime()) / 36_000) / 100));
  return decision;
}
