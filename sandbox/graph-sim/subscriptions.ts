import { randomUUID } from 'node:crypto';
import { GraphSimError } from './responses.js';

const MAX_MS = 41_760 * 60_000;

interface Subscription {
  id: string;
  resource: string;
  changeType: string;
  notificationUrl: string;
  lifecycleNotificationUrl: string | null;
  expirationDateTime: string;
  clientState: string | null;
}

/**
 * /subscriptions as Graph applies it to users: `updated` and `deleted` only, at most 41,760
 * minutes ahead, an https notification URL, clientState ≤ 128 characters and never returned.
 * Unlike Graph it does not call the notification URL to validate it.
 */
export class SimSubscriptions {
  private readonly items = new Map<string, Subscription>();

  handle(method: string, id: string | undefined, body: unknown, now: number): { status: number; body: unknown } {
    if (method === 'GET' && id === undefined) {
      return { status: 200, body: { value: [...this.items.values()].filter((s) => Date.parse(s.expirationDateTime) > now).map(view) } };
    }
    if (method === 'POST' && id === undefined) return { status: 201, body: view(this.create(body, now)) };
    const existing = id === undefined ? undefined : this.items.get(id);
    if (!existing || Date.parse(existing.expirationDateTime) <= now) {
      throw new GraphSimError(404, 'ResourceNotFound', `The object was not found.`);
    }
    if (method === 'GET') return { status: 200, body: view(existing) };
    if (method === 'PATCH') {
      existing.expirationDateTime = expiration((body as { expirationDateTime?: unknown })?.expirationDateTime, now);
      return { status: 200, body: view(existing) };
    }
    if (method === 'DELETE') {
      this.items.delete(existing.id);
      return { status: 204, body: null };
    }
    throw new GraphSimError(405, 'MethodNotAllowed', `${method} is not supported on subscriptions.`);
  }

  private create(body: unknown, now: number): Subscription {
    const b = (body ?? {}) as Record<string, unknown>;
    const resource = String(b['resource'] ?? '');
    if (!/^\/?users$/i.test(resource)) throw new GraphSimError(400, 'InvalidRequest', `The simulator supports resource '/users' only, not '${resource}'.`);
    const changeType = String(b['changeType'] ?? '');
    const types = changeType.split(',').map((t) => t.trim());
    if (types.length === 0 || types.some((t) => t !== 'updated' && t !== 'deleted')) {
      throw new GraphSimError(400, 'InvalidRequest', `changeType '${changeType}' is not supported for users: use updated and/or deleted.`);
    }
    const notificationUrl = String(b['notificationUrl'] ?? '');
    if (!notificationUrl.startsWith('https://')) throw new GraphSimError(400, 'InvalidRequest', 'The notificationUrl must use https.');
    const clientState = b['clientState'] === undefined || b['clientState'] === null ? null : String(b['clientState']);
    if (clientState !== null && clientState.length > 128) throw new GraphSimError(400, 'InvalidRequest', 'clientState is longer than 128 characters.');
    const subscription: Subscription = {
      id: randomUUID(),
      resource,
      changeType,
      notificationUrl,
      lifecycleNotificationUrl: b['lifecycleNotificationUrl'] ? String(b['lifecycleNotificationUrl']) : null,
      expirationDateTime: expiration(b['expirationDateTime'], now),
      clientState,
    };
    this.items.set(subscription.id, subscription);
    return subscription;
  }
}

function expiration(value: unknown, now: number): string {
  const at = Date.parse(String(value));
  if (!Number.isFinite(at)) throw new GraphSimError(400, 'InvalidRequest', 'expirationDateTime is missing or not a date.');
  if (at <= now) throw new GraphSimError(400, 'InvalidRequest', 'Subscription expiration must be in the future.');
  if (at - now > MAX_MS) throw new GraphSimError(400, 'InvalidRequest', 'Subscription expiration can only be 41760 minutes in the future.');
  return new Date(at).toISOString();
}

function view(s: Subscription): Record<string, unknown> {
  const { clientState: _hidden, ...rest } = s;
  return { ...rest, clientState: null };
}
