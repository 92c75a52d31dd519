import { decodeBody } from './message-body.js';
import { idText, type ApplicationProperties, type OutgoingMessage, type ReceivedMessage } from '../ports/bus.js';

export const REPLAY_COUNT = 'dialtone-replay-count';
/** A message replayed this many times and dead-lettered again needs a person, not another replay. */
export const DEFAULT_MAX_REPLAYS = 5;

/** Properties of the retry loop that a replay restarts (the operator fixed the cause). */
const RETRY_STATE = ['dialtone-attempt', 'dialtone-first-attempt-at'];

export interface DeadLetterFilter {
  reason?: string;
  /**
   * Matches the session id, the message's userId / userPrincipalName / employeeId / mail; several
   * values are the identifiers of one person (the CLI resolves one to all of them).
   */
  user?: string | string[];
  messageId?: string;
  /** Only messages enqueued before / after these moments. */
  olderThan?: Date;
  newerThan?: Date;
  /** Only messages of this tenant; one that names no tenant is `defaultTenantId`'s. */
  tenantId?: string;
  defaultTenantId?: string;
}

/** The tenant a message names (its body's tenantId, or the tenant part of a tenant-scoped session id), if any. */
export function messageTenantId(message: Pick<ReceivedMessage, 'body' | 'sessionId'>): string | undefined {
  const named = bodyField(decodeBody(message.body), 'tenantId');
  if (named) return named.toLowerCase();
  const scoped = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}):/i.exec(message.sessionId ?? '');
  return scoped?.[1]?.toLowerCase();
}

function bodyField(body: unknown, ...path: string[]): string | undefined {
  let value: unknown = body;
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return typeof value === 'string' ? value : undefined;
}

/** Who a dead-lettered message is about, in the first form that is present. */
export function subjectOf(message: ReceivedMessage): string | undefined {
  const body = decodeBody(message.body);
  return (
    bodyField(body, 'userPrincipalName') ??
    bodyField(body, 'person', 'userPrincipalName') ??
    bodyField(body, 'snapshot', 'user', 'userPrincipalName') ??
    bodyField(body, 'person', 'employeeId') ??
    bodyField(body, 'userId') ??
    message.sessionId
  );
}

export function matchesFilter(message: ReceivedMessage, filter: DeadLetterFilter): boolean {
  if (filter.reason && message.deadLetterReason !== filter.reason) return false;
  if (filter.tenantId && (messageTenantId(message) ?? filter.defaultTenantId) !== filter.tenantId.toLowerCase()) return false;
  if (filter.messageId && idText(message.messageId) !== filter.messageId) return false;
  const enqueued = message.enqueuedTimeUtc?.getTime();
  if (filter.olderThan && (enqueued === undefined || enqueued >= filter.olderThan.getTime())) return false;
  if (filter.newerThan && (enqueued === undefined || enqueued <= filter.newerThan.getTime())) return false;
  if (filter.user) {
    const body = decodeBody(message.body);
    const wanted = new Set((Array.isArray(filter.user) ? filter.user : [filter.user]).map((u) => u.toLowerCase()));
    const candidates = [
      message.sessionId,
      bodyField(body, 'userId'),
      bodyField(body, 'userPrincipalName'),
      bodyField(body, 'mail'),
      bodyField(body, 'person', 'userPrincipalName'),
      bodyField(body, 'person', 'employeeId'),
      bodyField(body, 'person', 'mail'),
      bodyField(body, 'snapshot', 'user', 'id'),
      bodyField(body, 'snapshot', 'user', 'userPrincipalName'),
      bodyField(body, 'snapshot', 'user', 'employeeId'),
      bodyField(body, 'snapshot', 'user', 'mail'),
    ];
    if (!candidates.some((c) => c !== undefined && wanted.has(c.toLowerCase()))) return false;
  }
  return true;
}

/** How often an operator replayed this message (0: never), from its application properties. */
export function replayCountOf(properties: Readonly<Record<string, unknown>> | undefined): number {
  const n = Number(properties?.[REPLAY_COUNT] ?? 0);
  return Number.isInteger(n) && n > 0 ? n : 0;
}

export type ReplayPlan = { ok: true; copy: OutgoingMessage; replayCount: number } | { ok: false; reason: string };

/**
 * The copy to send back to the queue: same body, application properties, session id and
 * correlation id, one more on the replay counter, the retry window restarted, and a
 * deterministic id so that a crash between send and complete cannot replay twice.
 */
export function planReplay(message: ReceivedMessage, maxReplays = DEFAULT_MAX_REPLAYS): ReplayPlan {
  const props: ApplicationProperties = { ...(message.applicationProperties ?? {}) };
  const previous = Number(props[REPLAY_COUNT] ?? 0);
  const count = Number.isFinite(previous) ? previous + 1 : 1;
  if (count > maxReplays) {
    return {
      ok: false,
      reason: `already replayed ${previous} times (limit ${maxReplays}); fix the cause (${message.deadLetterReason ?? 'unknown reason'}) or purge it`,
    };
  }
  for (const key of RETRY_STATE) delete props[key];
  props[REPLAY_COUNT] = count;
  const originalId = String(props['dialtone-original-id'] ?? idText(message.messageId) ?? 'message').replace(/#replay\d+$/, '');
  props['dialtone-original-id'] = originalId;
  const base = originalId.length > 110 ? originalId.slice(0, 110) : originalId;
  return {
    ok: true,
    replayCount: count,
    copy: {
      body: message.body,
      messageId: `${base}#replay${count}`,
      ...(message.sessionId !== undefined ? { sessionId: message.sessionId } : {}),
      ...(message.correlationId !== undefined ? { correlationId: idText(message.correlationId) } : {}),
      ...(message.subject !== undefined ? { subject: message.subject } : {}),
      ...(message.contentType !== undefined ? { contentType: message.contentType } : {}),
      applicationProperties: props,
    },
  };
}
