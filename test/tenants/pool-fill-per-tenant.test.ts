import { describe, expect, it } from 'vitest';
import { createMemoryNumberInventory } from '../../shared/adapters/memory-number-inventory.js';
import { reportPoolFill } from '../../shared/usecases/report-pool-fill.js';
import { metricNames } from '../../shared/telemetry/names.js';
import { otelHarness } from '../telemetry/otel-harness.js';

const A = 'aaaaaaaa-0000-4000-8000-00000000000a';
const B = 'bbbbbbbb-0000-4000-8000-00000000000b';
const now = new Date('2026-11-02T08:00:00Z');

describe('pool fill per tenant', () => {
  it("reports every tenant's own pools with its tenant, also two pools of the same id, the default tenant's once", async () => {
    const inventory = createMemoryNumberInventory({ defaultTenantId: A });
    await inventory.forTenant(A).importPools([{ id: 'ams', ranges: [{ from: '+31201234000', to: '+31201234009' }], quarantineDays: 30 }], { now });
    await inventory.forTenant(B).importPools([{ id: 'ams', ranges: [{ from: '+32201234000', to: '+32201234003' }], quarantineDays: 30 }], { now });
    await inventory.forTenant(B).allocate('ams', 'u1', { now, reservationTtlMs: 60_000 });
    const harness = otelHarness();
    // The registry lists A (the deployment's own tenant) and B; A's inventory is the default one.
    await reportPoolFill({ inventory, telemetry: harness.telemetry, tenants: async () => [A, B], defaultTenantId: A });
    await harness.collect();
    const points = harness.metric(metricNames.poolUsedRatio).map((p) => [p.attributes['dialtone.tenant'], p.attributes['dialtone.pool'], p.value]);
    expect(points.sort()).toEqual([
      [A, 'ams', 0],
      [B, 'ams', 0.25],
    ]);
  });

  it('reports a single-tenant deployment as before: its pools, without a tenant dimension', async () => {
    const inventory = createMemoryNumberInventory();
    await inventory.importPools([{ id: 'ams', ranges: [{ from: '+31201234000', to: '+31201234009' }], quarantineDays: 30 }], { now });
    const harness = otelHarness();
    await reportPoolFill({ inventory, telemetry: harness.telemetry, tenants: async () => [] });
    await harness.collect();
    expect(harness.metric(metricNames.poolUsedRatio).map((p) => [p.attributes['dialtone.tenant'], p.attributes['dialtone.pool'], p.value])).toEqual([[undefined, 'ams', 0]]);
  });
});
