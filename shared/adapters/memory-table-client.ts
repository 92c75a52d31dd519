import { EntityConflict, type EntityTable, type Props, type Row, type RowQuery, type TableOp, type Where } from './entity-table.js';
import { entityRefusal, transactionRefusal } from './table-limits.js';
import { seededRandom } from '../domain/seeded-random.js';

/**
 * Table Storage semantics in memory: ETags are version counters, transactions are all or
 * nothing, and every call yields to the event loop first, so concurrent read-modify-write
 * races happen here exactly as they do against the real service. It refuses what the service
 * refuses (table-limits.ts: a property over 64 KiB or 32 K characters, an entity over 1 MiB, more
 * than 252 properties, a transaction over 100 operations or naming a row twice) with the same
 * TableRefused the Azure adapter throws, and can inject seeded faults (503 storms, 412 storms,
 * timeouts before or after the write) for chaos runs.
 */

/**
 * Faults for chaos runs, drawn from a generator seeded with `seed`, so a run repeats exactly. A
 * storm is a run of consecutive failures of one kind: each request starts one with probability
 * `rate`, and the next `length - 1` requests of that kind fail too.
 */
export interface TableFaults {
  seed: number;
  /** 503 ServerBusy on any request. */
  serverBusy?: { rate: number; length?: number };
  /** 412 on a conditional write (replace with an ETag) as if another writer had been first. */
  preconditionFailed?: { rate: number; length?: number };
  /**
   * A request that gives no answer: after `delayMs` real milliseconds it fails with
   * OperationTimedOut. With probability `appliedRate` a timed-out write was applied all the same,
   * as a real timeout leaves the client not knowing.
   */
  timeout?: { rate: number; delayMs?: number; appliedRate?: number };
}

/** What the twin injected, by kind, for the chaos report. */
export interface TableFaultCounts {
  serverBusy: number;
  preconditionFailed: number;
  timeout: number;
  timeoutApplied: number;
}

/** Where a chaos run sets and counts Table faults (the twin, or the sandbox's proxy in front of Azurite). */
export interface TableFaultControl {
  setFaults(faults: TableFaults | undefined): void;
  faultCounts(): TableFaultCounts;
}

/** A RestError-shaped failure, as @azure/data-tables throws it. */
export class TableServiceError extends Error {
  override readonly name = 'RestError';

  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}


/** The seeded fault plan of `TableFaults`, shared by the twin and the sandbox's Azurite fault proxy. */
export class TableFaultPlan {
  readonly counts: TableFaultCounts = { serverBusy: 0, preconditionFailed: 0, timeout: 0, timeoutApplied: 0 };
  private random: () => number;
  private busyLeft = 0;
  private preconditionLeft = 0;

  constructor(private faults: TableFaults | undefined) {
    this.random = seededRandom(faults?.seed ?? 1);
  }

  set(faults: TableFaults | undefined): void {
    this.faults = faults;
    this.random = seededRandom(faults?.seed ?? 1);
    this.busyLeft = 0;
    this.preconditionLeft = 0;
  }

  /** Throws a 503 when a ServerBusy storm is on. */
  beforeRequest(): void {
    const busy = this.faults?.serverBusy;
    if (!busy) return;
    if (this.busyLeft === 0 && this.random() < busy.rate) this.busyLeft = Math.max(1, busy.length ?? 1);
    if (this.busyLeft > 0) {
      this.busyLeft -= 1;
      this.counts.serverBusy += 1;
      throw new TableServiceError(503, 'ServerBusy', 'The server is busy.');
    }
  }

  conditionalWriteFails(): boolean {
    const rule = this.faults?.preconditionFailed;
    if (!rule) return false;
    if (this.preconditionLeft === 0 && this.random() < rule.rate) this.preconditionLeft = Math.max(1, rule.length ?? 1);
    if (this.preconditionLeft === 0) return false;
    this.preconditionLeft -= 1;
    this.counts.preconditionFailed += 1;
    return true;
  }

  /** undefined: answer normally; otherwise time out, with the write applied or not. */
  timeout(): { delayMs: number; applied: boolean } | undefined {
    const rule = this.faults?.timeout;
    if (!rule || this.random() >= rule.rate) return undefined;
    const applied = this.random() < (rule.appliedRate ?? 0);
    this.counts.timeout += 1;
    if (applied) this.counts.timeoutApplied += 1;
    return { delayMs: rule.delayMs ?? 0, applied };
  }
}

const timedOut = (): TableServiceError => new TableServiceError(500, 'OperationTimedOut', 'Operation could not be completed within the specified time.');
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface StoredRow {
  props: Props;
  version: number;
}

/**
 * One slice of a partition kept outside memory (a sandbox state directory): rows in row-key
 * order, all ≥ `first` and below the next chunk's `first`, read when a request first needs them.
 */
export interface PartitionChunk {
  /** The chunk's lowest row key. */
  first: string;
  /** Opaque to the table service: where the owner keeps the chunk (a file name). */
  id: string;
  load(): [rowKey: string, props: Props][];
}

/**
 * A partition whose rows are loaded chunk by chunk as requests need them: a point read loads the
 * one chunk that can hold the row, a range query with a limit only the chunks it reaches. The
 * first write to the partition loads all of it. Chunks must be in row-key order.
 */
export class ChunkedPartition {
  constructor(readonly chunks: readonly PartitionChunk[]) {}
}

/** Per table, per partition key: the rows (rowKey → props), or a partition loaded by chunks. */
export type MemoryTablesInput = Record<string, Record<string, Record<string, Props> | ChunkedPartition>>;

class Partition {
  readonly rows = new Map<string, StoredRow>();
  private sorted: string[] | undefined;
  /** Chunks not loaded yet, in row-key order (undefined: everything is in `rows`). */
  private lazy: { chunk: PartitionChunk; keys: string[] | undefined }[] | undefined;
  /** The chunks this partition was loaded from, while nothing was written to it. */
  private clean: ChunkedPartition | undefined;

  constructor(
    private readonly nextVersion: () => number,
    source?: ChunkedPartition,
  ) {
    if (source && source.chunks.length > 0) {
      this.lazy = source.chunks.map((chunk) => ({ chunk, keys: undefined }));
      this.clean = source;
    }
  }

  /** The source chunks when the partition is unchanged since it was loaded, so its owner can keep them. */
  unchanged(): ChunkedPartition | undefined {
    return this.clean;
  }

  private loadChunk(index: number): string[] {
    const slot = this.lazy![index]!;
    if (slot.keys) return slot.keys;
    const keys: string[] = [];
    for (const [rowKey, props] of slot.chunk.load()) {
      this.rows.set(rowKey, { props, version: this.nextVersion() });
      keys.push(rowKey);
    }
    let ordered = true;
    for (let i = 1; i < keys.length && ordered; i++) ordered = (keys[i - 1] as string) < (keys[i] as string);
    slot.keys = ordered ? keys : keys.sort();
    return slot.keys;
  }

  /** Index of the chunk that can hold `rowKey` (the last one starting at or before it); -1 before the first. */
  private chunkFor(rowKey: string): number {
    const lazy = this.lazy!;
    let lo = 0;
    let hi = lazy.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (lazy[mid]!.chunk.first <= rowKey) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  private loadAll(): void {
    if (!this.lazy) return;
    for (let i = 0; i < this.lazy.length; i++) this.loadChunk(i);
    this.lazy = undefined;
    this.sorted = undefined;
  }

  row(rowKey: string): StoredRow | undefined {
    if (this.lazy) {
      const index = this.chunkFor(rowKey);
      if (index >= 0) this.loadChunk(index);
    }
    return this.rows.get(rowKey);
  }

  /** Every row, loading what is not loaded yet. */
  all(): Map<string, StoredRow> {
    this.loadAll();
    return this.rows;
  }

  /** Rows with `from ≤ rowKey < before`, in key order, loading only the chunks the caller reaches. */
  *range(from: string | undefined, before: string | undefined): Generator<[string, StoredRow]> {
    if (this.lazy) {
      const lazy = this.lazy;
      for (let i = from === undefined ? 0 : Math.max(0, this.chunkFor(from)); i < lazy.length; i++) {
        if (before !== undefined && lazy[i]!.chunk.first >= before) return;
        const keys = this.loadChunk(i);
        for (let k = from === undefined ? 0 : lowerBound(keys, from); k < keys.length; k++) {
          const rk = keys[k] as string;
          if (before !== undefined && rk >= before) return;
          yield [rk, this.rows.get(rk)!];
        }
      }
      return;
    }
    const keys = this.keys();
    for (let i = from === undefined ? 0 : lowerBound(keys, from); i < keys.length; i++) {
      const rk = keys[i] as string;
      if (before !== undefined && rk >= before) return;
      const stored = this.rows.get(rk);
      if (stored) yield [rk, stored];
    }
  }

  /** Row keys in order, kept sorted on insert (a 100,000-row pool is not re-sorted per new row). */
  private keys(): string[] {
    this.loadAll();
    this.sorted ??= [...this.rows.keys()].sort();
    return this.sorted;
  }

  set(rowKey: string, row: StoredRow): void {
    this.loadAll();
    this.clean = undefined;
    if (!this.rows.has(rowKey) && this.sorted) this.sorted.splice(lowerBound(this.sorted, rowKey), 0, rowKey);
    this.rows.set(rowKey, row);
  }
}

/** Index of the first key ≥ `rowKey` in sorted `keys` (binary search). */
function lowerBound(keys: readonly string[], rowKey: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((keys[mid] as string) < rowKey) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export type MemoryTablesSnapshot = Record<string, Record<string, Record<string, Props>>>;

export interface MemoryTableService {
  table(name: string): EntityTable;
  /** Plain data of every table (everything loaded). */
  snapshot(): MemoryTablesSnapshot;
  /**
   * What a sandbox state directory keeps: plain rows of every partition that was written to or
   * came as plain rows, and the very `ChunkedPartition` it was given for a partition that is
   * unchanged (loaded or not), so the owner can keep those chunks as they are.
   */
  snapshotForStorage(): MemoryTablesInput;
  /** Changes the injected faults (undefined: none) from the next request on. */
  setFaults(faults: TableFaults | undefined): void;
  /** How many faults were injected so far, by kind. */
  faultCounts(): TableFaultCounts;
}

const yieldToOthers = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function matches(props: Props, where: Where): boolean {
  if ('eq' in where) return props[where.eq[0]] === where.eq[1];
  if ('le' in where) {
    const value = props[where.le[0]];
    return typeof value === 'string' && value <= where.le[1];
  }
  if ('and' in where) return where.and.every((w) => matches(props, w));
  return where.or.some((w) => matches(props, w));
}

export function createMemoryTableService(initial: MemoryTablesInput = {}, options: { faults?: TableFaults } = {}): MemoryTableService {
  const tables = new Map<string, Map<string, Partition>>();
  const faults = new TableFaultPlan(options.faults);
  let version = 0;
  const etagOf = (v: number): string => `W/"v${v}"`;

  // A table of the initial snapshot is loaded when first used: `numbers list` on a kept sandbox
  // with 100,000 numbers never pays for the number history, and a chunked partition only for the
  // chunks a request reaches. The snapshot's row objects are taken over, not copied (the caller
  // hands them over; every write stores a new object).
  const nextVersion = (): number => ++version;
  const pending = new Map(Object.entries(initial));
  const tableData = (name: string): Map<string, Partition> => {
    let t = tables.get(name);
    if (!t) {
      t = new Map();
      tables.set(name, t);
      const partitions = pending.get(name);
      pending.delete(name);
      for (const [pk, rows] of Object.entries(partitions ?? {})) {
        if (rows instanceof ChunkedPartition) {
          t.set(pk, new Partition(nextVersion, rows));
          continue;
        }
        const partition = new Partition(nextVersion);
        for (const [rk, props] of Object.entries(rows)) partition.set(rk, { props, version: ++version });
        t.set(pk, partition);
      }
    }
    return t;
  };

  const table = (name: string): EntityTable => {
    const data = tableData(name);
    const rowOf = (partitionKey: string, rowKey: string, stored: StoredRow): Row => ({
      partitionKey,
      rowKey,
      etag: etagOf(stored.version),
      props: { ...stored.props },
    });
    /** A read's way to the service: a turn for others, then an injected 503 or a timeout (a read applies nothing). */
    const beforeRead = async (): Promise<void> => {
      await yieldToOthers();
      faults.beforeRequest();
      const timeout = faults.timeout();
      if (timeout) {
        await sleep(timeout.delayMs);
        throw timedOut();
      }
    };
    return {
      name,
      async ensure() {
        await yieldToOthers();
        faults.beforeRequest();
      },
      async get(partitionKey, rowKey) {
        await beforeRead();
        const stored = data.get(partitionKey)?.row(rowKey);
        return stored ? rowOf(partitionKey, rowKey, stored) : undefined;
      },
      async query(query: RowQuery) {
        await beforeRead();
        const out: Row[] = [];
        const pks = query.partitionKey !== undefined ? [query.partitionKey] : [...data.keys()].sort();
        for (const pk of pks) {
          const partition = data.get(pk);
          if (!partition) continue;
          for (const [rk, stored] of partition.range(query.rowKeyFrom, query.rowKeyBefore)) {
            if (query.where && !matches(stored.props, query.where)) continue;
            out.push(rowOf(pk, rk, stored));
            if (query.limit !== undefined && out.length >= query.limit) return out;
          }
        }
        return out;
      },
      async transact(partitionKey, ops: TableOp[]) {
        await yieldToOthers();
        if (ops.length === 0) return;
        const where = `${name}/${partitionKey}`;
        // The service validates the request before it looks at the rows.
        const refused =
          transactionRefusal(where, ops.map((op) => op.rowKey)) ??
          ops.map((op) => entityRefusal(`${where}/${op.rowKey}`, partitionKey, op.rowKey, op.props)).find((r) => r !== undefined);
        if (refused) throw refused;
        faults.beforeRequest();
        if (ops.some((op) => op.kind === 'replace') && faults.conditionalWriteFails()) {
          throw new EntityConflict(`${where}: 412 (injected)`);
        }
        const timeout = faults.timeout();
        if (timeout && !timeout.applied) {
          await sleep(timeout.delayMs);
          throw timedOut();
        }
        let partition = data.get(partitionKey);
        const current = (rk: string) => partition?.row(rk);
        for (const op of ops) {
          const existing = current(op.rowKey);
          if (op.kind === 'create' && existing) throw new EntityConflict(`${name}/${partitionKey}/${op.rowKey} exists`);
          if (op.kind === 'replace' && (!existing || etagOf(existing.version) !== op.etag)) {
            throw new EntityConflict(`${name}/${partitionKey}/${op.rowKey} changed`);
          }
        }
        if (!partition) {
          partition = new Partition(nextVersion);
          data.set(partitionKey, partition);
        }
        for (const op of ops) {
          const props: Props = {};
          for (const [k, v] of Object.entries(op.props)) if (v !== null) props[k] = v;
          partition.set(op.rowKey, { props, version: ++version });
        }
        if (timeout) {
          // Applied, but the answer is lost: the caller sees a timeout.
          await sleep(timeout.delayMs);
          throw timedOut();
        }
      },
    };
  };

  return {
    table,
    setFaults: (next) => faults.set(next),
    faultCounts: () => ({ ...faults.counts }),
    snapshot() {
      for (const name of [...pending.keys()]) tableData(name);
      const out: MemoryTablesSnapshot = {};
      for (const [name, partitions] of tables) {
        const t: Record<string, Record<string, Props>> = (out[name] = {});
        for (const [pk, partition] of partitions) {
          const rows: Record<string, Props> = (t[pk] = {});
          for (const [rk, stored] of partition.all()) rows[rk] = { ...stored.props };
        }
      }
      return out;
    },
    snapshotForStorage() {
      const out: MemoryTablesInput = Object.fromEntries(pending);
      for (const [name, partitions] of tables) {
        const t: Record<string, Record<string, Props> | ChunkedPartition> = (out[name] = {});
        for (const [pk, partition] of partitions) {
          const unchanged = partition.unchanged();
          if (unchanged) {
            t[pk] = unchanged;
            continue;
          }
          const rows: Record<string, Props> = (t[pk] = {});
          for (const [rk, stored] of partition.all()) rows[rk] = { ...stored.props };
        }
      }
      return out;
    },
  };
}
