/**
 * Change notifications as Graph delivers them to a subscription's notificationUrl: a
 * validation handshake before a subscription is created (POST `?validationToken=…`, answered
 * 200 text/plain with the token, within 10 s), then POSTs of `{ value: [ … ] }` with at most
 * 1,000 notifications each, carrying the subscription's clientState; a delivery that is not
 * answered 2xx is retried with backoff for up to four hours, then dropped.
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
  readonly metrics: DeliveryMetrics = { validations: 0, deliveries: 0, notifications: 0, failedDeliveries: 0, dropped: 0 };

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
    try {
      const answer = await this.transport.post(`${url}${separator}validationToken=${encodeURIComponent(token)}`, '');
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
    try {
      const answer = await this.transport.post(url, JSON.stringify({ value: chunk.map((p) => p.notification) }));
      ok = answer.status >= 200 && answer.status < 300;
    } catch {
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
