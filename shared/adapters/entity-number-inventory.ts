import { z } from 'zod';
import {
  decideAllocation,
  type NumberAction,
  poolExhaustedMessage,
  poolNotFoundMessage,
  quarantineEnd,
  summarizePool,
  transition,
} from '../domain/allocation.js';
import { DialtoneError } from '../domain/errors.js';
import { compareNumbers, expandPools, NumberStateSchema, numberSortKey, PoolDefinitionError } from '../domain/numbers.js';
import type {
  Actor,
  AllocationOutcome,
  ImportSummary,
  NumberHistoryEntry,
  NumberInventory,
  NumberRecord,
  PoolSummary,
} from '../ports/number-inventory.js';
import {
  type EntityTable,
  escapeKey,
  isEntityConflict,
  MAX_TRANSACTION_OPS,
  type Props,
  type Row,
  type TableOp,
  type Where,
} from './table-client.js';

/**
 * The number inventory over two tables (Azure Table Storage or its in-memory twin).
 *
 * `numbers` table
 *   PK `~pools`   RK <pool id>                 quarantineDays, updatedAt
 *   PK `~index`   RK <number>                  pool            (number → pool, for calls that name only a number)
 *   PK <pool id>  RK `n:`<numberSortKey>       number, state, userId, reservedUntil, quarantinedUntil, owner, updatedAt
 *   PK <pool id>  RK `u:`<user id>             number          (the user's claim in this pool)
 * `numberhistory` table
 *   PK <pool id>  RK <number>`|`<at>`|`<seq>   number, at, action, userId, correlationId, note
 *
 * A reservation writes the number row (If-Match its ETag) and the user's claim row (create, or
 * If-Match its ETag) in one same-partition transaction: two allocations that race for one number,
 * or for one user, cannot both commit. Keys are escaped (/ \ # ? % and control characters).
 */

export interface InventoryTables {
  numbers: EntityTable;
  history: EntityTable;
}

const POOLS = '~pools';
const INDEX = '~index';
const NUMBER_ROWS = { rowKeyFrom: 'n:', rowKeyBefore: 'n;' } as const;
const CANDIDATE_PAGE = 64;
/** The first window losers of a race spread over; it doubles with every further loss. */
const RACE_SPREAD = 4;
const MAX_ATTEMPTS = 200;

const numberRowKey = (number: string): string => `n:${numberSortKey(number)}`;
const claimRowKey = (userId: string): string => `u:${escapeKey(userId)}`;

const NumberRowSchema = z.object({
  number: z.string(),
  state: NumberStateSchema,
  userId: z.string().optional(),
  reservedUntil: z.string().optional(),
  quarantinedUntil: z.string().optional(),
  owner: z.string().optional(),
  updatedAt: z.string(),
});

interface Loaded {
  record: NumberRecord;
  etag: string;
}

function load(row: Row): Loaded {
  const parsed = NumberRowSchema.safeParse(row.props);
  if (!parsed.success) {
    throw new DialtoneError('Unexpected', `numbers table row ${row.partitionKey}/${row.rowKey} is malformed: ${parsed.error.issues[0]?.path.join('.')} ${parsed.error.issues[0]?.message}`);
  }
  const p = parsed.data;
  return {
    etag: row.etag,
    record: {
      number: p.number,
      pool: row.partitionKey,
      state: p.state,
      userId: p.userId ?? null,
      reservedUntil: p.reservedUntil ?? null,
      quarantinedUntil: p.quarantinedUntil ?? null,
      owner: p.owner ?? null,
      updatedAt: p.updatedAt,
    },
  };
}

function propsOf(record: NumberRecord): Props {
  return {
    number: record.number,
    state: record.state,
    userId: record.userId,
    reservedUntil: record.reservedUntil,
    quarantinedUntil: record.quarantinedUntil,
    owner: record.owner,
    updatedAt: record.updatedAt,
  };
}

function availableWhere(now: Date): Where {
  const at = now.toISOString();
  return {
    or: [
      { eq: ['state', 'free'] },
      { and: [{ eq: ['state', 'reserved'] }, { le: ['reservedUntil', at] }] },
      { and: [{ eq: ['state', 'quarantined'] }, { le: ['quarantinedUntil', at] }] },
    ],
  };
}

function claimOp(claim: Row | undefined, number: string, userId: string): TableOp {
  const props = { number, userId };
  return claim ? { kind: 'replace', rowKey: claim.rowKey, props, etag: claim.etag } : { kind: 'create', rowKey: claimRowKey(userId), props };
}

function chunks<T>(items: T[], size = MAX_TRANSACTION_OPS): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Runs `fn` over `items` with at most `limit` in flight: imports write thousands of batches. */
async function parallel<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

const IMPORT_CONCURRENCY = 8;

let historySeq = 0;

export function createEntityNumberInventory(tables: InventoryTables): NumberInventory {
  const { numbers, history } = tables;
  const poolOfNumber = new Map<string, string>();
  let ready: Promise<void> | undefined;
  const ensure = (): Promise<void> => {
    ready ??= Promise.all([numbers.ensure(), history.ensure()]).then(
      () => undefined,
      (error: unknown) => {
        ready = undefined;
        throw error;
      },
    );
    return ready;
  };

  async function locate(number: string): Promise<string | undefined> {
    const cached = poolOfNumber.get(number);
    if (cached) return cached;
    await ensure();
    const row = await numbers.get(INDEX, escapeKey(number));
    const pool = typeof row?.props['pool'] === 'string' ? row.props['pool'] : undefined;
    if (pool) poolOfNumber.set(number, pool);
    return pool;
  }

  async function writeHistory(pool: string, entries: NumberHistoryEntry[]): Promise<void> {
    await parallel(chunks(entries), IMPORT_CONCURRENCY, async (chunk) => {
      await history.transact(
        pool,
        chunk.map((e) => ({
          kind: 'create' as const,
          rowKey: `${escapeKey(e.number)}|${e.at}|${String(++historySeq).padStart(9, '0')}${Math.random().toString(36).slice(2, 6)}`,
          props: { number: e.number, at: e.at, action: e.action, userId: e.userId, correlationId: e.correlationId, note: e.note },
        })),
      );
    });
  }

  async function summarize(pool: string, quarantineDays: number): Promise<PoolSummary> {
    const rows = await numbers.query({ partitionKey: pool, ...NUMBER_ROWS });
    return summarizePool(pool, quarantineDays, rows.map((r) => load(r).record));
  }

  async function poolMeta(pool: string): Promise<{ quarantineDays: number } | undefined> {
    const row = await numbers.get(POOLS, pool);
    if (!row) return undefined;
    const days = row.props['quarantineDays'];
    return { quarantineDays: typeof days === 'number' ? days : 90 };
  }

  /** Read, decide, write If-Match; on a lost race read again. Unknown numbers are `undefined`. */
  async function mutate(number: string, actor: Actor, decide: (record: NumberRecord, pool: string) => Promise<NumberAction>): Promise<'changed' | 'unchanged' | 'unknown'> {
    const pool = await locate(number);
    if (!pool) return 'unknown';
    const ctx = { now: actor.now, correlationId: actor.correlationId ?? null };
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const row = await numbers.get(pool, numberRowKey(number));
      if (!row) return 'unknown';
      const { record, etag } = load(row);
      const result = transition(record, await decide(record, pool), ctx);
      if (result.kind === 'unchanged') return 'unchanged';
      if (result.kind === 'refused') throw new DialtoneError(result.code, result.message, { details: { number, pool } });
      try {
        await numbers.transact(pool, [{ kind: 'replace', rowKey: row.rowKey, props: propsOf(result.record), etag }]);
      } catch (error) {
        if (isEntityConflict(error)) continue;
        throw error;
      }
      await writeHistory(pool, result.history);
      return 'changed';
    }
    throw contention(`update ${number}`);
  }

  const mustExist = (number: string) => (outcome: 'changed' | 'unchanged' | 'unknown') => {
    if (outcome === 'unknown') throw new DialtoneError('NumberInvalid', `${number} is not in the number inventory`, { details: { number } });
  };

  async function importPools(pools: Parameters<NumberInventory['importPools']>[0], actor: Actor): Promise<ImportSummary> {
    let expanded: Map<string, string[]>;
    try {
      expanded = expandPools(pools);
    } catch (error) {
      if (error instanceof PoolDefinitionError) throw new DialtoneError('ConfigInvalid', error.message, { details: { path: error.path } });
      throw error;
    }
    await ensure();
    const at = actor.now.toISOString();
    const index = new Map((await numbers.query({ partitionKey: INDEX })).map((r) => [String(r.props['number'] ?? ''), String(r.props['pool'] ?? '')]));
    for (const [pool, list] of expanded) {
      const elsewhere = list.find((n) => index.has(n) && index.get(n) !== pool);
      if (elsewhere) {
        throw new DialtoneError('ConfigInvalid', `${elsewhere} is already in pool '${index.get(elsewhere)}'; a number cannot move to pool '${pool}' by import`, {
          details: { number: elsewhere, pool },
        });
      }
    }
    const summary: ImportSummary = { poolsAdded: 0, poolsUpdated: 0, numbersAdded: 0, numbersUnchanged: 0 };
    for (const definition of pools) {
      const pool = definition.id;
      const list = expanded.get(pool) ?? [];
      const existing = new Set((await numbers.query({ partitionKey: pool, ...NUMBER_ROWS })).map((r) => String(r.props['number'])));
      const missing = list.filter((n) => !existing.has(n));
      summary.numbersUnchanged += list.length - missing.length;

      await parallel(chunks(missing.filter((n) => !index.has(n))), IMPORT_CONCURRENCY, async (chunk) => {
        await numbers.transact(INDEX, chunk.map((n) => ({ kind: 'upsert' as const, rowKey: escapeKey(n), props: { number: n, pool } })));
      });
      const added: string[] = [];
      await parallel(chunks(missing), IMPORT_CONCURRENCY, async (chunk) => {
        const rows = chunk.map((n) => ({ number: n, props: propsOf({ number: n, pool, state: 'free', userId: null, reservedUntil: null, quarantinedUntil: null, owner: null, updatedAt: at }) }));
        try {
          await numbers.transact(pool, rows.map((r) => ({ kind: 'create' as const, rowKey: numberRowKey(r.number), props: r.props })));
          added.push(...chunk);
        } catch (error) {
          if (!isEntityConflict(error)) throw error;
          // A concurrent import got some of them first: add the rest one by one.
          for (const r of rows) {
            try {
              await numbers.transact(pool, [{ kind: 'create', rowKey: numberRowKey(r.number), props: r.props }]);
              added.push(r.number);
            } catch (inner) {
              if (!isEntityConflict(inner)) throw inner;
            }
          }
        }
      });
      added.sort(compareNumbers);
      summary.numbersAdded += added.length;
      summary.numbersUnchanged += missing.length - added.length;
      await writeHistory(
        pool,
        added.map((number) => ({ at, number, action: 'imported', userId: null, correlationId: actor.correlationId ?? null, note: `into pool ${pool}` })),
      );

      const meta = await poolMeta(pool);
      if (!meta) summary.poolsAdded += 1;
      else if (meta.quarantineDays !== definition.quarantineDays || added.length > 0) summary.poolsUpdated += 1;
      if (!meta || meta.quarantineDays !== definition.quarantineDays) {
        await numbers.transact(POOLS, [{ kind: 'upsert', rowKey: pool, props: { quarantineDays: definition.quarantineDays, updatedAt: at } }]);
      }
      for (const n of list) poolOfNumber.set(n, pool);
    }
    return summary;
  }

  async function allocate(pool: string, userId: string, actor: Actor & { reservationTtlMs: number }): Promise<AllocationOutcome> {
    await ensure();
    const meta = await poolMeta(pool);
    if (!meta) return { ok: false, reason: 'PoolNotFound', message: poolNotFoundMessage(pool) };
    const ctx = { now: actor.now, correlationId: actor.correlationId ?? null };
    const reserve: NumberAction = { type: 'reserve', userId, reservedUntil: new Date(actor.now.getTime() + actor.reservationTtlMs) };
    const outcome = (record: NumberRecord, reused: boolean): AllocationOutcome => ({
      ok: true,
      number: record.number,
      pool,
      state: record.state === 'assigned' ? 'assigned' : 'reserved',
      reused,
    });
    /** One transaction: the number If-Match its ETag, and the user's claim created or If-Match. */
    const commit = async (number: string, claim: Row | undefined, change?: { record: NumberRecord; etag: string }): Promise<boolean> => {
      const ops: TableOp[] = [claimOp(claim, number, userId)];
      if (change) ops.unshift({ kind: 'replace', rowKey: numberRowKey(number), props: propsOf(change.record), etag: change.etag });
      try {
        await numbers.transact(pool, ops);
        return true;
      } catch (error) {
        if (isEntityConflict(error)) return false;
        throw error;
      }
    };

    let attempts = 0;
    while (attempts < MAX_ATTEMPTS) {
      attempts += 1;
      const claim = await numbers.get(pool, claimRowKey(userId));
      const mine = (await numbers.query({ partitionKey: pool, ...NUMBER_ROWS, where: { eq: ['userId', userId] } })).map(load);
      const decision = decideAllocation(userId, mine.map((m) => m.record), actor.now);
      const etagOf = (number: string): string => mine.find((m) => m.record.number === number)?.etag ?? '';

      if (decision.kind === 'reuse') {
        const held = decision.record;
        if (!decision.refresh && claim?.props['number'] === held.number) return outcome(held, true);
        const refreshed = decision.refresh ? transition(held, reserve, ctx) : undefined;
        const change = refreshed?.kind === 'change' ? { record: refreshed.record, etag: etagOf(held.number) } : undefined;
        if (!(await commit(held.number, claim, change))) continue;
        if (refreshed?.kind === 'change') await writeHistory(pool, refreshed.history);
        return outcome(change?.record ?? held, true);
      }

      if (decision.kind === 'rehire') {
        const result = transition(decision.record, reserve, ctx);
        if (result.kind !== 'change') continue;
        if (!(await commit(decision.record.number, claim, { record: result.record, etag: etagOf(decision.record.number) }))) continue;
        await writeHistory(pool, result.history);
        return outcome(result.record, false);
      }

      // Take the lowest available number. Losers of a race read the pool again and spread
      // over a window that doubles with every loss, so 200 callers do not all fight for one row.
      for (let lost = 0; attempts < MAX_ATTEMPTS; attempts++) {
        const page = (await numbers.query({ partitionKey: pool, ...NUMBER_ROWS, where: availableWhere(actor.now), limit: CANDIDATE_PAGE })).map(load);
        const next = decideAllocation(userId, page.map((m) => m.record), actor.now);
        if (next.kind !== 'take') {
          if ((await numbers.get(pool, claimRowKey(userId)))?.etag !== claim?.etag) break;
          return { ok: false, reason: 'PoolExhausted', message: poolExhaustedMessage(await summarize(pool, meta.quarantineDays)) };
        }
        const window = lost === 0 ? 1 : Math.min(next.candidates.length, RACE_SPREAD << Math.min(lost, 8));
        const candidate = next.candidates[Math.floor(Math.random() * window)] ?? next.candidates[0];
        const result = candidate ? transition(candidate, reserve, ctx) : undefined;
        if (candidate && result?.kind === 'change') {
          const etag = page.find((m) => m.record.number === candidate.number)?.etag ?? '';
          if (await commit(candidate.number, claim, { record: result.record, etag })) {
            await writeHistory(pool, result.history);
            return outcome(result.record, false);
          }
        }
        lost += 1;
        if ((await numbers.get(pool, claimRowKey(userId)))?.etag !== claim?.etag) break;
      }
    }
    throw contention(`allocate a number in pool '${pool}' for ${userId}`);
  }

  return {
    importPools,
    allocate,
    async confirm(number, userId, actor) {
      await mutate(number, actor, async () => ({ type: 'confirm', userId }));
    },
    async rollback(number, userId, actor) {
      await mutate(number, actor, async () => ({ type: 'rollback', userId }));
    },
    async release(number, userId, actor) {
      await mutate(number, actor, async (_record, pool) => {
        const days = actor.quarantineDays ?? (await poolMeta(pool))?.quarantineDays ?? 90;
        return { type: 'release', userId, quarantinedUntil: quarantineEnd(actor.now, days) };
      });
    },
    async block(number, owner, actor) {
      await mutate(number, actor, async () => ({ type: 'block', owner }));
    },
    async unblock(number, actor) {
      mustExist(number)(await mutate(number, actor, async () => ({ type: 'unblock' })));
    },
    async free(number, actor) {
      mustExist(number)(await mutate(number, actor, async () => ({ type: 'free' })));
    },
    async get(number) {
      const pool = await locate(number);
      if (!pool) return undefined;
      const row = await numbers.get(pool, numberRowKey(number));
      return row ? load(row).record : undefined;
    },
    async list(filter = {}) {
      await ensure();
      const where: Where[] = [];
      if (filter.state) where.push({ eq: ['state', filter.state] });
      if (filter.userId) where.push({ eq: ['userId', filter.userId] });
      const rows = await numbers.query({
        ...(filter.pool ? { partitionKey: filter.pool } : {}),
        ...NUMBER_ROWS,
        ...(where.length > 0 ? { where: { and: where } } : {}),
      });
      return rows.filter((r) => !r.partitionKey.startsWith('~')).map((r) => load(r).record);
    },
    async history(number) {
      const pool = await locate(number);
      if (!pool) return [];
      const prefix = `${escapeKey(number)}|`;
      const rows = await history.query({ partitionKey: pool, rowKeyFrom: prefix, rowKeyBefore: `${escapeKey(number)}}` });
      return rows.map((r) => ({
        at: String(r.props['at'] ?? ''),
        number,
        action: String(r.props['action']) as NumberHistoryEntry['action'],
        userId: typeof r.props['userId'] === 'string' ? r.props['userId'] : null,
        correlationId: typeof r.props['correlationId'] === 'string' ? r.props['correlationId'] : null,
        note: typeof r.props['note'] === 'string' ? r.props['note'] : null,
      }));
    },
    async pools() {
      await ensure();
      const metas = await numbers.query({ partitionKey: POOLS });
      const all = await numbers.query(NUMBER_ROWS);
      const byPool = new Map<string, NumberRecord[]>();
      for (const row of all) {
        if (row.partitionKey.startsWith('~')) continue;
        const list = byPool.get(row.partitionKey) ?? [];
        list.push(load(row).record);
        byPool.set(row.partitionKey, list);
      }
      return metas.map((m) => summarizePool(m.rowKey, typeof m.props['quarantineDays'] === 'number' ? m.props['quarantineDays'] : 90, byPool.get(m.rowKey) ?? []));
    },
  };
}

function contention(what: string): DialtoneError {
  return new DialtoneError('Throttled', `could not ${what}: lost ${MAX_ATTEMPTS} optimistic-concurrency races in a row; try again`, { transient: true });
}
