import { z } from 'zod';
import {
  availabilityRank,
  decideAllocation,
  type NumberAction,
  poolExhaustedMessage,
  poolNotFoundMessage,
  quarantineEnd,
  summarizePool,
  transition,
} from '../domain/allocation.js';
import { DialtoneError, isDialtoneError } from '../domain/errors.js';
import { compareNumbers, expandPools, type NumberState, NumberStateSchema, numberSortKey, offsetSortKey, PoolDefinitionError } from '../domain/numbers.js';
import type {
  Actor,
  AllocationOutcome,
  HeldInTeamsOutcome,
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
  unescapeKey,
  type Where,
} from './entity-table.js';

/**
 * The number inventory over two tables (Azure Table Storage or its in-memory twin).
 *
 * `numbers` table
 *   PK `~pools`     RK <pool id>               quarantineDays, updatedAt
 *   PK `~index`     RK <number>                pool            (number → pool, for calls that name only a number)
 *   PK `~meta`      RK `schema`                version         (2: owner rows exist for every claim)
 *   PK `~u:`<user>  RK `pools`                 pools (JSON)    (the pools the user has a claim in: the owner index)
 *   PK <pool id>    RK `n:`<numberSortKey>     number, state, userId, reservedUntil, quarantinedUntil, owner, updatedAt
 *   PK <pool id>    RK `u:`<user id>           number, userId  (the user's claim in this pool)
 *   PK <pool id>    RK `h:free`                from            (no free number has a row key below this)
 * `numberhistory` table
 *   PK <pool id>    RK <number>`|`<at>`|`<seq> number, at, action, userId, correlationId, note
 *
 * Tenants (`forTenant`): the partitions above are the deployment's default tenant's (the one the
 * `~meta` row names in `defaultTenant`, stamped from DIALTONE_TENANT_ID on first use: a
 * single-tenant inventory becomes that tenant's without a row moving). Every other tenant T has
 * the same layout in partitions prefixed `T|` (`T|~pools`, `T|~u:<user>`, `T|<pool id>`, and
 * `T|<pool id>` in the history table), so two tenants can both have a pool `ams` and the same
 * user id without meeting. `~index` and `~meta` are shared: the index row of a number names its
 * tenant (`tenant`, absent for the default tenant's), so a number is in one tenant only, and a
 * tenant's inventory neither sees nor changes a number of another tenant.
 *
 * A reservation writes the number row (If-Match its ETag) and the user's claim row (create, or
 * If-Match its ETag) in one same-partition transaction: two allocations that race for one number,
 * or for one user, cannot both commit. Keys are escaped (/ \ # ? % and control characters).
 *
 * No call of the pipeline scans: Table Storage has no secondary index and batches only within one
 * partition, so the owner index has two levels. The claim row sits in the pool's partition and
 * is written in the reservation's own transaction; the user's owner row (their own partition)
 * lists the pools they have a claim in and is written *before* the transaction, so it is a
 * superset and never misses one. A user's numbers are one point read of the owner row, then one
 * claim and one number row per pool listed; a claim whose number now names someone else is
 * stale and skipped. Allocation starts at the pool's free hint (the lowest free row key, kept
 * up to date in the same transactions that free a number) and reads one row; a caller that lost
 * a race starts again at a random point spread over a window that doubles with every loss.
 */

export interface InventoryTables {
  numbers: EntityTable;
  history: EntityTable;
}

const POOLS = '~pools';
const INDEX = '~index';
const META = '~meta';
/** Partitions every tenant shares: the number index (a number is in one tenant only) and the layout marker. */
const GLOBAL_PARTITIONS: ReadonlySet<string> = new Set([INDEX, META]);
const TENANT_SEPARATOR = '|';
const SCHEMA_ROW = 'schema';
const SCHEMA_VERSION = 2;
const HINT = 'h:free';
const NUMBER_ROWS = { rowKeyFrom: 'n:', rowKeyBefore: 'n;' } as const;
/** Rows per page of scan() (Table Storage answers at most 1,000 per request). */
const SCAN_PAGE = 500;
const CLAIM_ROWS = { rowKeyFrom: 'u:', rowKeyBefore: 'u;' } as const;
/** The first window losers of a race spread over; it doubles with every further loss. */
const RACE_SPREAD = 64;
const MAX_ATTEMPTS = 200;
/** The free hint is raised once the first free number is this far above it (fewer hint writes). */
const HINT_STEP = 32;

/** A repeatable point in [0, window) for this caller and attempt (FNV-1a). */
function spreadOffset(userId: string, attempt: number, window: number): number {
  let hash = 0x811c9dc5;
  for (const c of `${userId}#${attempt}`) hash = Math.imul(hash ^ c.charCodeAt(0), 0x01000193) >>> 0;
  return hash % window;
}

/** How many numbers lie between two number row keys (Infinity when they cannot be compared). */
function keyDistance(from: string, to: string): number {
  const parse = (key: string) => /^n:(\d{15})(?:;(\d{10}))?$/.exec(key);
  const a = parse(from);
  const b = parse(to);
  if (!a || !b) return Number.POSITIVE_INFINITY;
  if (a[1] === b[1] && a[2] !== undefined && b[2] !== undefined) return Number(b[2]) - Number(a[2]);
  if (a[2] !== undefined || b[2] !== undefined) return Number.POSITIVE_INFINITY;
  return Number(BigInt(b[1] ?? '0') - BigInt(a[1] ?? '0'));
}

const numberRowKey = (number: string): string => `n:${numberSortKey(number)}`;
const claimRowKey = (userId: string): string => `u:${escapeKey(userId)}`;
const ownerPartition = (userId: string): string => `~u:${escapeKey(userId)}`;

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

/** The state of a number row, checked like load() checks the whole row. */
function stateOf(row: Row): NumberState {
  const parsed = NumberStateSchema.safeParse(row.props['state']);
  if (!parsed.success) throw new DialtoneError('Unexpected', `numbers table row ${row.partitionKey}/${row.rowKey} is malformed: state ${parsed.error.issues[0]?.message}`);
  return parsed.data;
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

const freeWhere: Where = { eq: ['state', 'free'] };
const endedQuarantineWhere = (now: Date): Where => ({ and: [{ eq: ['state', 'quarantined'] }, { le: ['quarantinedUntil', now.toISOString()] }] });
const lapsedReservationWhere = (now: Date): Where => ({ and: [{ eq: ['state', 'reserved'] }, { le: ['reservedUntil', now.toISOString()] }] });

function parsePools(row: Row | undefined): string[] {
  const raw = row?.props['pools'];
  if (typeof raw !== 'string') return [];
  try {
    const parsed: unknown = JSON.parse(raw);
    return Array.isArray(parsed) ? parsed.filter((p): p is string => typeof p === 'string') : [];
  } catch {
    return [];
  }
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

/**
 * Runs `fn` over `items` with at most `limit` in flight: imports write thousands of batches. After
 * a failure no new item starts, and the first error is thrown only once the items in flight have
 * settled, so a failed import has stopped writing when it returns and a re-run can resume it.
 */
async function parallel<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (!failure && next < items.length) {
      const item = items[next++] as T;
      try {
        await fn(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
}

const IMPORT_CONCURRENCY = 8;

let historySeq = 0;

export interface InventoryOptions {
  /**
   * The deployment's own tenant (DIALTONE_TENANT_ID). The first opening that names it stamps it in
   * `~meta` as the owner of the unprefixed partitions (the data written before tenants); later
   * openings read the stamp, and one naming another default tenant is refused.
   */
  defaultTenantId?: string | undefined;
}

/** Where one tenant's rows are: '' (the default tenant's, unprefixed) or `<tenant id>|`. */
interface Scope {
  prefix: string;
  /** The tenant written in the number index (undefined: the default tenant's rows carry none). */
  tenantId: string | undefined;
  /** The default tenant as stamped, when known. */
  owner: string | undefined;
}

function indexTenant(row: Row | undefined): string | undefined {
  const t = row?.props['tenant'];
  return typeof t === 'string' && t !== '' ? t : undefined;
}

/**
 * One tenant's view of a table: partition keys are prefixed with the scope's prefix (except the
 * shared ones), and rows come back with the prefix taken off, so the inventory code is the same
 * for every tenant.
 */
function scopedTable(table: EntityTable, scope: () => Promise<Scope>): EntityTable {
  const map = (s: Scope, pk: string): string => (GLOBAL_PARTITIONS.has(pk) ? pk : s.prefix + pk);
  const unmap = (s: Scope, row: Row): Row => (GLOBAL_PARTITIONS.has(row.partitionKey) ? row : { ...row, partitionKey: row.partitionKey.slice(s.prefix.length) });
  const own = (s: Scope, row: Row): boolean =>
    GLOBAL_PARTITIONS.has(row.partitionKey) || (s.prefix === '' ? !row.partitionKey.includes(TENANT_SEPARATOR) : row.partitionKey.startsWith(s.prefix));
  return {
    name: table.name,
    ensure: () => table.ensure(),
    async get(partitionKey, rowKey) {
      const s = await scope();
      const row = await table.get(map(s, partitionKey), rowKey);
      return row ? unmap(s, row) : undefined;
    },
    async query(query) {
      const s = await scope();
      if (query.partitionKey !== undefined) return (await table.query({ ...query, partitionKey: map(s, query.partitionKey) })).map((r) => unmap(s, r));
      if (query.limit !== undefined) throw new Error('a query across partitions with a limit cannot be scoped to a tenant');
      return (await table.query(query)).filter((r) => own(s, r)).map((r) => unmap(s, r));
    },
    async transact(partitionKey, ops) {
      const s = await scope();
      await table.transact(map(s, partitionKey), ops);
    },
  };
}

/**
 * The inventory of the deployment's default tenant (and of messages that name no tenant);
 * `forTenant(T)` gives tenant T's, over the same tables.
 */
export function createEntityNumberInventory(tables: InventoryTables, options: InventoryOptions = {}): NumberInventory {
  const configured = options.defaultTenantId?.toLowerCase();
  let ready: Promise<string | undefined> | undefined;
  /** Creates the tables, migrates an older layout, and learns (or stamps) the default tenant. */
  const ensure = (): Promise<string | undefined> => {
    ready ??= Promise.all([tables.numbers.ensure(), tables.history.ensure()])
      .then(() => migrateOwnerIndex(tables.numbers))
      .then(() => stampDefaultTenant(tables.numbers, configured))
      .catch((error: unknown) => {
        ready = undefined;
        throw error;
      });
    return ready;
  };
  const scopeOf = async (tenantId: string | undefined): Promise<Scope> => {
    const owner = await ensure();
    const id = tenantId?.toLowerCase();
    if (id === undefined || id === owner) return { prefix: '', tenantId: undefined, owner };
    if (owner === undefined) {
      throw new DialtoneError(
        'ConfigInvalid',
        `the number inventory does not know yet which tenant its numbers from before tenants belong to, so it cannot open tenant ${id}'s: set DIALTONE_TENANT_ID (the deployment's own tenant) and try again`,
        { details: { tenantId: id } },
      );
    }
    return { prefix: `${id}${TENANT_SEPARATOR}`, tenantId: id, owner };
  };
  const views = new Map<string, NumberInventory>();
  const forTenant = (tenantId: string | undefined): NumberInventory => {
    const key = tenantId?.toLowerCase() ?? '';
    let view = views.get(key);
    if (!view) {
      const scope = () => scopeOf(tenantId);
      view = scopedInventory({ numbers: scopedTable(tables.numbers, scope), history: scopedTable(tables.history, scope) }, scope, forTenant);
      views.set(key, view);
    }
    return view;
  };
  return forTenant(undefined);
}

/**
 * Inventories written before the owner index (schema 1) have claim rows but no owner rows:
 * build them once from the claims (the only scan, and only once per table), then mark the table.
 * Such tables predate tenants: every partition is the default tenant's.
 */
async function migrateOwnerIndex(numbers: EntityTable): Promise<void> {
  const marker = await numbers.get(META, SCHEMA_ROW);
  if (typeof marker?.props['version'] === 'number' && marker.props['version'] >= SCHEMA_VERSION) return;
  const claims = await numbers.query(CLAIM_ROWS);
  const byUser = new Map<string, Set<string>>();
  for (const claim of claims) {
    if (claim.partitionKey.startsWith('~') || claim.partitionKey.includes(TENANT_SEPARATOR)) continue;
    const userId = typeof claim.props['userId'] === 'string' ? claim.props['userId'] : unescapeKey(claim.rowKey.slice(2));
    const set = byUser.get(userId) ?? new Set<string>();
    set.add(claim.partitionKey);
    byUser.set(userId, set);
  }
  await parallel([...byUser], IMPORT_CONCURRENCY, async ([userId, pools]) => {
    for (const pool of pools) await indexOwnerIn(numbers, userId, pool);
  });
  const props = { ...(marker?.props ?? {}), version: SCHEMA_VERSION };
  await numbers.transact(META, [marker ? { kind: 'replace', rowKey: SCHEMA_ROW, props, etag: marker.etag } : { kind: 'create', rowKey: SCHEMA_ROW, props }]).catch((error: unknown) => {
    // Another process migrated (or stamped) meanwhile: its marker stands.
    if (!isEntityConflict(error)) throw error;
  });
}

/** The default tenant the `~meta` row names; stamped from the setting when it names none yet. */
async function stampDefaultTenant(numbers: EntityTable, configured: string | undefined): Promise<string | undefined> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const marker = await numbers.get(META, SCHEMA_ROW);
    const stamped = typeof marker?.props['defaultTenant'] === 'string' && marker.props['defaultTenant'] !== '' ? marker.props['defaultTenant'] : undefined;
    if (stamped !== undefined) {
      if (configured !== undefined && configured !== stamped) {
        throw new DialtoneError(
          'ConfigInvalid',
          `the number inventory's numbers from before tenants belong to tenant ${stamped}, but DIALTONE_TENANT_ID is ${configured}: set DIALTONE_TENANT_ID back to ${stamped} (register other tenants with dialtone tenants add)`,
          { details: { stamped, configured } },
        );
      }
      return stamped;
    }
    if (configured === undefined) return undefined;
    const props = { ...(marker?.props ?? {}), version: Math.max(SCHEMA_VERSION, Number(marker?.props['version'] ?? SCHEMA_VERSION)), defaultTenant: configured };
    try {
      await numbers.transact(META, [marker ? { kind: 'replace', rowKey: SCHEMA_ROW, props, etag: marker.etag } : { kind: 'create', rowKey: SCHEMA_ROW, props }]);
      return configured;
    } catch (error) {
      if (!isEntityConflict(error)) throw error;
    }
  }
  throw contention('stamp the default tenant of the number inventory');
}

/** Adds the pool to the user's owner row (before the pool transaction, so the index never misses). */
async function indexOwnerIn(numbers: EntityTable, userId: string, pool: string): Promise<void> {
  try {
    // Most users have one pool: their first claim creates the row in one call.
    await numbers.transact(ownerPartition(userId), [{ kind: 'create', rowKey: 'pools', props: { userId, pools: JSON.stringify([pool]) } }]);
    return;
  } catch (error) {
    if (!isEntityConflict(error)) throw error;
  }
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const row = await numbers.get(ownerPartition(userId), 'pools');
    const pools = parsePools(row);
    if (pools.includes(pool)) return;
    const props = { userId, pools: JSON.stringify([...pools, pool].sort()) };
    try {
      await numbers.transact(ownerPartition(userId), [row ? { kind: 'replace', rowKey: 'pools', props, etag: row.etag } : { kind: 'create', rowKey: 'pools', props }]);
      return;
    } catch (error) {
      if (!isEntityConflict(error)) throw error;
    }
  }
  throw contention(`index the numbers of ${userId}`);
}

function scopedInventory(tables: InventoryTables, scope: () => Promise<Scope>, forTenant: (tenantId: string | undefined) => NumberInventory): NumberInventory {
  const { numbers, history } = tables;
  const poolOfNumber = new Map<string, string>();
  /** Allocations running in this process, per pool and user: with company, callers spread from the first try. */
  const inFlight = new Map<string, Map<string, number>>();
  const ensure = async (): Promise<void> => {
    await scope();
  };

  async function indexOwner(userId: string, pool: string): Promise<void> {
    await indexOwnerIn(numbers, userId, pool);
  }

  async function locate(number: string): Promise<string | undefined> {
    const cached = poolOfNumber.get(number);
    if (cached) return cached;
    const { tenantId } = await scope();
    const row = await numbers.get(INDEX, escapeKey(number));
    // A number of another tenant is not in this tenant's inventory at all.
    if (!row || indexTenant(row) !== tenantId) return undefined;
    const pool = typeof row.props['pool'] === 'string' ? row.props['pool'] : undefined;
    if (pool) poolOfNumber.set(number, pool);
    return pool;
  }

  async function numberRow(pool: string, number: string): Promise<Loaded | undefined> {
    const row = await numbers.get(pool, numberRowKey(number));
    return row ? load(row) : undefined;
  }

  /** The user's claim in the pool and the number it points at, when that number still names them. */
  async function claimed(pool: string, userId: string): Promise<{ claim: Row | undefined; held: Loaded | undefined }> {
    const claim = await numbers.get(pool, claimRowKey(userId));
    const number = claim?.props['number'];
    if (typeof number !== 'string') return { claim, held: undefined };
    const held = await numberRow(pool, number);
    return { claim, held: held && held.record.userId === userId ? held : undefined };
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

  /** Counted page by page from the state alone: a 100,000-number pool is never held whole nor turned into records just to be counted. */
  async function summarize(pool: string, quarantineDays: number): Promise<PoolSummary> {
    const summary = summarizePool(pool, quarantineDays, []);
    for await (const page of numberPages(pool)) {
      for (const row of page) {
        summary.counts[stateOf(row)] += 1;
        summary.total += 1;
      }
    }
    return summary;
  }

  async function poolMeta(pool: string): Promise<{ quarantineDays: number } | undefined> {
    const row = await numbers.get(POOLS, pool);
    if (!row) return undefined;
    const days = row.props['quarantineDays'];
    return { quarantineDays: typeof days === 'number' ? days : 90 };
  }

  /** The hint row op that lowers the pool's free hint to `rowKey` (in the transaction that frees it). */
  async function lowerHint(pool: string, rowKey: string): Promise<TableOp[]> {
    const hint = await numbers.get(pool, HINT);
    const from = hint?.props['from'];
    if (!hint || typeof from !== 'string' || from <= rowKey) return [];
    return [{ kind: 'replace', rowKey: HINT, props: { from: rowKey }, etag: hint.etag }];
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
      const hint = result.record.state === 'free' ? await lowerHint(pool, row.rowKey) : [];
      try {
        await numbers.transact(pool, [{ kind: 'replace', rowKey: row.rowKey, props: propsOf(result.record), etag }, ...hint]);
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
    const here = await scope();
    const at = actor.now.toISOString();
    const index = new Map((await numbers.query({ partitionKey: INDEX })).map((r) => [String(r.props['number'] ?? ''), { pool: String(r.props['pool'] ?? ''), tenantId: indexTenant(r) }]));
    for (const [pool, list] of expanded) {
      for (const n of list) {
        const entry = index.get(n);
        if (entry && (entry.tenantId !== here.tenantId || entry.pool !== pool)) throw elsewhere(here, n, pool, entry);
      }
    }
    const summary: ImportSummary = { poolsAdded: 0, poolsUpdated: 0, numbersAdded: 0, numbersUnchanged: 0 };
    for (const definition of pools) {
      const pool = definition.id;
      const list = expanded.get(pool) ?? [];
      const present = await numbers.query({ partitionKey: pool, ...NUMBER_ROWS });
      const existing = new Set(present.map((r) => String(r.props['number'])));
      // The lowest free row already there: an import that stopped half-way may have added it.
      const lowestExistingFree = present.reduce<string | undefined>((low, r) => (stateOf(r) === 'free' && (low === undefined || r.rowKey < low) ? r.rowKey : low), undefined);
      const missing = list.filter((n) => !existing.has(n));
      summary.numbersUnchanged += list.length - missing.length;

      // Created, never overwritten: of two tenants importing one number at once, one gets it.
      const indexProps = (n: string): Props => ({ number: n, pool, ...(here.tenantId !== undefined ? { tenant: here.tenantId } : {}) });
      await parallel(chunks(missing.filter((n) => !index.has(n))), IMPORT_CONCURRENCY, async (chunk) => {
        try {
          await numbers.transact(INDEX, chunk.map((n) => ({ kind: 'create' as const, rowKey: escapeKey(n), props: indexProps(n) })));
          return;
        } catch (error) {
          if (!isEntityConflict(error)) throw error;
        }
        for (const n of chunk) {
          try {
            await numbers.transact(INDEX, [{ kind: 'create', rowKey: escapeKey(n), props: indexProps(n) }]);
          } catch (error) {
            if (!isEntityConflict(error)) throw error;
            const row = await numbers.get(INDEX, escapeKey(n));
            const entry = { pool: String(row?.props['pool'] ?? ''), tenantId: indexTenant(row) };
            if (entry.tenantId !== here.tenantId || entry.pool !== pool) throw elsewhere(here, n, pool, entry);
          }
        }
      });
      // One transaction per 100 numbers, 8 in flight, each followed by its own history batch: a
      // stopped import leaves whole chunks, each with its history, and a re-run adds the rest.
      const added: string[] = [];
      await parallel(chunks(missing), IMPORT_CONCURRENCY, async (chunk) => {
        const rows = chunk.map((n) => ({ number: n, props: propsOf({ number: n, pool, state: 'free', userId: null, reservedUntil: null, quarantinedUntil: null, owner: null, updatedAt: at }) }));
        const mine: string[] = [];
        try {
          await numbers.transact(pool, rows.map((r) => ({ kind: 'create' as const, rowKey: numberRowKey(r.number), props: r.props })));
          mine.push(...chunk);
        } catch (error) {
          if (!isEntityConflict(error)) throw error;
          // A concurrent import got some of them first: add the rest one by one.
          for (const r of rows) {
            try {
              await numbers.transact(pool, [{ kind: 'create', rowKey: numberRowKey(r.number), props: r.props }]);
              mine.push(r.number);
            } catch (inner) {
              if (!isEntityConflict(inner)) throw inner;
            }
          }
        }
        added.push(...mine);
        await writeHistory(
          pool,
          mine.map((number) => ({ at, number, action: 'imported', userId: null, correlationId: actor.correlationId ?? null, note: `into pool ${pool}` })),
        );
      });
      added.sort(compareNumbers);
      const lowestAdded = added[0] === undefined ? undefined : numberRowKey(added[0]);
      const lowest = lowestExistingFree !== undefined && (lowestAdded === undefined || lowestExistingFree < lowestAdded) ? lowestExistingFree : lowestAdded;
      if (lowest !== undefined) {
        // Free numbers below the hint (new ones, or left by a stopped import): lower it (the upsert
        // moves its ETag, so a racing raise fails).
        const hint = await numbers.get(pool, HINT);
        const from = hint?.props['from'];
        if (typeof from === 'string' && from > lowest) {
          await numbers.transact(pool, [{ kind: 'upsert', rowKey: HINT, props: { from: lowest } }]);
        }
      }
      summary.numbersAdded += added.length;
      summary.numbersUnchanged += missing.length - added.length;

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

  /**
   * The next available number to try, best first: a free one from the hint (or, after a lost
   * race, from a random point above it), then an ended quarantine, then a lapsed reservation.
   */
  async function candidate(pool: string, now: Date, userId: string, lost: number, company: number): Promise<Loaded | undefined> {
    const hint = await numbers.get(pool, HINT);
    const from = typeof hint?.props['from'] === 'string' ? hint.props['from'] : NUMBER_ROWS.rowKeyFrom;
    const firstFree = async (rowKeyFrom: string, rowKeyBefore: string = NUMBER_ROWS.rowKeyBefore): Promise<Loaded | undefined> => {
      const [row] = await numbers.query({ partitionKey: pool, rowKeyFrom, rowKeyBefore, where: freeWhere, limit: 1 });
      return row ? load(row) : undefined;
    };
    const found = await firstFree(from);
    if (found) {
      const key = numberRowKey(found.record.number);
      if (keyDistance(from, key) >= HINT_STEP) {
        // Nothing below it is free: raise the hint (If-Match, so a number freed meanwhile wins).
        const op: TableOp = hint ? { kind: 'replace', rowKey: HINT, props: { from: key }, etag: hint.etag } : { kind: 'create', rowKey: HINT, props: { from: key } };
        await numbers.transact(pool, [op]).catch((error: unknown) => {
          if (!isEntityConflict(error)) throw error;
        });
      }
      if (lost === 0 && company === 0) return found;
      // Others allocate in this pool right now (here, or they won the last race): start above the
      // lowest free number at a point that depends on the user and the attempt (repeatable, and
      // different per caller), over a window that grows with the company and with every loss.
      const window = Math.max(RACE_SPREAD, company * 64) << Math.min(lost, 10);
      const spread = await firstFree(`n:${offsetSortKey(key.slice(2), spreadOffset(userId, lost, window))}`);
      if (spread) return spread;
      // Past the pool's last free number (a small or nearly full pool): spread over the free ones left.
      const near = (await numbers.query({ partitionKey: pool, rowKeyFrom: key, rowKeyBefore: NUMBER_ROWS.rowKeyBefore, where: freeWhere, limit: RACE_SPREAD })).map(load);
      return near[spreadOffset(userId, lost, near.length)] ?? found;
    }
    // The hint is a hint: look below it too before falling back to numbers that were used.
    const below = from > NUMBER_ROWS.rowKeyFrom ? await firstFree(NUMBER_ROWS.rowKeyFrom, from) : undefined;
    if (below) return below;
    // No free number left: an ended quarantine, else a lapsed reservation (ranked by decideAllocation).
    const used = (await numbers.query({ partitionKey: pool, ...NUMBER_ROWS, where: { or: [endedQuarantineWhere(now), lapsedReservationWhere(now)] } })).map(load);
    const next = decideAllocation('', used.map((r) => r.record), now);
    if (next.kind === 'take') {
      // After a lost race, pick among the best rank at a point of its own so losers do not collide again.
      const best = next.candidates.filter((c) => availabilityRank(c, now) === availabilityRank(next.candidates[0] as NumberRecord, now));
      const pick = best[lost === 0 ? 0 : spreadOffset(userId, lost, best.length)];
      return pick ? used.find((r) => r.record.number === pick.number) : undefined;
    }
    return undefined;
  }

  async function allocate(pool: string, userId: string, actor: Actor & { reservationTtlMs: number }): Promise<AllocationOutcome> {
    const here = inFlight.get(pool) ?? new Map<string, number>();
    inFlight.set(pool, here);
    here.set(userId, (here.get(userId) ?? 0) + 1);
    try {
      return await allocateOnce(pool, userId, actor, () => here.size - 1);
    } finally {
      const left = (here.get(userId) ?? 1) - 1;
      if (left > 0) here.set(userId, left);
      else here.delete(userId);
    }
  }

  async function allocateOnce(pool: string, userId: string, actor: Actor & { reservationTtlMs: number }, company: () => number): Promise<AllocationOutcome> {
    await ensure();
    const meta = await poolMeta(pool);
    if (!meta) return { ok: false, reason: 'PoolNotFound', message: poolNotFoundMessage(pool) };
    let indexed = false;
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
    let lost = 0;
    while (attempts < MAX_ATTEMPTS) {
      attempts += 1;
      const { claim, held } = await claimed(pool, userId);
      // A claim exists only after its owner row listed the pool; a first claim lists it now.
      if (!claim && !indexed) {
        await indexOwner(userId, pool);
        indexed = true;
      }
      const decision = decideAllocation(userId, held ? [held.record] : [], actor.now);

      if (decision.kind === 'reuse' && held) {
        if (!decision.refresh) return outcome(held.record, true);
        const refreshed = transition(held.record, reserve, ctx);
        const change = refreshed.kind === 'change' ? { record: refreshed.record, etag: held.etag } : undefined;
        if (!(await commit(held.record.number, claim, change))) continue;
        if (refreshed.kind === 'change') await writeHistory(pool, refreshed.history);
        return outcome(change?.record ?? held.record, true);
      }

      if (decision.kind === 'rehire' && held) {
        const result = transition(held.record, reserve, ctx);
        if (result.kind !== 'change') continue;
        if (!(await commit(held.record.number, claim, { record: result.record, etag: held.etag }))) continue;
        await writeHistory(pool, result.history);
        return outcome(result.record, false);
      }

      const found = await candidate(pool, actor.now, userId, lost, company());
      if (!found) {
        if ((await numbers.get(pool, claimRowKey(userId)))?.etag !== claim?.etag) continue;
        return { ok: false, reason: 'PoolExhausted', message: poolExhaustedMessage(await summarize(pool, meta.quarantineDays)) };
      }
      const result = transition(found.record, reserve, ctx);
      if (result.kind === 'change' && (await commit(found.record.number, claim, { record: result.record, etag: found.etag }))) {
        await writeHistory(pool, result.history);
        return outcome(result.record, false);
      }
      lost += 1;
    }
    throw contention(`allocate a number in pool '${pool}' for ${userId}`);
  }

  async function heldInTeams(number: string, holder: string | null, actor: Actor): Promise<HeldInTeamsOutcome> {
    const pool = await locate(number);
    if (!pool) return { kind: 'unknown' };
    const ctx = { now: actor.now, correlationId: actor.correlationId ?? null };
    const block = async (): Promise<HeldInTeamsOutcome> => {
      await mutate(number, actor, async () => ({ type: 'block', owner: holder }));
      return { kind: 'blocked', owner: holder };
    };
    if (!holder) return block();
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current = await numberRow(pool, number);
      if (!current) return { kind: 'unknown' };
      const claim = await numbers.get(pool, claimRowKey(holder));
      // One of Dialtone's own people for this number: it names them, or it is the one their claim points at.
      const ours = current.record.userId === holder || claim?.props['number'] === number;
      if (!ours) return block();
      const result = transition(current.record, { type: 'adopt', userId: holder }, ctx);
      const displaced = current.record.userId !== null && current.record.userId !== holder && current.record.state !== 'free' ? current.record.userId : null;
      const ops: TableOp[] = [];
      const entries: NumberHistoryEntry[] = [];
      if (result.kind === 'change') {
        ops.push({ kind: 'replace', rowKey: numberRowKey(number), props: propsOf(result.record), etag: current.etag });
        entries.push(...result.history);
      }
      if (claim?.props['number'] !== number) ops.push(claimOp(claim, number, holder));
      if (ops.length > 0) {
        await indexOwner(holder, pool);
        try {
          await numbers.transact(pool, ops);
        } catch (error) {
          if (isEntityConflict(error)) continue;
          throw error;
        }
        await writeHistory(pool, entries);
      }
      return { kind: 'adopted', userId: holder, displaced };
    }
    throw contention(`adopt ${number} for ${holder}`);
  }

  /** A pool's number rows (of one state, if given) in row-key order, SCAN_PAGE at a time, each page read from the last row key seen. */
  async function* numberPages(pool: string, state?: NumberState): AsyncGenerator<Row[]> {
    const where = state ? { where: { eq: ['state', state] as [string, string] } } : {};
    let after: string | undefined;
    for (;;) {
      const rows = await numbers.query({
        partitionKey: pool,
        rowKeyFrom: after ?? NUMBER_ROWS.rowKeyFrom,
        rowKeyBefore: NUMBER_ROWS.rowKeyBefore,
        ...where,
        limit: after === undefined ? SCAN_PAGE : SCAN_PAGE + 1,
      });
      const page = after === undefined ? rows : rows.filter((r) => r.rowKey !== after);
      if (page.length > 0) yield page;
      if (page.length < SCAN_PAGE) return;
      after = page.at(-1)!.rowKey;
    }
  }

  async function listOf(userId: string, filter: { pool?: string; state?: NumberState }): Promise<NumberRecord[]> {
    await ensure();
    const pools = filter.pool ? [filter.pool] : parsePools(await numbers.get(ownerPartition(userId), 'pools'));
    const found = await Promise.all(pools.map(async (pool) => (await claimed(pool, userId)).held?.record));
    return found
      .filter((r): r is NumberRecord => r !== undefined && (!filter.state || r.state === filter.state))
      .sort((a, b) => (a.pool < b.pool ? -1 : a.pool > b.pool ? 1 : compareNumbers(a.number, b.number)));
  }

  return {
    importPools,
    allocate,
    heldInTeams,
    async confirm(number, userId, actor) {
      try {
        const outcome = await mutate(number, actor, async () => ({ type: 'confirm', userId }));
        return outcome === 'unknown' ? { confirmed: false, why: `${number} is not in the number inventory` } : { confirmed: true };
      } catch (error) {
        if (isDialtoneError(error) && error.code === 'NumberConflict') return { confirmed: false, why: error.message };
        throw error;
      }
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
      if (filter.userId) return listOf(filter.userId, filter);
      await ensure();
      // One partition query per pool of this tenant (in pool order), never the whole table.
      const pools = filter.pool ? [filter.pool] : (await numbers.query({ partitionKey: POOLS })).map((m) => m.rowKey).sort();
      const out: NumberRecord[] = [];
      for (const pool of pools) {
        const rows = await numbers.query({ partitionKey: pool, ...NUMBER_ROWS, ...(filter.state ? { where: { eq: ['state', filter.state] } } : {}) });
        out.push(...rows.map((r) => load(r).record));
      }
      return out;
    },
    async *scan(filter = {}) {
      if (filter.userId) {
        yield* await listOf(filter.userId, filter);
        return;
      }
      await ensure();
      // Pools in key order, as list() sorts them; each read in pages from the last row key seen.
      const pools = filter.pool ? [filter.pool] : (await numbers.query({ partitionKey: POOLS })).map((m) => m.rowKey).sort();
      for (const pool of pools) {
        for await (const page of numberPages(pool, filter.state)) for (const row of page) yield load(row).record;
      }
    },
    forTenant,
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
      // This tenant's pools, one partition each: another tenant's rows are never read.
      return Promise.all(metas.map((m) => summarize(m.rowKey, typeof m.props['quarantineDays'] === 'number' ? m.props['quarantineDays'] : 90)));
    },
  };
}

/** A number already in another pool, or in another tenant's inventory: import refuses it, naming where it is. */
function elsewhere(here: Scope, number: string, pool: string, entry: { pool: string; tenantId: string | undefined }): DialtoneError {
  const tenant = entry.tenantId ?? here.owner;
  if (entry.tenantId !== here.tenantId) {
    return new DialtoneError(
      'ConfigInvalid',
      `${number} is already in pool '${entry.pool}' of tenant ${tenant ?? "the deployment's default tenant"}; a number belongs to one tenant only`,
      { details: { number, pool, tenantId: tenant ?? null, otherPool: entry.pool } },
    );
  }
  return new DialtoneError('ConfigInvalid', `${number} is already in pool '${entry.pool}'; a number cannot move to pool '${pool}' by import`, { details: { number, pool } });
}

function contention(what: string): DialtoneError {
  return new DialtoneError('Throttled', `could not ${what}: lost ${MAX_ATTEMPTS} optimistic-concurrency races in a row; try again`, { transient: true });
}
