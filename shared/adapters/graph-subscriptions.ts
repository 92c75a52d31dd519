import { z } from 'zod';
import type { SubscriptionView } from '../domain/graph-subscription.js';
import type { NewSubscription, Subscriptions } from '../ports/subscriptions.js';
import { createGraphClient, parseGraphBody, type GraphClientOptions } from './graph-client.js';
import { toGraphDialtoneError } from './graph-errors.js';

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
  const retryAfter = options.defaultRetryAfterMs ?? 30_000;
  const call = async <T>(operation: string, run: () => Promise<unknown>, schema: z.ZodType<T>, what: string): Promise<T> => {
    let body: unknown;
    try {
      body = await run();
    } catch (error) {
      throw toGraphDialtoneError(error, operation, retryAfter);
    }
    return parseGraphBody(schema, body, what);
  };
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
      try {
        await client.api(`/subscriptions/${encodeURIComponent(id)}`).delete();
      } catch (error) {
        throw toGraphDialtoneError(error, 'delete subscription', retryAfter);
      }
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
