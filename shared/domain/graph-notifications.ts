import { timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/** One Microsoft Graph change notification for a user (resource `Users/{id}`). */
export const ChangeNotificationSchema = z.object({
  /** Graph's id of this notification (optional in Graph's schema); the change's identity when present. */
  id: z.string().min(1).max(256).optional(),
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

/** An Entra object id: a GUID (Graph writes it in lower case). */
const OBJECT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type UserIdOf = { ok: true; userId: string } | { ok: false; field: 'resourceData.id' | 'resource'; reason: string };

/**
 * `Users/{id}` or `users/{id}` → id; resourceData.id wins when present. The id becomes the
 * session id of the user's messages (one session per user, at most 128 characters), so only a
 * GUID-shaped Entra object id is accepted, in lower case: a UPN or a 10 KB string is refused
 * here, for this notification alone.
 */
export function userIdOf(notification: ChangeNotification): UserIdOf {
  const fromData = notification.resourceData?.id;
  if (fromData !== undefined) {
    return OBJECT_ID.test(fromData)
      ? { ok: true, userId: fromData.toLowerCase() }
      : { ok: false, field: 'resourceData.id', reason: `not an Entra object id (a GUID); ${fromData.length} characters` };
  }
  const match = /^\/?users\/([^/?]+)$/i.exec(notification.resource);
  if (!match?.[1]) return { ok: false, field: 'resource', reason: 'not a user' };
  const id = match[1];
  return OBJECT_ID.test(id)
    ? { ok: true, userId: id.toLowerCase() }
    : { ok: false, field: 'resource', reason: `Users/{id} does not name an Entra object id (a GUID); ${id.length} characters` };
}

/** Compared in constant time: the clientState is the only proof a POST came from our subscription. */
export function clientStateMatches(received: string | null | undefined, expected: string): boolean {
  if (typeof received !== 'string') return false;
  const a = Buffer.from(received, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
