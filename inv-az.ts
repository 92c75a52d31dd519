import { createEntityNumberInventory } from './shared/adapters/entity-number-inventory.js';
import { azureEntityTable, createTableClient } from './shared/adapters/table-client.js';
import { startAzurite } from './sandbox/azurite.js';
const az = await startAzurite({ inMemory: true, silent: true });
const counts: Record<string, number> = {};
const time: Record<string, number> = {};
const wrap = (t: any) => new Proxy(t, { get(o, k) { const v = o[k]; return typeof v === 'function' ? async (...a: any[]) => { counts[String(k)] = (counts[String(k)] ?? 0) + 1; const s = performance.now(); try { return await v.apply(o, a); } finally { time[String(k)] = (time[String(k)] ?? 0) + performance.now() - s; } } : v; } });
const c = { connectionString: az.connectionString };
const inv = createEntityNumberInventory({ numbers: wrap(azureEntityTable(createTableClient(c, 'numbersx'))), history: azureEntityTable(createTableClient(c, 'historyx')) });
const now = new Date('2026-11-02T08:00:00Z');
await inv.importPools([{ id: 'big', ranges: [{ from: '+31301000000', to: '+31301000149' }], quarantineDays: 30 }], { now });
for (const k of Object.keys(counts)) { delete counts[k]; delete time[k]; }
const t = performance.now();
const out = await Promise.all(Array.from({ length: Number(process.argv[2] ?? 200) }, (_, i) => inv.allocate('big', `user-${i}`, { now, reservationTtlMs: 900000 })));
console.log(out.filter((o) => o.ok).length, Math.round(performance.now() - t), 'ms', counts, Object.fromEntries(Object.entries(time).map(([k, v]) => [k, Math.round(v / counts[k]!)])));
await az.stop();
