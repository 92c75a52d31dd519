import { afterEach, describe, expect, it } from 'vitest';
import { createGraphSubscriptions } from '../../shared/adapters/graph-subscriptions.js';
import { decideSubscription, MAX_USERS_SUBSCRIPTION_MS } from '../../shared/domain/graph-subscription.js';
import { createMemoryLogger } from '../../shared/logging/logger.js';
import { maintainGraphSubscription } from '../../shared/usecases/maintain-graph-subscription.js';
import { SimClock } from '../../sandbox/clock.js';
import { startGraphSimulator, type GraphSimulator } from '../../sandbox/graph-sim/index.js';
import { tenant } from './fixtures.js';

const URL_WITH_KEY = 'https://dialtone-func.azurewebsites.net/api/graph/notifications?code=secret-key';
const now = new Date('2026-11-23T12:00:00Z');
const DAY = 86_400_000;

describe('decideSubscription', () => {
  const wanted = { notificationUrl: URL_WITH_KEY, renewWithinMs: 3 * DAY, lifetimeMs: 28 * DAY };
  const ours = (expires: Date, id = 's1') => ({
    id,
    resource: '/users',
    changeType: 'updated,deleted',
    notificationUrl: 'https://dialtone-func.azurewebsites.net/api/graph/notifications?code=rotated-key',
    expirationDateTime: expires.toISOString(),
  });

  it('creates one when none points at the webhook', () => {
    expect(decideSubscription([], wanted, now)).toEqual({ action: 'create', expiration: new Date(now.getTime() + 28 * DAY) });
  });

  it('recognises its subscription whatever function key the URL carries', () => {
    expect(decideSubscription([ours(new Date(now.getTime() + 10 * DAY))], wanted, now).action).toBe('keep');
  });

  it('renews one that lapses within the window', () => {
    expect(decideSubscription([ours(new Date(now.getTime() + DAY))], wanted, now)).toMatchObject({ action: 'renew', id: 's1' });
  });

  it('never asks for more than the users maximum', () => {
    const decision = decideSubscription([], { ...wanted, lifetimeMs: 60 * DAY }, now);
    expect(decision.action === 'create' && decision.expiration.getTime() - now.getTime()).toBeLessThan(MAX_USERS_SUBSCRIPTION_MS);
  });
});

describe('maintainGraphSubscription against the Graph simulator', () => {
  let graph: GraphSimulator | undefined;
  afterEach(async () => {
    await graph?.close();
  });

  async function setup() {
    const clock = new SimClock(now);
    graph = await startGraphSimulator({ tenant: tenant(), clock });
    const subscriptions = createGraphSubscriptions({ baseUrl: graph.baseUrl, accessToken: async () => 'token' });
    const logger = createMemoryLogger();
    const waits: number[] = [];
    // A retried call waits on the test's clock: no real time passes.
    const sleeper = { sleep: async (ms: number) => void (waits.push(ms), clock.advance(ms)) };
    const deps = { subscriptions, clock, logger, sleeper, notificationUrl: URL_WITH_KEY, clientState: 'a-client-state-of-32-characters!' };
    return { clock, subscriptions, logger, waits, deps, graph };
  }

  it('creates the subscription, keeps it while it is fresh and renews it before it lapses', async () => {
    const { clock, subscriptions, deps } = await setup();
    expect((await maintainGraphSubscription(deps)).action).toBe('create');
    const [created] = await subscriptions.list();
    expect(created).toMatchObject({ resource: '/users', changeType: 'updated,deleted' });
    expect((await maintainGraphSubscription(deps)).action).toBe('keep');
    clock.advance(26 * DAY);
    expect(await maintainGraphSubscription(deps)).toMatchObject({ action: 'renew', id: created?.id });
    const [renewed] = await subscriptions.list();
    expect(Date.parse(renewed!.expirationDateTime)).toBe(clock.nowMs() + 28 * DAY);
    expect(await subscriptions.list()).toHaveLength(1);
  });

  it('creates a new one after the old one lapsed', async () => {
    const { clock, deps } = await setup();
    await maintainGraphSubscription(deps);
    clock.advance(29 * DAY);
    expect((await maintainGraphSubscription(deps)).action).toBe('create');
  });

  it('does nothing, and says why, when the webhook URL or clientState is not set', async () => {
    const { deps, logger } = await setup();
    expect(await maintainGraphSubscription({ ...deps, notificationUrl: undefined })).toEqual({ action: 'not-configured' });
    expect(logger.lines.some((l) => l.includes('DIALTONE_GRAPH_NOTIFICATION_URL'))).toBe(true);
  });

  it('renews within the same timer run when Graph answers the renewal 429 with Retry-After once', async () => {
    const { clock, subscriptions, deps, waits, logger, graph } = await setup();
    await maintainGraphSubscription(deps);
    const [created] = await subscriptions.list();
    clock.advance(26 * DAY);
    graph.setFaults({ rules: [{ status: 429, times: 1, path: /^\/v1\.0\/subscriptions\/[^/?]+$/, retryAfterSeconds: 7 }] });
    const before = graph.metrics().byRoute['PATCH /subscriptions'] ?? 0;
    expect(await maintainGraphSubscription(deps)).toMatchObject({ action: 'renew', id: created?.id });
    expect(graph.metrics().throttled).toBe(1);
    expect((graph.metrics().byRoute['PATCH /subscriptions'] ?? 0) - before).toBe(2);
    // Graph's Retry-After was waited out on the sleeper, then the renewal went through.
    expect(waits).toEqual([7_000]);
    const [renewed] = await subscriptions.list();
    expect(renewed?.id).toBe(created?.id);
    expect(Date.parse(renewed!.expirationDateTime)).toBeGreaterThan(clock.nowMs() + 27 * DAY);
    expect(logger.lines.some((l) => l.includes('"call retried"') && l.includes('renew graph subscription'))).toBe(true);
  });

  it('creates within the same timer run when Graph answers /subscriptions 503 twice', async () => {
    const { subscriptions, deps, waits, graph } = await setup();
    graph.setFaults({ rules: [{ status: 503, times: 2, path: /^\/v1\.0\/subscriptions$/ }] });
    expect((await maintainGraphSubscription(deps)).action).toBe('create');
    expect(graph.metrics().unavailable).toBe(2);
    expect(waits).toHaveLength(2);
    expect(await subscriptions.list()).toHaveLength(1);
  });

  it('does not retry a renewal Graph refuses with 403, and reports it', async () => {
    const { clock, subscriptions, deps, waits, logger, graph } = await setup();
    await maintainGraphSubscription(deps);
    const [created] = await subscriptions.list();
    clock.advance(26 * DAY);
    graph.setFaults({ rules: [{ status: 403, times: 5, path: /^\/v1\.0\/subscriptions\/[^/?]+$/ }] });
    const before = graph.metrics().byRoute['PATCH /subscriptions'] ?? 0;
    await expect(maintainGraphSubscription(deps)).rejects.toMatchObject({ transient: false, message: expect.stringMatching(/403|Insufficient privileges/) });
    expect((graph.metrics().byRoute['PATCH /subscriptions'] ?? 0) - before).toBe(1);
    expect(waits).toEqual([]);
    expect(logger.lines.some((l) => l.includes('"call retried"'))).toBe(false);
    const [unchanged] = await subscriptions.list();
    expect(unchanged?.expirationDateTime).toBe(created?.expirationDateTime);
  });

  it('surfaces Graph refusing an expiry beyond 41,760 minutes as an error', async () => {
    const { subscriptions } = await setup();
    await expect(
      subscriptions.create({
        resource: '/users',
        changeType: 'updated',
        notificationUrl: URL_WITH_KEY,
        lifecycleNotificationUrl: URL_WITH_KEY,
        clientState: 'x'.repeat(20),
        expirationDateTime: new Date(now.getTime() + 30 * DAY).toISOString(),
      }),
    ).rejects.toThrow(/41760 minutes/);
  });
});
