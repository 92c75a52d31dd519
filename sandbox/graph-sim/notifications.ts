/**
 * Change notifications as Graph delivers them to a subscription's notificationUrl: a
 * validation handshake before a subscription is created (POST `?validationToken=…`, answered
 * 200 text/plain with the token, within 10 s), then POSTs of `{ value: [ … ] }` with at most
 * 1,000 notifications each, carrying the subscription's clientState; a delivery that is not
 * answered 2xx within 3 s is retried with backoff for up to four hours, then dropped. The answer
 * times are sandbox time, as Graph would see them: a delivery answered after 2.9 s counts as slow
 * and one answered after 3 s as failed (Graph stopped waiting, and sends it again), and a
 * validation answered after 10 s fails the subscription's creation.
 */
import type { DirectoryChangeEvent } from './tenant.js';

/** What Graph sends and gets back over HTTP; the sandbox routes it to the webhook Function. */
export interface WebhookTransport {
  post(url: string, body: string): Promise<{ status: number; body: string; contentType: string | undefined }>;
}

/** Sandbox time for deliveries and retries. */
export interface DeliveryTimers {
  at(at: number, key: string, fn: () => Promise<void>): void;
  now(): number;
}

export interface DeliverySubscription {
  id: string;
  changeType: string;
  notificationUrl: string;
  clientState: string | null;
  expirationDateTime: string;
}

export interface DeliveryMetrics {
  validations: number;
  /** POSTs answered 2xx. */
  deliveries: number;
  notifications: number;
  /** POSTs not answered 2xx (each retried). */
  failedDeliveries: number;
  /** Notifications given up after four hours of retries. */
  dropped: number;
  /** POSTs answered after 2.9 s (Graph's "slow"; 10 % of them throttles the endpoint, 15 % drops notifications). */
  slowDeliveries: number;
  /** POSTs answered after 3 s: counted failed and retried, whatever the answer (included in failedDeliveries). */
  lateDeliveries: number;
  /** The longest answer to a delivery, in sandbox ms. */
  slowestDeliveryMs: number;
}

/** Graph's deadlines for the notification URL (FIELD-NOTES: within 3 s, over 2.9 s is slow; validation within 10 s). */
export const DELIVERY_DEADLINE_MS = 3_000;
export const SLOW_DELIVERY_MS = 2_900;
export const VALIDATION_DEADLINE_MS = 10_000;

/** Metrics of a delivery that has sent nothing yet. */
export function emptyDeliveryMetrics(): DeliveryMetrics {
  return { validations: 0, deliveries: 0, notifications: 0, failedDeliveries: 0, dropped: 0, slowDeliveries: 0, lateDeliveries: 0, slowestDeliveryMs: 0 };
}

export const MAX_NOTIFICATIONS_PER_POST = 1_000;
const RETRY_FOR_MS = 4 * 3_600_000;
const FIRST_RETRY_MS = 60_000;

interface Pending {
  subscription: DeliverySubscription;
  notification: Record<string, unknown>;
  firstAttemptAt: number;
}

export class NotificationDelivery {
  private pending: Pending[] = [];
  private flushScheduled = false;
  private validationCount = 0;
  readonly metrics: DeliveryMetrics = emptyDeliveryMetrics();

  constructor(
    private readonly transport: WebhookTransport,
    private readonly timers: DeliveryTimers,
    private readonly tenantId: string,
    /** How long after a change Graph sends its notification (sandbox ms). */
    private readonly lagMs = 1_000,
  ) {}

  /** The handshake Graph makes before it creates a subscription; false when it failed. */
  async validate(url: string): Promise<boolean> {
    this.validationCount += 1;
    this.metrics.validations += 1;
    const token = `Validation: Testing client application reachability for subscription Request-Id: sandbox-${this.validationCount}`;
    const separator = url.includes('?') ? '&' : '?';
    const start = this.timers.now();
    try {
      const answer = await this.transport.post(`${url}${separator}validationToken=${encodeURIComponent(token)}`, '');
      if (this.timers.now() - start > VALIDATION_DEADLINE_MS) return false;
      return answer.status === 200 && (answer.contentType ?? '').toLowerCase().startsWith('text/plain') && answer.body === token;
    } catch {
      return false;
    }
  }

  /** Queues a notification for every live subscription that asked for this change type. */
  notify(change: DirectoryChangeEvent, subscriptions: readonly DeliverySubscription[]): void {
    const now = this.timers.now();
    for (const subscription of subscriptions) {
      const types = subscription.changeType.split(',').map((t) => t.trim());
      if (!types.includes(change.changeType)) continue;
      this.pending.push({
        subscription,
        firstAttemptAt: now,
        notification: {
          subscriptionId: subscription.id,
          subscriptionExpirationDateTime: subscription.expirationDateTime,
          changeType: change.changeType,
          resource: `Users/${change.userId}`,
          resourceData: { '@odata.type': '#Microsoft.Graph.User', '@odata.id': `Users/${change.userId}`, id: change.userId, organizationId: this.tenantId },
          clientState: subscription.clientState,
          tenantId: this.tenantId,
        },
      });
    }
    this.scheduleFlush(now + this.lagMs);
  }

  private scheduleFlush(at: number): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    this.timers.at(at, 'graph-notifications', async () => {
      this.flushScheduled = false;
      const batch = this.pending;
      this.pending = [];
      await this.deliver(batch);
    });
  }

  private async deliver(batch: Pending[]): Promise<void> {
    const byUrl = new Map<string, Pending[]>();
    for (const p of batch) byUrl.set(p.subscription.notificationUrl, [...(byUrl.get(p.subscription.notificationUrl) ?? []), p]);
    for (const [url, items] of byUrl) {
      for (let i = 0; i < items.length; i += MAX_NOTIFICATIONS_PER_POST) {
        const chunk = items.slice(i, i + MAX_NOTIFICATIONS_PER_POST);
        await this.post(url, chunk, 0);
      }
    }
  }

  private async post(url: string, chunk: Pending[], attempt: number): Promise<void> {
    let ok = false;
    const start = this.timers.now();
    try {
      const answer = await this.transport.post(url, JSON.stringify({ value: chunk.map((p) => p.notification) }));
      ok = answer.status >= 200 && answer.status < 300;
    } catch {
      ok = false;
    }
    const took = this.timers.now() - start;
    this.metrics.slowestDeliveryMs = Math.max(this.metrics.slowestDeliveryMs, took);
    if (took > SLOW_DELIVERY_MS) this.metrics.slowDeliveries += 1;
    if (took > DELIVERY_DEADLINE_MS) {
      // Graph stopped waiting at 3 s: whatever the webhook did after, this delivery failed.
      this.metrics.lateDeliveries += 1;
      ok = false;
    }
    if (ok) {
      this.metrics.deliveries += 1;
      this.metrics.notifications += chunk.length;
      return;
    }
    this.metrics.failedDeliveries += 1;
    const now = this.timers.now();
    const retryAt = now + FIRST_RETRY_MS * 2 ** attempt;
    const first = Math.min(...chunk.map((p) => p.firstAttemptAt));
    if (retryAt - first > RETRY_FOR_MS) {
      this.metrics.dropped += chunk.length;
      return;
    }
    this.timers.at(retryAt, `graph-notifications-retry:${url}`, () => this.post(url, chunk, attempt + 1));
  }
}
