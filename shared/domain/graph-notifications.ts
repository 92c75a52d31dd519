import { timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/** One Microsoft Graph change notification for a user (resource `Users/{id}`). */
export const ChangeNotificationSchema = z.object({
  subscriptionId: z.string().min(1),
  clientState: z.string().max(128).nullable().optional(),
  changeType: z.enum(['created', 'updated', 'deleted']),
  resource: z.string().min(1),
  resourceData: z.object({ id: z.string().min(1).optional() }).loose().nullable().optional(),
  tenantId: z.string().optional(),
  subscriptionExpirationDateTime: z.string().optional(),
  lifecycleEvent: z.string().optional(),
});
export type ChangeNotification = z.infer<typeof ChangeNotificationSchema>;

export const NotificationCollectionSchema = z.object({ value: z.array(z.unknown()).min(1) });

/** `Users/{id}` or `users/{id}` → id; resourceData.id wins when present. */
export function userIdOf(notification: ChangeNotification): string | undefined {
  const fromData = notification.resourceData?.id;
  if (fromData) return fromData;
  const match = /^\/?users\/([^/?]+)$/i.exec(notification.resource);
  return match?.[1];
}

/** Compared in constant time: the clientState is the only proof a POST came from our subscription. */
export function clientStateMatches(received: string | null | undefined, expected: string): boolean {
  if (typeof received !== 'string') return false;
  const a = Buffer.from(received, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
