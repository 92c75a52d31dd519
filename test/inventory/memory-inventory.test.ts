import { describe, expect, it } from 'vitest';
import { createEntityNumberInventory } from '../../shared/adapters/entity-number-inventory.js';
import { createMemoryNumberInventory } from '../../shared/adapters/memory-number-inventory.js';
import { createMemoryTableService } from '../../shared/adapters/memory-table-client.js';
import type { EntityTable, RowQuery } from '../../shared/adapters/table-client.js';
import { numberInventoryContract } from './number-inventory.contract.js';

numberInventoryContract('memory', () => createMemoryNumberInventory());

describe('the inventory without scans', () => {
  it('finds a user’s numbers and allocates from a busy pool without a partition scan', async () => {
    const service = createMemoryTableService();
    const queries: RowQuery[] = [];
    const base = service.table('numbers');
    const numbers: EntityTable = { ...base, query: (q) => (queries.push(q), base.query(q)) };
    const inventory = createEntityNumberInventory({ numbers, history: service.table('numberhistory') });
    const now = new Date('2026-11-02T08:00:00Z');
    await inventory.importPools([{ id: 'big', ranges: [{ from: '+31300000000', to: '+31300009999' }], quarantineDays: 90 }], { now });
    for (let i = 0; i < 300; i++) await inventory.allocate('big', `user-${i}`, { now, reservationTtlMs: 60_000 });
    queries.length = 0;
    expect((await inventory.list({ userId: 'user-7' })).map((n) => n.number)).toEqual(['+31300000007']);
    expect(queries).toEqual([]);
    await inventory.allocate('big', 'user-new', { now, reservationTtlMs: 60_000 });
    // One bounded look for the first free number from the pool's free hint, nothing else.
    expect(queries.map((q) => [q.partitionKey, q.limit])).toEqual([['big', 1]]);
  });
});
