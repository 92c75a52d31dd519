import { z } from 'zod';
import { queueNames, type DirectoryUser, type UserChange } from '../contracts/messages.js';
import { isTransientCallError, type CallRetryPolicy } from '../domain/call-retry.js';
import { deterministicId } from '../domain/ids.js';
import { FULL_ROUND_AFTER_MS, isFullRoundDue } from '../domain/resync-round.js';
import type { BusSender, OutgoingMessage } from '../ports/bus.js';
import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { ProvisioningRecords } from '../ports/provisioning-records.js';
import type { Sleeper } from '../ports/sleeper.js';
import type { SyncState } from '../ports/sync-state.js';
import { callRetrier, type RetryCall } from './retry-call.js';
import { sendInBatches } from './send-in-batches.js';

export const DELTA_LINK_KEY = 'graph-users-delta';
/** Where a round that stopped part-way left off (see RoundProgress); empty when no round is under way. */
export const DELTA_PROGRESS_KEY = 'graph-users-delta-progress';
/** When the last full round (every user listed, not only the changes) started. */
export const FULL_ROUND_KEY = 'graph-users-full-round-at';

/** How many full-round "is this user gone?" reads go between two checkpoints. */
const GONE_CHECKPOINT_EVERY = 25;

export interface ResyncDeps {
  delta: {
    /** One /users/delta page: the first of a full round without a link, else the page the next or delta link names. */
    listUsersDeltaPage(link?: string): Promise<{ users: DirectoryUser[]; removed?: string[]; nextLink?: string; deltaLink?: string }>;
    /** Confirms, in a full round, that a provisioned user missing from the listing is gone. */
    getUser?(id: string): Promise<DirectoryUser | undefined>;
  };
  records: ProvisioningRecords;
  state: SyncState;
  sender: BusSender;
  clock: Clock;
  logger: Logger;
  /** Waits between a failed call's attempts: real time in production, the sandbox clock in the sandbox. */
  sleeper: Sleeper;
  retryPolicy?: CallRetryPolicy;
  /** A round lists every user when the last full round started at least this long ago (default FULL_ROUND_AFTER_MS). */
  fullRoundAfterMs?: number;
}

/**
 * A round under way, saved after each page and each batch of full-round reads, so the next
 * attempt (the timer's retry, or the next occurrence) goes on from there instead of starting
 * over: `base` is the delta link the round started from (null for a full round), `round` names
 * the round in its message ids (`base` null: a full round, which lists every user), `next` is the
 * page to read next, and once the listing is done
 * `deltaLink` is its result and `goneAfter` the last user the full round's gone check read.
 */
const RoundProgressSchema = z.object({
  v: z.literal(1),
  base: z.string().min(1).nullable(),
  round: z.string().min(1).max(64),
  next: z.string().min(1).optional(),
  deltaLink: z.string().min(1).optional(),
  goneAfter: z.string().min(1).optional(),
});
type RoundProgress = z.infer<typeof RoundProgressSchema>;

export interface ResyncResult {
  changed: number;
  replanned: number;
  /** The round went on from a checkpoint an earlier attempt saved. */
  resumed: boolean;
  /** The round listed every user (the first round, and one a day), not only the changes. */
  full: boolean;
  /** Calls retried after a transient error. */
  retries: number;
}

/**
 * The safety net under change notifications, which can be lost: every user that `/users/delta`
 * reports as changed since the last round, and that Dialtone provisions, is re-planned. The
 * first round (no delta link yet) re-plans everyone Dialtone knows; `plan` sends nothing where
 * the desired state is already applied.
 *
 * Users delta does not report licence changes, so a licence removal whose notification was lost
 * would never be seen: once a day (FULL_ROUND_AFTER_MS) a round lists every user again, as the
 * first round does, and re-plans everyone Dialtone provisions.
 *
 * A round makes hundreds of calls (a page of the listing, a record read per listed user, the
 * sends, and in a full round a Graph read per provisioned user missing from the listing), so
 * it must get through transient faults: each call is retried with backoff (Retry-After honoured)
 * within a budget, and the round checkpoints its progress in the sync state after every page, so
 * an attempt that still stops (a fault that outlasts the retries, the Function timeout, a crash)
 * is resumed by the next attempt. The delta link is saved only when the round is complete.
 */
export async function resyncDirectory(deps: ResyncDeps): Promise<ResyncResult> {
  const retry = callRetrier({ sleeper: deps.sleeper, logger: deps.logger, ...(deps.retryPolicy ? { policy: deps.retryPolicy } : {}) });
  const previous = await retry('read delta link', () => deps.state.get(DELTA_LINK_KEY));
  const saved = readProgress(await retry('read resync progress', () => deps.state.get(DELTA_PROGRESS_KEY)), previous, deps.logger);
  const now = deps.clock.now();
  const round = saved?.round ?? now.toISOString();
  const full =
    saved !== undefined
      ? saved.base === null
      : isFullRoundDue({
          deltaLink: previous,
          lastFullRoundAt: await retry('read last full round', () => deps.state.get(FULL_ROUND_KEY)),
          now,
          afterMs: deps.fullRoundAfterMs ?? FULL_ROUND_AFTER_MS,
        });
  // A full round starts from no link: Graph lists every live user and gives a fresh delta link.
  const start = full ? undefined : previous;
  const progress: RoundProgress = saved ?? { v: 1, base: start ?? null, round };
  const save = (next: Partial<RoundProgress>) => retry('save resync progress', () => deps.state.set(DELTA_PROGRESS_KEY, JSON.stringify({ ...progress, ...next })));
  const tally = { changed: 0, replanned: 0 };
  const message = messageFor(deps, start, round);
  // Users this attempt saw listed; a resumed full round reads Graph for the ones listed before it.
  const listed = new Set<string>();

  let deltaLink = progress.deltaLink;
  if (deltaLink === undefined) {
    let link = progress.next ?? start;
    let resuming = progress.next !== undefined;
    for (;;) {
      let page: Awaited<ReturnType<ResyncDeps['delta']['listUsersDeltaPage']>>;
      try {
        page = await retry('read users delta page', () => deps.delta.listUsersDeltaPage(link));
      } catch (error: unknown) {
        // A saved next link Graph no longer takes (expired, or from an older deployment): start over.
        if (!resuming || isTransientCallError(error)) throw error;
        deps.logger.warn('resync checkpoint could not be followed; the round starts over', { reason: error instanceof Error ? error.message : String(error) });
        resuming = false;
        link = start;
        continue;
      }
      resuming = false;
      // A deleted account cannot be read any more: it is re-planned as deleted, which releases its numbers.
      const reported = [...page.users.map((u) => ({ id: u.id, changeType: 'updated' as const })), ...(page.removed ?? []).map((id) => ({ id, changeType: 'deleted' as const }))];
      const messages: OutgoingMessage[] = [];
      for (const { id, changeType } of reported) {
        listed.add(id);
        if (await retry('read provisioning record', () => deps.records.get(id))) messages.push(message(id, changeType));
      }
      // One user-change per changed user: above ~550 users that is more than one 256 KB batch.
      await retry('send user-changes', () => sendInBatches(deps.sender, messages));
      tally.changed += reported.length;
      tally.replanned += messages.length;
      if (page.nextLink !== undefined) {
        link = page.nextLink;
        await save({ next: link });
        continue;
      }
      if (page.deltaLink === undefined) throw new Error('users delta page has neither a next link nor a delta link');
      deltaLink = page.deltaLink;
      break;
    }
  }
  if (full) {
    const gone = await goneBeforeFullRound(deps, retry, listed, progress.goneAfter, message, (goneAfter) => save({ deltaLink, goneAfter }));
    tally.changed += gone;
    tally.replanned += gone;
  }
  // Saved only after the sends: a crash before it resumes the round, and duplicate detection drops repeated sends.
  await retry('save delta link', () => deps.state.set(DELTA_LINK_KEY, deltaLink));
  if (full) await retry('save full round time', () => deps.state.set(FULL_ROUND_KEY, round));
  await retry('clear resync progress', () => deps.state.set(DELTA_PROGRESS_KEY, ''));
  const result = { ...tally, resumed: saved !== undefined, full, retries: retry.retries() };
  deps.logger.info('directory resync', { queue: queueNames.userChanges, ...result, first: previous === undefined });
  return result;
}

/** The user-change of one re-planned user; the id is the same in every attempt of the round. */
function messageFor(deps: ResyncDeps, start: string | undefined, round: string) {
  const now = deps.clock.now().toISOString();
  return (id: string, changeType: 'updated' | 'deleted'): OutgoingMessage => {
    // The round is named by the delta token it started from and the time it started, not the
    // whole link: the host in it is not part of it.
    const eventId = deterministicId('resync', id, changeType, roundToken(start) ?? 'full', round);
    const change: UserChange = { userId: id, source: 'resync', changeType, eventId, correlationId: eventId, occurredAt: now };
    return { body: change, messageId: eventId, sessionId: id, correlationId: eventId, contentType: 'application/json', subject: 'resync' };
  };
}

/**
 * The saved progress of this round, or undefined (none, unreadable, or of a delta round that
 * started from another link than the saved one). A full round's progress is always resumed.
 */
function readProgress(raw: string | undefined, previous: string | undefined, logger: Logger): RoundProgress | undefined {
  if (raw === undefined || raw === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    value = undefined;
  }
  const parsed = RoundProgressSchema.safeParse(value);
  if (!parsed.success) {
    logger.warn('resync checkpoint unreadable; the round starts over', { key: DELTA_PROGRESS_KEY });
    return undefined;
  }
  return parsed.data.base === null || parsed.data.base === previous ? parsed.data : undefined;
}

/**
 * A full round lists live users only (no @removed): a provisioned user deleted before it, whose
 * notification was lost, would keep their number for ever. Each one missing from the listing that
 * Graph confirms it cannot read is re-planned as deleted, in user id order with a checkpoint
 * every few reads, so a resumed round does not read them all again.
 */
async function goneBeforeFullRound(
  deps: ResyncDeps,
  retry: RetryCall,
  listed: Set<string>,
  after: string | undefined,
  message: (id: string, changeType: 'deleted') => OutgoingMessage,
  checkpoint: (goneAfter: string) => Promise<void>,
): Promise<number> {
  const getUser = deps.delta.getUser?.bind(deps.delta);
  if (!getUser) return 0;
  const records = await retry('list provisioning records', () => deps.records.list());
  const unlisted = records
    .map((r) => r.userId)
    .filter((id) => !listed.has(id) && (after === undefined || id > after))
    .sort();
  let gone = 0;
  let pending: OutgoingMessage[] = [];
  for (const [index, id] of unlisted.entries()) {
    if ((await retry('read user', () => getUser(id))) === undefined) pending.push(message(id, 'deleted'));
    const last = index === unlisted.length - 1;
    if (last || (index + 1) % GONE_CHECKPOINT_EVERY === 0) {
      const batch = pending;
      await retry('send user-changes', () => sendInBatches(deps.sender, batch));
      gone += batch.length;
      pending = [];
      if (!last) await checkpoint(id);
    }
  }
  return gone;
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
