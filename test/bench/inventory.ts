/**
 * `npm run bench:inventory [-- --json] [-- --adapters memory,azurite] [-- --allocations N] [-- --pool-size N]`:
 * the number inventory under concurrent allocation, on 100,000-number pools, in the memory twin
 * and in Azurite (Table Storage), at 8, 32 and 128 concurrent allocators.
 *
 * Stable export for `npm run bench` (test/bench/bench.ts):
 *
 *   runInventoryBench(options?: InventoryBenchOptions): Promise<InventoryBenchResult>
 *
 * `InventoryBenchResult` is `{ poolSize, allocationsPerLevel, runs: InventoryBenchRun[], imports }` with one
 * run per adapter and concurrency level: `{ adapter, concurrency, allocations, poolFreeBefore,
 * seconds, allocationsPerSecond, p50Ms, p95Ms, tableCallsPerAllocation, queriesPerAllocation,
 * raceLossesPerAllocation, lookup: { tableCalls, queries } }`. `lookup` is what one
 * `list({ userId })` (the call `plan` makes) costs once the pool is busy: point reads only, so
 * `queries` is 0. `imports` has one entry per adapter: `{ adapter, numbers, seconds, numbersPerSecond,
 * transactions, queries }`, what importing the pool through `importPools` cost (transactions of up
 * to 100 rows, numbers and history tables). Progress lines go to stderr. Times depend on the
 * machine; the call counts do not. Azurite keeps a partition as one list it searches linearly for
 * every row written or read, so on Azurite both grow with the pool (docs/PERFORMANCE.md).
 */
import { performance } from 'node:perf_hooks';
import { createEntityNumberInventory } from '../../shared/adapters/entity-number-inventory.js';
import { createMemoryTableService } from '../../shared/adapters/memory-table-client.js';
import { azureEntityTable, createTableClient, type EntityTable } from '../../shared/adapters/table-client.js';
import type { PoolDefinition } from '../../shared/domain/numbers.js';
import type { NumberInventory } from '../../shared/ports/number-inventory.js';
import { startAzurite } from '../../sandbox/azurite.js';

export type InventoryBenchAdapter = 'memory' | 'azurite';

export interface InventoryBenchOptions {
  adapters?: InventoryBenchAdapter[];
  concurrency?: number[];
  /** Allocations per concurrency level (each level allocates for new users on the same pool). */
  allocations?: number;
  poolSize?: number;
}

export interface InventoryBenchRun {
  adapter: InventoryBenchAdapter;
  concurrency: number;
  allocations: number;
  poolFreeBefore: number;
  seconds: number;
  allocationsPerSecond: number;
  p50Ms: number;
  p95Ms: number;
  tableCallsPerAllocation: number;
  queriesPerAllocation: number;
  raceLossesPerAllocation: number;
  lookup: { tableCalls: number; queries: number };
}

/** What importing the pool cost, per adapter: the production import path (`importPools`). */
export interface InventoryBenchImport {
  adapter: InventoryBenchAdapter;
  numbers: number;
  seconds: number;
  numbersPerSecond: number;
  /** Table requests the import made (numbers and history tables): batches of up to 100 rows. */
  transactions: number;
  queries: number;
}

export interface InventoryBenchResult {
  poolSize: number;
  allocationsPerLevel: number;
  runs: InventoryBenchRun[];
  imports: InventoryBenchImport[];
}

interface Counts {
  get: number;
  query: number;
  transact: number;
  conflicts: number;
}

/** Counts every call the inventory makes on a table (and every lost optimistic-concurrency race). */
function counted(table: EntityTable, counts: Counts): EntityTable {
  return {
    name: table.name,
    ensure: () => table.ensure(),
    get: (pk, rk) => {
      counts.get += 1;
      return table.get(pk, rk);
    },
    query: (q) => {
      counts.query += 1;
      return table.query(q);
    },
    transact: async (pk, ops) => {
      counts.transact += 1;
      try {
        await table.transact(pk, ops);
      } catch (error) {
        if ((error as { name?: string }).name === 'EntityConflict') counts.conflicts += 1;
        throw error;
      }
    },
  };
}

const zero = (): Counts => ({ get: 0, query: 0, transact: 0, conflicts: 0 });

function poolOf(size: number): PoolDefinition {
  const last = 31_300_000_000 + size - 1;
  return { id: 'bench', ranges: [{ from: '+31300000000', to: `+${last}` }], quarantineDays: 90 };
}

async function withRunningLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
const round = (n: number, digits = 2): number => Math.round(n * 10 ** digits) / 10 ** digits;

const progress = (line: string): void => {
  process.stderr.write(`inventory bench: ${line}\n`);
};

async function benchAdapter(adapter: InventoryBenchAdapter, options: Required<InventoryBenchOptions>): Promise<{ runs: InventoryBenchRun[]; imported: InventoryBenchImport }> {
  const counts = zero();
  const historyCounts = zero();
  let stop = async (): Promise<void> => undefined;
  let inventory: NumberInventory;
  if (adapter === 'memory') {
    const service = createMemoryTableService();
    inventory = createEntityNumberInventory({ numbers: counted(service.table('numbers'), counts), history: counted(service.table('numberhistory'), historyCounts) });
  } else {
    const azurite = await startAzurite({ inMemory: true, silent: true });
    stop = () => azurite.stop();
    const connection = { connectionString: azurite.connectionString };
    inventory = createEntityNumberInventory({
      numbers: counted(azureEntityTable(createTableClient(connection, 'benchnumbers')), counts),
      history: counted(azureEntityTable(createTableClient(connection, 'benchnumberhistory')), historyCounts),
    });
  }
  const now = new Date('2026-11-02T08:00:00Z');
  const actor = { now, correlationId: 'bench', reservationTtlMs: 86_400_000 };
  try {
    progress(`${adapter}: importing a ${options.poolSize}-number pool …`);
    const importStarted = performance.now();
    await inventory.importPools([poolOf(options.poolSize)], { now, correlationId: 'bench' });
    const importSeconds = (performance.now() - importStarted) / 1000;
    const imported: InventoryBenchImport = {
      adapter,
      numbers: options.poolSize,
      seconds: round(importSeconds),
      numbersPerSecond: round(options.poolSize / importSeconds, 1),
      transactions: counts.transact + historyCounts.transact,
      queries: counts.query + historyCounts.query,
    };
    progress(`${adapter}: imported in ${imported.seconds} s (${imported.numbersPerSecond} numbers/s, ${imported.transactions} transactions)`);
    const runs: InventoryBenchRun[] = [];
    let user = 0;
    let allocated = 0;
    for (const concurrency of options.concurrency) {
      const users = Array.from({ length: options.allocations }, () => `bench-user-${++user}`);
      Object.assign(counts, zero());
      const latencies: number[] = [];
      const started = performance.now();
      await withRunningLimit(users, concurrency, async (userId) => {
        const t = performance.now();
        const outcome = await inventory.allocate('bench', userId, actor);
        if (!outcome.ok) throw new Error(`bench pool ran out: ${outcome.message}`);
        latencies.push(performance.now() - t);
      });
      const seconds = (performance.now() - started) / 1000;
      const calls = { ...counts };
      Object.assign(counts, zero());
      await inventory.list({ userId: users[0] as string });
      const lookup = { tableCalls: counts.get + counts.query + counts.transact, queries: counts.query };
      latencies.sort((a, b) => a - b);
      runs.push({
        adapter,
        concurrency,
        allocations: users.length,
        poolFreeBefore: options.poolSize - allocated,
        seconds: round(seconds),
        allocationsPerSecond: round(users.length / seconds, 1),
        p50Ms: round(percentile(latencies, 0.5), 1),
        p95Ms: round(percentile(latencies, 0.95), 1),
        tableCallsPerAllocation: round((calls.get + calls.query + calls.transact) / users.length),
        queriesPerAllocation: round(calls.query / users.length),
        raceLossesPerAllocation: round(calls.conflicts / users.length),
        lookup,
      });
      allocated += users.length;
      progress(`${adapter} ×${concurrency}: ${runs.at(-1)?.allocationsPerSecond} allocations/s`);
    }
    return { runs, imported };
  } finally {
    await stop();
  }
}

/** Runs the inventory benchmark and returns its figures (see the header for their shape). */
export async function runInventoryBench(options: InventoryBenchOptions = {}): Promise<InventoryBenchResult> {
  const full: Required<InventoryBenchOptions> = {
    adapters: options.adapters ?? ['memory', 'azurite'],
    concurrency: options.concurrency ?? [8, 32, 128],
    allocations: options.allocations ?? 1000,
    poolSize: options.poolSize ?? 100_000,
  };
  const runs: InventoryBenchRun[] = [];
  const imports: InventoryBenchImport[] = [];
  for (const adapter of full.adapters) {
    const done = await benchAdapter(adapter, full);
    runs.push(...done.runs);
    imports.push(done.imported);
  }
  return { poolSize: full.poolSize, allocationsPerLevel: full.allocations, runs, imports };
}

function argument(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (invokedDirectly) {
  const adapters = argument('adapters')?.split(',') as InventoryBenchAdapter[] | undefined;
  const allocations = argument('allocations');
  const poolSize = argument('pool-size');
  const result = await runInventoryBench({
    ...(adapters ? { adapters } : {}),
    ...(allocations ? { allocations: Number(allocations) } : {}),
    ...(poolSize ? { poolSize: Number(poolSize) } : {}),
  });
  if (process.argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } else {
    process.stdout.write(`number inventory: ${result.allocationsPerLevel} allocations per level on a ${result.poolSize}-number pool\n`);
    process.stdout.write('adapter  concurrency  free before  alloc/s  p50 ms  p95 ms  calls/alloc  queries/alloc  races/alloc  lookup calls (queries)\n');
    for (const r of result.runs) {
      process.stdout.write(
        `${r.adapter.padEnd(8)} ${String(r.concurrency).padStart(11)}  ${String(r.poolFreeBefore).padStart(11)}  ${String(r.allocationsPerSecond).padStart(7)}  ${String(r.p50Ms).padStart(6)}  ${String(r.p95Ms).padStart(6)}  ${String(r.tableCallsPerAllocation).padStart(11)}  ${String(r.queriesPerAllocation).padStart(13)}  ${String(r.raceLossesPerAllocation).padStart(11)}  ${r.lookup.tableCalls} (${r.lookup.queries})\n`,
      );
    }
  }
}
