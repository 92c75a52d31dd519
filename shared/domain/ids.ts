import { createHash } from 'node:crypto';

/**
 * Deterministic message ids: the same input always gives the same id, so Service Bus
 * duplicate detection drops true duplicates and a replayed copy is recognised.
 */
export function deterministicId(prefix: string, ...parts: string[]): string {
  const digest = createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32);
  return `${prefix}-${digest}`;
}

/**
 * The session id of everything about one person on the session queues: the Entra object id, and
 * for a message that names its tenant `<tenant id>:<object id>` (73 characters), so sessions are
 * tenant-scoped. A message without a tenant keeps the bare object id (single-tenant deployments
 * and messages from before the registry keep their sessions).
 */
export function personSessionId(userId: string, tenantId?: string): string {
  return tenantId === undefined ? userId : `${tenantId}:${userId}`;
}

/** The id of the n-th rescheduled copy of a message (≤ 128 characters). */
export function retryCopyId(originalId: string, attempt: number): string {
  const base = originalId.length > 100 ? deterministicId('m', originalId) : originalId;
  return `${base}#r${attempt}`;
}

/**
 * The id of the n-th copy of a voice command the worker set aside while its tenant could not be
 * served (≤ 128 characters). Its own suffix: a command graphVoice rescheduled (`#r<n>`) and then
 * handed to the worker never meets one of these ids.
 */
export function deferredCopyId(originalId: string, deferral: number): string {
  const bare = originalId.replace(/#d\d+$/, '');
  const base = bare.length > 100 ? deterministicId('m', bare) : bare;
  return `${base}#d${deferral}`;
}

/**
 * The message id of the user change correlate makes of an HR event. Without a tenant it is
 * `uc-<eventId>` as it always was. For an event of a named tenant it is `uc-<tenant id>:<eventId>`:
 * two customers' HR systems may well number their events alike, and one shared user-changes
 * queue's duplicate detection would otherwise drop the second tenant's change. An id that would
 * exceed Service Bus's 128 characters keeps the tenant and a digest of the event id.
 */
export function userChangeMessageId(eventId: string, tenantId?: string): string {
  if (tenantId === undefined) return `uc-${eventId}`.slice(0, 128);
  const id = `uc-${tenantId}:${eventId}`;
  return id.length <= 128 ? id : `uc-${tenantId}:${deterministicId('e', eventId)}`;
}
