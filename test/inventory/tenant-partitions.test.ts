import { describe, expect, it } from 'vitest';
import { createEntityNumberInventory } from '../../shared/adapters/entity-number-inventory.js';
import { createMemoryNumberInventory } from '../../shared/adapters/memory-number-inventory.js';
import { createMemoryTableService } from '../../shared/adapters/memory-table-client.js';
import { createTableNumberInventory } from '../../shared/adapters/table-number-inventory.js';
import type { EntityTable, RowQuery } from '../../shared/adapters/table-client.js';
import { useAzurite } from '../helpers/azurite.js';
import { numberInventoryContract } from './number-inventory.contract.js';
import { tenantPartitionsContract } from './tenant-partitions.contract.js';

const A = 'aaaaaaaa-0000-4000-8000-00000000000a';
const B = 'bbbbbbbb-0000-4000-8000-00000000000b';

tenantPartitionsContract('memory', () => {
  const service = createMemoryTableService();
  return (defaultTenantId) => createMemoryNumberInventory({ service, ...(defaultTenantId ? { defaultTenantId } : {}) });
});

const azurite = useAzurite();
tenantPartitionsContract('Azure Table Storage (Azurite)', () => {
  const tableNames = azurite.uniqueTableNames();
  return (defaultTenantId) => createTableNumberInventory({ connectionString: azurite.connectionString(), tableNames }, defaultTenantId ? { defaultTenantId } : {});
});

// Everything the inventory promises holds in a registered tenant's own partitions too.
numberInventoryContract('memory, a tenant other than the default one', () => createMemoryNumberInventory({ defaultTenantId: A }).forTenant(B));

describe("a tenant's inventory without scans", () => {
  it("finds a user's numbers and allocates in the tenant's own partitions with no table scan", async () => {
    const service = createMemoryTableService();
    const queries: RowQuery[] = [];
    const base = service.table('numbers');
    const numbers: EntityTable = { ...base, query: (q) => (queries.push(q), base.query(q)) };
    const inventory = createEntityNumberInventory({ numbers, history: service.table('numberhistory') }, { defaultTenantId: A }).forTenant(B);
    const now = new Date('2026-11-02T08:00:00Z');
    await inventory.importPools([{ id: 'big', ranges: [{ from: '+31300000000', to: '+31300001999' }], quarantineDays: 90 }], { now });
    for (let i = 0; i < 100; i++) await inventory.allocate('big', `user-${i}`, { now, reservationTtlMs: 60_000 });
    queries.length = 0;
    expect((await inventory.list({ userId: 'user-7' })).map((n) => n.number)).toEqual(['+31300000007']);
    expect(queries).toEqual([]);
    await inventory.allocate('big', 'user-new', { now, reservationTtlMs: 60_000 });
    expect(queries.map((q) => [q.partitionKey, q.limit])).toEqual([[`${B}|big`, 1]]);
    queries.length = 0;
    // Pool counts read the tenant's pools only, one partition each: never the whole table.
    await inventory.pools();
    expect(queries.every((q) => q.partitionKey !== undefined && (q.partitionKey.startsWith(`${B}|`)))).toBe(true);
  });
});
