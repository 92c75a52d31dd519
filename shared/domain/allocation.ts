import type { NumberHistoryEntry, NumberRecord, PoolSummary } from '../ports/number-inventory.js';
import { compareNumbers, type NumberState, numberStates } from './numbers.js';

/**
 * Pure decisions of the number inventory: which number a user gets and what each lifecycle step
 * does to a number. Adapters read records, call these, and write the result with optimistic
 * concurrency; they decide nothing themselves.
 */

export interface TransitionContext {
  now: Date;
  correlationId: string | null;
}

export type AllocationDecision =
  /** The user already holds this number (reserved or assigned); refresh a lapsed reservation. */
  | { kind: 'reuse'; record: NumberRecord; refresh: boolean }
  /** The number is quarantined for this very user: a rehire gets it back, even before it ends. */
  | { kind: 'rehire'; record: NumberRecord }
  /** Take the first of these that nobody else takes first (best first: see `availabilityRank`). */
  | { kind: 'take'; candidates: NumberRecord[] }
  | { kind: 'none' };

export type TransitionResult =
  | { kind: 'change'; record: NumberRecord; history: NumberHistoryEntry[] }
  | { kind: 'unchanged'; why: string }
  | { kind: 'refused'; code: 'NumberConflict'; message: string };

export type NumberAction =
  | { type: 'reserve'; userId: string; reservedUntil: Date }
  | { type: 'confirm'; userId: string }
  | { type: 'rollback'; userId: string }
  | { type: 'release'; userId: string; quarantinedUntil: Date }
  | { type: 'block'; owner: string | null }
  /** Teams reports the number held by this user, one of Dialtone's own people: take the fact. */
  | { type: 'adopt'; userId: string }
  | { type: 'unblock' }
  | { type: 'free' };

const iso = (d: Date): string => d.toISOString();

/** Free, or a reservation that lapsed, or a quarantine that ended. */
export function isAvailable(record: NumberRecord, now: Date): boolean {
  if (record.state === 'free') return true;
  if (record.state === 'reserved') return record.reservedUntil === null || record.reservedUntil <= iso(now);
  if (record.state === 'quarantined') return record.quarantinedUntil === null || record.quarantinedUntil <= iso(now);
  return false;
}

export function isHeldBy(record: NumberRecord, userId: string): boolean {
  return (record.state === 'reserved' || record.state === 'assigned') && record.userId === userId;
}

const byNumber = (a: NumberRecord, b: NumberRecord): number => compareNumbers(a.number, b.number);

/**
 * Which available numbers go first: never-used free numbers (0), then quarantines that ended (1),
 * then reservations that lapsed (2), the oldest lapse first. A lapsed reservation may still be on
 * its way to Teams (its command waits for a worker), so it is the last thing reused, not the first.
 * Not available: undefined.
 */
export function availabilityRank(record: NumberRecord, now: Date): number | undefined {
  if (!isAvailable(record, now)) return undefined;
  return record.state === 'free' ? 0 : record.state === 'quarantined' ? 1 : 2;
}

const byAvailability =
  (now: Date) =>
  (a: NumberRecord, b: NumberRecord): number => {
    const ra = availabilityRank(a, now) ?? 9;
    const rb = availabilityRank(b, now) ?? 9;
    if (ra !== rb) return ra - rb;
    if (ra === 2 && a.reservedUntil !== b.reservedUntil) return (a.reservedUntil ?? '') < (b.reservedUntil ?? '') ? -1 : 1;
    return byNumber(a, b);
  };

/** Given the pool's records the adapter found (the user's and the available ones), what to do. */
export function decideAllocation(userId: string, records: NumberRecord[], now: Date): AllocationDecision {
  const sorted = [...records].sort(byNumber);
  // Teams holds one number per person: an assigned number wins over a reservation.
  const held = sorted.find((r) => r.state === 'assigned' && r.userId === userId) ?? sorted.find((r) => isHeldBy(r, userId));
  if (held) {
    return { kind: 'reuse', record: held, refresh: held.state === 'reserved' && held.reservedUntil !== null && held.reservedUntil <= iso(now) };
  }
  const quarantined = sorted.find((r) => r.state === 'quarantined' && r.userId === userId);
  if (quarantined) return { kind: 'rehire', record: quarantined };
  const seen = new Set<string>();
  const candidates = sorted
    .filter((r) => isAvailable(r, now) && !seen.has(r.number) && seen.add(r.number))
    .sort(byAvailability(now));
  return candidates.length > 0 ? { kind: 'take', candidates } : { kind: 'none' };
}

export function quarantineEnd(now: Date, days: number): Date {
  return new Date(now.getTime() + days * 86_400_000);
}

/** What one lifecycle step does to one number. Every step is idempotent: repeating it changes nothing. */
export function transition(record: NumberRecord, action: NumberAction, ctx: TransitionContext): TransitionResult {
  const at = iso(ctx.now);
  const entry = (action: NumberHistoryEntry['action'], userId: string | null, note: string | null): NumberHistoryEntry => ({
    at,
    number: record.number,
    action,
    userId,
    correlationId: ctx.correlationId,
    note,
  });
  const next = (patch: Partial<NumberRecord>): NumberRecord => ({
    ...record,
    userId: null,
    reservedUntil: null,
    quarantinedUntil: null,
    owner: null,
    ...patch,
    updatedAt: at,
  });

  switch (action.type) {
    case 'reserve': {
      const mine = record.userId === action.userId && (isHeldBy(record, action.userId) || record.state === 'quarantined');
      if (!mine && !isAvailable(record, ctx.now)) {
        return { kind: 'refused', code: 'NumberConflict', message: `${record.number} is ${describe(record)}, not available` };
      }
      if (mine && record.state === 'assigned') return { kind: 'unchanged', why: `${record.number} is already assigned to ${action.userId}` };
      const history: NumberHistoryEntry[] = [];
      if (!mine && record.state !== 'free') history.push(entry('reclaimed', record.userId, `was ${describe(record)}`));
      const until = iso(action.reservedUntil);
      const note = mine && record.state === 'quarantined' ? `back from quarantine (until ${record.quarantinedUntil ?? '?'})` : `until ${until}`;
      history.push(entry('reserved', action.userId, note));
      return { kind: 'change', record: next({ state: 'reserved', userId: action.userId, reservedUntil: until }), history };
    }
    case 'confirm': {
      if (record.state === 'assigned' && record.userId === action.userId) return { kind: 'unchanged', why: 'already assigned' };
      // Only the person's own reservation (running or lapsed but not reclaimed) becomes an assignment.
      // Quarantined for them means a later step released it; free or someone else's means they no
      // longer hold it: a result must never take it back.
      if (record.state !== 'reserved' || record.userId !== action.userId) {
        return {
          kind: 'refused',
          code: 'NumberConflict',
          message: `cannot confirm ${record.number} for ${action.userId}: it is ${describe(record)}`,
        };
      }
      return { kind: 'change', record: next({ state: 'assigned', userId: action.userId }), history: [entry('confirmed', action.userId, null)] };
    }
    case 'rollback': {
      if (record.state !== 'reserved' || record.userId !== action.userId) {
        return { kind: 'unchanged', why: `${record.number} is not reserved for ${action.userId}` };
      }
      return { kind: 'change', record: next({ state: 'free' }), history: [entry('rolled-back', action.userId, null)] };
    }
    case 'release': {
      if (!isHeldBy(record, action.userId)) return { kind: 'unchanged', why: `${record.number} is not held by ${action.userId}` };
      const until = iso(action.quarantinedUntil);
      return {
        kind: 'change',
        record: next({ state: 'quarantined', userId: action.userId, quarantinedUntil: until }),
        history: [entry('released', action.userId, `quarantined until ${until}`)],
      };
    }
    case 'block': {
      if (record.state === 'blocked' && record.owner === action.owner) return { kind: 'unchanged', why: 'already blocked' };
      const note = `held outside Dialtone by ${action.owner ?? 'an unknown owner'}${record.userId ? `; was ${describe(record)}` : ''}`;
      return { kind: 'change', record: next({ state: 'blocked', owner: action.owner }), history: [entry('blocked', record.userId, note)] };
    }
    case 'adopt': {
      if (record.state === 'assigned' && record.userId === action.userId) return { kind: 'unchanged', why: `${record.number} is already assigned to ${action.userId}` };
      return {
        kind: 'change',
        record: next({ state: 'assigned', userId: action.userId }),
        history: [entry('adopted', action.userId, `Teams holds it for ${action.userId}; was ${describe(record)}`)],
      };
    }
    case 'unblock': {
      if (record.state !== 'blocked') return { kind: 'unchanged', why: `${record.number} is not blocked` };
      return { kind: 'change', record: next({ state: 'free' }), history: [entry('unblocked', null, record.owner ? `was held by ${record.owner}` : null)] };
    }
    case 'free': {
      if (record.state === 'free' && record.userId === null) return { kind: 'unchanged', why: 'already free' };
      return { kind: 'change', record: next({ state: 'free' }), history: [entry('freed', record.userId, `was ${describe(record)}`)] };
    }
  }
}

export function describe(record: NumberRecord): string {
  switch (record.state) {
    case 'free':
      return 'free';
    case 'reserved':
      return `reserved for ${record.userId ?? '?'} until ${record.reservedUntil ?? '?'}`;
    case 'assigned':
      return `assigned to ${record.userId ?? '?'}`;
    case 'quarantined':
      return `quarantined for ${record.userId ?? '?'} until ${record.quarantinedUntil ?? '?'}`;
    case 'blocked':
      return `blocked (held by ${record.owner ?? 'an unknown owner'})`;
  }
}

export function emptyCounts(): Record<NumberState, number> {
  return Object.fromEntries(numberStates.map((s) => [s, 0])) as Record<NumberState, number>;
}

export function summarizePool(pool: string, quarantineDays: number, records: Iterable<Pick<NumberRecord, 'state'>>): PoolSummary {
  const counts = emptyCounts();
  let total = 0;
  for (const r of records) {
    counts[r.state] += 1;
    total += 1;
  }
  return { pool, quarantineDays, counts, total };
}

export function poolExhaustedMessage(summary: PoolSummary): string {
  const counts = numberStates.map((s) => `${summary.counts[s]} ${s}`).join(', ');
  return (
    `pool '${summary.pool}' has no free number (${summary.total} numbers: ${counts}). ` +
    'Add a range with `dialtone numbers import` and replay the dead letter.'
  );
}

export function poolNotFoundMessage(pool: string): string {
  return `pool '${pool}' does not exist in the number inventory; import it with \`dialtone numbers import\` or fix the voice policy's numberPool, then replay the dead letter.`;
}
