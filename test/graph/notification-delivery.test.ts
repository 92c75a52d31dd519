import { describe, expect, it } from 'vitest';
import { NotificationDelivery, type WebhookTransport } from '../../sandbox/graph-sim/notifications.js';
import { SimSubscriptions } from '../../sandbox/graph-sim/subscriptions.js';

const subscription = { id: 'sub-1', changeType: 'updated,deleted', notificationUrl: 'https://hook.example/api', clientState: 'secret-state', expirationDateTime: '2026-12-01T00:00:00Z' };
const change = (userId: string) => ({ userId, changeType: 'updated' as const, notify: true, at: new Date(0), fields: ['accountEnabled'] });

function harness(answer: (url: string, body: string, call: number) => { status: number; body?: string; contentType?: string; tookMs?: number }) {
  const posts: { url: string; body: string }[] = [];
  const timers: { at: number; fn: () => Promise<void> }[] = [];
  let now = 0;
  const transport: WebhookTransport = {
    post: async (url, body) => {
      posts.push({ url, body });
      const a = answer(url, body, posts.length);
      now += a.tookMs ?? 0; // the endpoint's answer time, on the delivery's clock
      return { status: a.status, body: a.body ?? '', contentType: a.contentType };
    },
  };
  const delivery = new NotificationDelivery(transport, { now: () => now, at: (at, _key, fn) => void timers.push({ at, fn }) }, 'tenant-1', 1_000);
  const runTimers = async (): Promise<void> => {
    while (timers.length > 0) {
      timers.sort((a, b) => a.at - b.at);
      const next = timers.shift()!;
      now = next.at;
      await next.fn();
    }
  };
  return { delivery, posts, runTimers, now: () => now };
}

describe('Graph change notification delivery (simulator)', () => {
  it('sends at most 1,000 notifications per POST, each with the subscription clientState', async () => {
    const h = harness(() => ({ status: 202 }));
    for (let i = 0; i < 2_500; i++) h.delivery.notify(change(`u${i}`), [subscription]);
    await h.runTimers();
    const sizes = h.posts.map((p) => (JSON.parse(p.body) as { value: unknown[] }).value.length);
    expect(sizes).toEqual([1_000, 1_000, 500]);
    const first = (JSON.parse(h.posts[0]!.body) as { value: Record<string, unknown>[] }).value[0]!;
    expect(first).toMatchObject({ subscriptionId: 'sub-1', clientState: 'secret-state', changeType: 'updated', resource: 'Users/u0', resourceData: { id: 'u0' } });
    expect(h.delivery.metrics).toMatchObject({ deliveries: 3, notifications: 2_500 });
  });

  it('retries a delivery the endpoint does not answer 2xx, with backoff, and drops it after four hours', async () => {
    const h = harness((_u, _b, call) => ({ status: call <= 2 ? 503 : 202 }));
    h.delivery.notify(change('u1'), [subscription]);
    await h.runTimers();
    expect(h.posts).toHaveLength(3);
    expect(h.delivery.metrics).toMatchObject({ failedDeliveries: 2, deliveries: 1, dropped: 0 });

    const down = harness(() => ({ status: 500 }));
    down.delivery.notify(change('u1'), [subscription]);
    await down.runTimers();
    expect(down.delivery.metrics.dropped).toBe(1);
    expect(down.now()).toBeLessThanOrEqual(4 * 3_600_000 + 1_000);
  });

  it('counts a delivery answered after 2.9 s as slow and one answered after 3 s as failed, whatever its status, and sends it again', async () => {
    // 202 in 2.95 s: delivered, but slow. 202 in 30 s: Graph stopped waiting at 3 s, so it failed and is sent again.
    const h = harness((_u, _b, call) => ({ status: 202, tookMs: call === 1 ? 2_950 : call === 2 ? 30_000 : 10 }));
    h.delivery.notify(change('u1'), [subscription]);
    await h.runTimers();
    h.delivery.notify(change('u2'), [subscription]);
    await h.runTimers();
    expect(h.posts.map((p) => (JSON.parse(p.body) as { value: { resourceData: { id: string } }[] }).value[0]!.resourceData.id)).toEqual(['u1', 'u2', 'u2']);
    expect(h.delivery.metrics).toMatchObject({ deliveries: 2, notifications: 2, failedDeliveries: 1, slowDeliveries: 2, lateDeliveries: 1, slowestDeliveryMs: 30_000 });
  });

  it('fails the validation of an endpoint that echoes the token after 10 s', async () => {
    const slow = harness((url) => ({ status: 200, body: new URL(url).searchParams.get('validationToken') ?? '', contentType: 'text/plain', tookMs: 10_001 }));
    await expect(slow.delivery.validate('https://hook.example/api')).resolves.toBe(false);
    const inTime = harness((url) => ({ status: 200, body: new URL(url).searchParams.get('validationToken') ?? '', contentType: 'text/plain', tookMs: 9_000 }));
    await expect(inTime.delivery.validate('https://hook.example/api')).resolves.toBe(true);
  });

  it('refuses to create a subscription whose endpoint does not echo the validation token as text/plain', async () => {
    const echo = harness((url) => ({ status: 200, body: new URL(url).searchParams.get('validationToken') ?? '', contentType: 'text/plain; charset=utf-8' }));
    const html = harness((url) => ({ status: 200, body: new URL(url).searchParams.get('validationToken') ?? '', contentType: 'text/html' }));
    const body = { resource: '/users', changeType: 'updated', notificationUrl: 'https://hook.example/api?code=k', clientState: 'x', expirationDateTime: '2026-11-20T00:00:00Z' };
    const now = Date.parse('2026-11-02T00:00:00Z');
    const good = new SimSubscriptions((url) => echo.delivery.validate(url));
    await expect(good.handle('POST', undefined, body, now)).resolves.toMatchObject({ status: 201 });
    expect(echo.posts[0]!.url).toMatch(/^https:\/\/hook\.example\/api\?code=k&validationToken=/);
    const bad = new SimSubscriptions((url) => html.delivery.validate(url));
    await expect(bad.handle('POST', undefined, body, now)).rejects.toMatchObject({ status: 400 });
    expect(bad.live(now)).toHaveLength(0);
  });
});
