import { decideSubscription, type SubscriptionDecision } from '../domain/graph-subscription.js';
import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { Subscriptions } from '../ports/subscriptions.js';
import type { Telemetry } from '../ports/telemetry.js';
import { metricNames } from '../telemetry/names.js';

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
}

/**
 * Keeps one users subscription alive: created when missing or lapsed, renewed when it would
 * lapse within `renewWithinMs` (default 3 days). Users subscriptions send no `missed` lifecycle
 * events, so an unnoticed lapse would silently stop licence-removal notifications.
 */
export async function maintainGraphSubscription(deps: SubscriptionMaintenanceDeps): Promise<SubscriptionDecision | { action: 'not-configured' }> {
  if (!deps.notificationUrl || !deps.clientState) {
    deps.logger.warn('graph subscription not maintained: set DIALTONE_GRAPH_NOTIFICATION_URL and DIALTONE_GRAPH_CLIENT_STATE');
    return { action: 'not-configured' };
  }
  const now = deps.clock.now();
  const decision = decideSubscription(
    await deps.subscriptions.list(),
    { notificationUrl: deps.notificationUrl, renewWithinMs: deps.renewWithinMs ?? 3 * 86_400_000, lifetimeMs: deps.lifetimeMs ?? 28 * 86_400_000 },
    now,
  );
  if (decision.action === 'create') {
    const created = await deps.subscriptions.create({
      resource: '/users',
      changeType: 'updated,deleted',
      notificationUrl: deps.notificationUrl,
      lifecycleNotificationUrl: deps.notificationUrl,
      clientState: deps.clientState,
      expirationDateTime: decision.expiration.toISOString(),
    });
    deps.logger.info('graph subscription created', { subscriptionId: created.id, expires: created.expirationDateTime });
  } else if (decision.action === 'renew') {
    const renewed = await deps.subscriptions.renew(decision.id, decision.expiration.toISOString());
    deps.logger.info('graph subscription renewed', { subscriptionId: renewed.id, expires: renewed.expirationDateTime, was: decision.expiresAt });
  } else {
    deps.logger.info('graph subscription current', { subscriptionId: decision.id, expires: decision.expiresAt });
  }
  const expires = decision.action === 'keep' ? Date.parse(decision.expiresAt) : decision.expiration.getTime();
  deps.telemetry?.gauge(metricNames.graphSubscriptionHoursRemaining, Math.max(0, Math.round((expires - now.getTime()) / 36_000) / 100));
  return decision;
}
