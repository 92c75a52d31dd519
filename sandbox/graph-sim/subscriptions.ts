import { createHash } from 'node:crypto';
import { GraphSimError } from './responses.js';

const MAX_MS = 41_760 * 60_000;

/** A subscription as the sandbox state keeps it between commands (clientState included). */
export interface Subscription {
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
 * With a validator (the sandbox's notification delivery) a subscription is created only after
 * its notification and lifecycle URLs passed Graph's validation handshake, as in Graph.
 */
export class SimSubscriptions {
  private readonly items = new Map<string, Subscription>();
  /** Ids are GUIDs, as in Graph, but the n-th subscription always gets the same one: runs repeat. */
  private created = 0;

  constructor(
    private readonly validate?: (url: string) => Promise<boolean>,
    saved?: { items: Subscription[]; created: number },
  ) {
    for (const s of saved?.items ?? []) this.items.set(s.id, { ...s });
    this.created = saved?.created ?? 0;
  }

  /** What the sandbox state keeps: every subscription (expired ones too) and the id counter. */
  exportState(): { items: Subscription[]; created: number } {
    return { items: [...this.items.values()].map((s) => ({ ...s })), created: this.created };
  }

  /** Subscriptions not yet expired, with their clientState, for delivering notifications. */
  live(now: number): Subscription[] {
    return [...this.items.values()].filter((s) => Date.parse(s.expirationDateTime) > now);
  }

  async handle(method: string, id: string | undefined, body: unknown, now: number): Promise<{ status: number; body: unknown }> {
    if (method === 'GET' && id === undefined) {
      return { status: 200, body: { value: [...this.items.values()].filter((s) => Date.parse(s.expirationDateTime) > now).map(view) } };
    }
    if (method === 'POST' && id === undefined) {
      const candidate = this.check(body, now);
      if (this.validate) {
        for (const url of [candidate.notificationUrl, candidate.lifecycleNotificationUrl]) {
          if (url !== null && !(await this.validate(url))) {
            throw new GraphSimError(
              400,
              'ValidationError',
              'Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.',
            );
          }
        }
      }
      this.items.set(candidate.id, candidate);
      return { status: 201, body: view(candidate) };
    }
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

  private check(body: unknown, now: number): Subscription {
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
      id: sequentialGuid(`subscription-${++this.created}`),
      resource,
      changeType,
      notificationUrl,
      lifecycleNotificationUrl: b['lifecycleNotificationUrl'] ? String(b['lifecycleNotificationUrl']) : null,
      expirationDateTime: expiration(b['expirationDateTime'], now),
      clientState,
    };
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

function sequentialGuid(label: string): string {
  const h = createHash('sha1').update(label).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
