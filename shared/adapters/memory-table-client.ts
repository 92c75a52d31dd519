import { EntityConflict, type EntityTable, type Props, type Row, type RowQuery, type TableOp, type Where } from './table-client.js';

/**
 * Table Storage semantics in memory: ETags are version counters, transactions are all or
 * nothing, and every call yields to the event loop first, so concurrent read-modify-write
 * races happen here exactly as they do against the real service.
 */

interface StoredRow {
  props: Props;
  version: number;
}

class Partition {
  readonly rows = new Map<string, StoredRow>();
  private sorted: string[] | undefined;

  keys(): string[] {
    this.sorted ??= [...this.rows.keys()].sort();
    return this.sorted;
  }

  set(rowKey: string, row: StoredRow): void {
    if (!this.rows.has(rowKey)) this.sorted = undefined;
    this.rows.set(rowKey, row);
  }
}

export type MemoryTablesSnapshot = Record<string, Record<string, Record<string, Props>>>;

export interface MemoryTableService {
  table(name: string): EntityTable;
  /** Plain data of every table, for a sandbox that keeps its state in a directory. */
  snapshot(): MemoryTablesSnapshot;
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

export function createMemoryTableService(initial: MemoryTablesSnapshot = {}): MemoryTableService {
  const tables = new Map<string, Map<string, Partition>>();
  let version = 0;
  const etagOf = (v: number): string => `W/"v${v}"`;

  // A table of the initial snapshot is loaded when first used: `numbers list` on a kept sandbox
  // with 100,000 numbers never pays for the number history. The snapshot's row objects are taken
  // over, not copied (the caller hands them over; every write stores a new object).
  const pending = new Map(Object.entries(initial));
  const tableData = (name: string): Map<string, Partition> => {
    let t = tables.get(name);
    if (!t) {
      t = new Map();
      tables.set(name, t);
      const partitions = pending.get(name);
      pending.delete(name);
      for (const [pk, rows] of Object.entries(partitions ?? {})) {
        const partition = new Partition();
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
    return {
      name,
      async ensure() {
        await yieldToOthers();
      },
      async get(partitionKey, rowKey) {
        await yieldToOthers();
        const stored = data.get(partitionKey)?.rows.get(rowKey);
        return stored ? rowOf(partitionKey, rowKey, stored) : undefined;
      },
      async query(query: RowQuery) {
        await yieldToOthers();
        const out: Row[] = [];
        const pks = query.partitionKey !== undefined ? [query.partitionKey] : [...data.keys()].sort();
        for (const pk of pks) {
          const partition = data.get(pk);
          if (!partition) continue;
          for (const rk of partition.keys()) {
            if (query.rowKeyFrom !== undefined && rk < query.rowKeyFrom) continue;
            if (query.rowKeyBefore !== undefined && rk >= query.rowKeyBefore) break;
            const stored = partition.rows.get(rk);
            if (!stored || (query.where && !matches(stored.props, query.where))) continue;
            out.push(rowOf(pk, rk, stored));
            if (query.limit !== undefined && out.length >= query.limit) return out;
          }
        }
        return out;
      },
      async transact(partitionKey, ops: TableOp[]) {
        await yieldToOthers();
        let partition = data.get(partitionKey);
        const current = (rk: string) => partition?.rows.get(rk);
        for (const op of ops) {
          const existing = current(op.rowKey);
          if (op.kind === 'create' && existing) throw new EntityConflict(`${name}/${partitionKey}/${op.rowKey} exists`);
          if (op.kind === 'replace' && (!existing || etagOf(existing.version) !== op.etag)) {
            throw new EntityConflict(`${name}/${partitionKey}/${op.rowKey} changed`);
          }
        }
        if (!partition) {
          partition = new Partition();
          data.set(partitionKey, partition);
        }
        for (const op of ops) {
          const props: Props = {};
          for (const [k, v] of Object.entries(op.props)) if (v !== null) props[k] = v;
          partition.set(op.rowKey, { props, version: ++version });
        }
      },
    };
  };

  return {
    table,
    snapshot() {
      const out: MemoryTablesSnapshot = Object.fromEntries(pending);
      for (const [name, partitions] of tables) {
        const t: Record<string, Record<string, Props>> = (out[name] = {});
        for (const [pk, partition] of partitions) {
          const rows: Record<string, Props> = (t[pk] = {});
          for (const [rk, stored] of partition.rows) rows[rk] = { ...stored.props };
        }
      }
      return out;
    },
  };
}
