/**
 * Reads for many users at once (issue 11, bulk paths): one filtered Get-CsOnlineUser and one
 * filtered Get-CsPhoneNumberAssignment for a group of users instead of two reads per person.
 * Pure: builds the -Filter values and splits the answers per user.
 *
 * The filters are data passed to -Filter, never script text; still, only Entra object ids (GUIDs)
 * go into one, so nothing from a message can widen it beyond the users it names.
 */
import { normaliseActual } from './voice-diff.js';
import type { ActualVoiceState } from './voice-state.js';

const OBJECT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether a user id may go into a bulk filter (an Entra object id); others are read one by one. */
export function bulkReadable(userId: string): boolean {
  return OBJECT_ID.test(userId);
}

function equalityFilter(attribute: string, userIds: readonly string[]): string {
  if (userIds.length === 0) throw new Error('a bulk filter needs at least one user');
  const bad = userIds.find((id) => !bulkReadable(id));
  if (bad !== undefined) throw new Error(`'${bad}' is not an object id and cannot go into a bulk filter`);
  return userIds.map((id) => `${attribute} -eq '${id.toLowerCase()}'`).join(' -or ');
}

/** Get-CsOnlineUser -Filter for these users (Where-Object syntax, evaluated by the service). */
export function onlineUserFilter(userIds: readonly string[]): string {
  return equalityFilter('Identity', userIds);
}

/** Get-CsPhoneNumberAssignment -Filter for the numbers assigned to these users. */
export function assignmentFilter(userIds: readonly string[]): string {
  return equalityFilter('AssignedPstnTargetId', userIds);
}

function rowsOf(value: unknown): Record<string, unknown>[] {
  const list = Array.isArray(value) ? (value as unknown[]) : value === null || value === undefined ? [] : [value];
  return list.filter((r): r is Record<string, unknown> => typeof r === 'object' && r !== null);
}

const idOf = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value.toLowerCase() : undefined);

/**
 * The actual voice state of each asked-for user from one filtered read of each kind. A user the
 * answer does not contain is absent from the map (the caller reads them one by one, which gives
 * the per-user error the single read would have given).
 */
export function splitBulkRead(userIds: readonly string[], onlineUsers: unknown, assignments: unknown): Map<string, ActualVoiceState> {
  const wanted = new Set(userIds.map((id) => id.toLowerCase()));
  const numbers = new Map<string, Record<string, unknown>[]>();
  for (const row of rowsOf(assignments)) {
    const owner = idOf(row.AssignedPstnTargetId);
    if (owner === undefined || !wanted.has(owner)) continue;
    const list = numbers.get(owner) ?? [];
    list.push(row);
    numbers.set(owner, list);
  }
  const out = new Map<string, ActualVoiceState>();
  for (const user of rowsOf(onlineUsers)) {
    const id = idOf(user.Identity);
    if (id === undefined || !wanted.has(id) || out.has(id)) continue;
    out.set(id, normaliseActual(user, numbers.get(id) ?? []));
  }
  return out;
}
