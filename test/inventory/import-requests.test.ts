import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createEntityNumberInventory } from '../../shared/adapters/entity-number-inventory.js';
import { createMemoryTableService, type MemoryTableService } from '../../shared/adapters/memory-table-client.js';
import { azureEntityTable, createTableClient, type EntityTable, type TableOp } from '../../shared/adapters/table-client.js';
import type { PoolDefinition } from '../../shared/domain/numbers.js';
import { useAzurite } from '../helpers/azurite.js';

// `numbers import` of a large range must cost one entity group transaction per 100 numbers and
// table (Table Storage's limit), not a request per number, and an import that stopped half-way
// must be resumable by running it again. Counted, never timed.

const now = new Date('2026-11-02T08:00:00Z');
const actor = { now, correlationId: 'import-test' };
const pool = (from: string, to: string): PoolDefinition => ({ id: 'bulk', ranges: [{ from, to }], quarantineDays: 90 });
const thousand = pool('+31300000000', '+31300000999');

interface Transaction {
  table: string;
  partitionKey: string;
  ops: TableOp[];
}

interface Recorder {
  transactions: Transaction[];
  gets: number;
  queries: number;
  /** Makes the next transaction for which `when` holds fail (once) with a non-conflict error. */
  failOnce(when: (t: Transaction, nth: number) => boolean): void;
}

function recorded(service: MemoryTableService): { numbers: EntityTable; history: EntityTable; log: Recorder } {
  let failure: ((t: Transaction, nth: number) => boolean) | undefined;
  const log: Recorder = {
    transactions: [],
    gets: 0,
    queries: 0,
    failOnce(when) {
      failure = when;
    },
  };
  const wrap = (table: EntityTable): EntityTable => ({
    name: table.name,
    ensure: () => table.ensure(),
    get: (pk, rk) => {
      log.gets += 1;
      return table.get(pk, rk);
    },
    query: (q) => {
      log.queries += 1;
      return table.query(q);
    },
    transact: async (partitionKey, ops) => {
      const t = { table: table.name, partitionKey, ops };
      const nth = log.transactions.filter((x) => x.table === t.table && x.partitionKey === partitionKey).length + 1;
      if (failure?.(t, nth)) {
        failure = undefined;
        throw new Error('injected: the storage account stopped answering');
      }
      log.transactions.push(t);
      await table.transact(partitionKey, ops);
    },
  });
  return { numbers: wrap(service.table('numbers')), history: wrap(service.table('numberhistory')), log };
}

const inPartition = (log: Recorder, table: string, partitionKey: string): Transaction[] =>
  log.transactions.filter((t) => t.table === table && t.partitionKey === partitionKey);

describe('numbers import: one transaction per 100 numbers (memory twin)', () => {
  it('imports 1,000 numbers in 10 transactions of 100 per table, not a request per number', async () => {
    const { numbers, history, log } = recorded(createMemoryTableService());
    const inventory = createEntityNumberInventory({ numbers, history });
    const summary = await inventory.importPools([thousand], actor);
    expect(summary).toEqual({ poolsAdded: 1, poolsUpdated: 0, numbersAdded: 1000, numbersUnchanged: 0 });

    for (const [table, partitionKey] of [
      ['numbers', '~index'],
      ['numbers', 'bulk'],
      ['numberhistory', 'bulk'],
    ] as const) {
      const batches = inPartition(log, table, partitionKey);
      expect(batches.map((t) => t.ops.length), `${table}/${partitionKey}`).toEqual(Array(10).fill(100));
      expect(batches.flatMap((t) => t.ops).every((op) => op.kind === 'create')).toBe(true);
    }
    // Besides those 30: the layout marker and the pool row, once each.
    expect(log.transactions.filter((t) => t.ops.length === 1).map((t) => `${t.table}/${t.partitionKey}`).sort()).toEqual(['numbers/~meta', 'numbers/~pools']);
    expect(log.transactions).toHaveLength(32);
    expect(log.gets + log.queries).toBeLessThan(10);
  });

  it('writes nothing when the same range is imported again, and only the new numbers for a wider one', async () => {
    const { numbers, history, log } = recorded(createMemoryTableService());
    const inventory = createEntityNumberInventory({ numbers, history });
    await inventory.importPools([thousand], actor);
    log.transactions.length = 0;
    expect(await inventory.importPools([thousand], actor)).toEqual({ poolsAdded: 0, poolsUpdated: 0, numbersAdded: 0, numbersUnchanged: 1000 });
    expect(log.transactions).toEqual([]);

    expect(await inventory.importPools([pool('+31300000000', '+31300001499')], actor)).toMatchObject({ numbersAdded: 500, numbersUnchanged: 1000 });
    expect(inPartition(log, 'numbers', 'bulk').map((t) => t.ops.length)).toEqual(Array(5).fill(100));
    expect(inPartition(log, 'numberhistory', 'bulk').map((t) => t.ops.length)).toEqual(Array(5).fill(100));
  });

  it('resumes a stopped import: the re-run adds only the missing chunks, and every number is free once with one imported entry', async () => {
    const service = createMemoryTableService();
    const first = recorded(service);
    // The fourth batch of number rows fails (the account stopped answering, a process was killed).
    first.log.failOnce((t, nth) => t.table === 'numbers' && t.partitionKey === 'bulk' && nth === 4);
    await expect(createEntityNumberInventory({ numbers: first.numbers, history: first.history }).importPools([thousand], actor)).rejects.toThrow(/injected/);
    // Nothing is written after the failed import has returned.
    const writtenByFirst = first.log.transactions.length;
    await new Promise((resolve) => setImmediate(resolve));
    expect(first.log.transactions).toHaveLength(writtenByFirst);

    const again = recorded(service);
    const inventory = createEntityNumberInventory({ numbers: again.numbers, history: again.history });
    const summary = await inventory.importPools([thousand], actor);
    expect(summary.numbersAdded + summary.numbersUnchanged).toBe(1000);
    expect(summary.numbersAdded).toBeGreaterThanOrEqual(100);
    // Whole chunks of 100 were left, and the re-run wrote each once.
    expect(summary.numbersAdded % 100).toBe(0);
    expect(inPartition(again.log, 'numbers', 'bulk').map((t) => t.ops.length)).toEqual(Array(summary.numbersAdded / 100).fill(100));

    const [bulk] = await inventory.pools();
    expect(bulk).toMatchObject({ pool: 'bulk', total: 1000, counts: { free: 1000 } });
    const imported = new Map<string, number>();
    for (const row of await service.table('numberhistory').query({ partitionKey: 'bulk' })) {
      if (row.props['action'] === 'imported') imported.set(String(row.props['number']), (imported.get(String(row.props['number'])) ?? 0) + 1);
    }
    expect(imported.size).toBe(1000);
    expect([...imported.values()].every((n) => n === 1)).toBe(true);
  });

  it('lowers the free hint on a re-run to free numbers that a stopped import left below it', async () => {
    const service = createMemoryTableService();
    const first = recorded(service);
    const inventory = createEntityNumberInventory({ numbers: first.numbers, history: first.history });
    await inventory.importPools([pool('+31300000100', '+31300000199')], actor);
    // Allocations from the lowest numbers raise the pool's free hint above them.
    for (let i = 0; i < 40; i++) await inventory.allocate('bulk', `user-${i}`, { ...actor, reservationTtlMs: 86_400_000 });
    expect((await service.table('numbers').get('bulk', 'h:free'))?.props['from']).toMatch(/^n:/);
    // A wider import adds +31300000000…099 below the hint, then stops before it lowers the hint.
    first.log.failOnce((t) => t.partitionKey === 'bulk' && t.ops.some((op) => op.rowKey === 'h:free'));
    await expect(inventory.importPools([pool('+31300000000', '+31300000199')], actor)).rejects.toThrow(/injected/);

    const again = recorded(service);
    const resumed = createEntityNumberInventory({ numbers: again.numbers, history: again.history });
    expect(await resumed.importPools([pool('+31300000000', '+31300000199')], actor)).toMatchObject({ numbersAdded: 0, numbersUnchanged: 200 });
    const next = await resumed.allocate('bulk', 'user-new', { ...actor, reservationTtlMs: 86_400_000 });
    expect(next).toMatchObject({ ok: true, number: '+31300000000' });
  });
});

/** A loopback proxy in front of Azurite that counts the HTTP requests the SDK really sends. */
async function countingProxy(target: string): Promise<{ connectionString(base: string): string; requests: { method: string; path: string }[]; close(): Promise<void> }> {
  const upstream = new URL(target);
  const requests: { method: string; path: string }[] = [];
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method ?? '', path: decodeURIComponent((req.url ?? '').split('?')[0] ?? '') });
    const forward = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forward.on('error', (error) => res.destroy(error));
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    connectionString: (base) => base.replace(/TableEndpoint=http:\/\/127\.0\.0\.1:\d+\//, `TableEndpoint=http://127.0.0.1:${port}/`),
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('numbers import against Azurite: entity group transactions', () => {
  const azurite = useAzurite();

  it('imports 1,000 numbers in 30 batch requests and no request per number', async () => {
    const base = azurite.connectionString();
    const proxy = await countingProxy(/TableEndpoint=([^;]+)/.exec(base)?.[1] ?? '');
    try {
      const names = azurite.uniqueTableNames();
      const connection = { connectionString: proxy.connectionString(base) };
      const inventory = createEntityNumberInventory({
        numbers: azureEntityTable(createTableClient(connection, names.numbers)),
        history: azureEntityTable(createTableClient(connection, names.numberHistory)),
      });
      expect(await inventory.importPools([thousand], actor)).toMatchObject({ numbersAdded: 1000 });
      const batches = proxy.requests.filter((r) => r.path.endsWith('/$batch'));
      expect(batches).toHaveLength(30);
      // Besides the batches: creating the two tables, the layout marker (read, written), the index
      // and pool reads, the pool row. Not one request per number.
      expect(proxy.requests.length - batches.length).toBeLessThanOrEqual(12);
      const [bulk] = await inventory.pools();
      expect(bulk).toMatchObject({ pool: 'bulk', total: 1000, counts: { free: 1000 } });
    } finally {
      await proxy.close();
    }
  });
});
