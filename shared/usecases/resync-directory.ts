import { queueNames, type DirectoryUser, type UserChange } from '../contracts/messages.js';
import { deterministicId } from '../domain/ids.js';
import type { BusSender } from '../ports/bus.js';
import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { ProvisioningRecords } from '../ports/provisioning-records.js';
import type { SyncState } from '../ports/sync-state.js';
import { sendInBatches } from './send-in-batches.js';

export const DELTA_LINK_KEY = 'graph-users-delta';

export interface ResyncDeps {
  delta: { listUsersDelta(deltaLink?: string): Promise<{ users: DirectoryUser[]; removed?: string[]; deltaLink: string }> };
  records: ProvisioningRecords;
  state: SyncState;
  sender: BusSender;
  clock: Clock;
  logger: Logger;
}

/**
 * The safety net under change notifications, which can be lost: every user that `/users/delta`
 * reports as changed since the last round, and that Dialtone provisions, is re-planned. The
 * first round (no delta link yet) re-plans everyone Dialtone knows; `plan` sends nothing where
 * the desired state is already applied.
 */
export async function resyncDirectory(deps: ResyncDeps): Promise<{ changed: number; replanned: number }> {
  const previous = await deps.state.get(DELTA_LINK_KEY);
  const { users, removed = [], deltaLink } = await deps.delta.listUsersDelta(previous);
  const now = deps.clock.now().toISOString();
  const messages = [];
  // A deleted account cannot be read any more: it is re-planned as deleted, which releases its numbers.
  const reported = [...users.map((u) => ({ id: u.id, changeType: 'updated' as const })), ...removed.map((id) => ({ id, changeType: 'deleted' as const }))];
  for (const { id, changeType } of reported) {
    if (!(await deps.records.get(id))) continue;
    // The round is named by its delta tokens, not the whole links: the host in them is not part of it.
    const eventId = deterministicId('resync', id, changeType, roundToken(previous) ?? 'initial', roundToken(deltaLink) ?? deltaLink);
    const change: UserChange = { userId: id, source: 'resync', changeType, eventId, correlationId: eventId, occurredAt: now };
    messages.push({ body: change, messageId: eventId, sessionId: id, correlationId: eventId, contentType: 'application/json', subject: 'resync' });
  }
  // One user-change per changed user: above ~550 users that is more than one 256 KB batch.
  await sendInBatches(deps.sender, messages);
  // Saved only after the sends: a crash before it repeats the round, and duplicate detection drops the repeats.
  await deps.state.set(DELTA_LINK_KEY, deltaLink);
  deps.logger.info('directory resync', { queue: queueNames.userChanges, changed: reported.length, replanned: messages.length, first: previous === undefined });
  return { changed: reported.length, replanned: messages.length };
}

/** The query of a delta link (its $deltatoken), or the text itself when it is not a URL. */
function roundToken(link: string | undefined): string | undefined {
  if (link === undefined) return undefined;
  try {
    return new URL(link).search;
  } catch {
    return link;
  }
}
