import { z } from 'zod';
import type { SubscriptionView } from '../domain/graph-subscription.js';
import type { NewSubscription, Subscriptions } from '../ports/subscriptions.js';
import { createGraphClient, graphCalls, type GraphClientOptions } from './graph-client.js';

const SubscriptionSchema = z.object({
  id: z.string(),
  resource: z.string(),
  changeType: z.string(),
  notificationUrl: z.string(),
  expirationDateTime: z.string(),
});
const ListSchema = z.object({ value: z.array(SubscriptionSchema), '@odata.nextLink': z.string().optional() });

/** /subscriptions through the same retry-free Graph client as the directory. */
export function createGraphSubscriptions(options: GraphClientOptions & { defaultRetryAfterMs?: number }): Subscriptions {
  const { client, baseUrl } = createGraphClient(options);
  const { call, send } = graphCalls(options.defaultRetryAfterMs ?? 30_000);
  return {
    async list(): Promise<SubscriptionView[]> {
      const out: SubscriptionView[] = [];
      let path = '/subscriptions';
      for (;;) {
        const page = await call('list subscriptions', () => client.api(path).get(), ListSchema, 'subscriptions page');
        out.push(...page.value);
        const next = page['@odata.nextLink'];
        if (!next?.startsWith(`${baseUrl}/`)) return out;
        path = next.slice(baseUrl.length);
      }
    },
    create: (subscription: NewSubscription) =>
      call('create subscription', () => client.api('/subscriptions').post(subscription), SubscriptionSchema, 'subscription'),
    async remove(id: string): Promise<void> {
      await send('delete subscription', () => client.api(`/subscriptions/${encodeURIComponent(id)}`).delete());
    },
    renew: (id: string, expirationDateTime: string) =>
      call(
        'renew subscription',
        () => client.api(`/subscriptions/${encodeURIComponent(id)}`).patch({ expirationDateTime }),
        SubscriptionSchema,
        'subscription',
      ),
  };
}
