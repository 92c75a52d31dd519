import { describe, expect, it, vi } from 'vitest';
import { createMemoryTenantRegistry } from '../../shared/adapters/entity-tenant-registry.js';
import { createMemoryTableService } from '../../shared/adapters/memory-table-client.js';
import { cachedTenants } from '../../shared/composition/cached-tenants.js';
import type { TenantInput } from '../../shared/domain/tenants.js';
import type { TenantRegistry } from '../../shared/ports/tenant-registry.js';

const A = '11111111-1111-4111-8111-111111111111';
const B = '22222222-2222-4222-8222-222222222222';
const APP = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const HOME = '33333333-3333-4333-8333-333333333333';
const at = new Date('2026-12-01T10:00:00Z');
const contoso: TenantInput = { tenantId: A, displayName: 'Contoso', applicationId: APP, certificateName: 'contoso-teams', pools: ['ams'], upnDomains: ['contoso.example'] };
const fabrikam: TenantInput = { tenantId: B, displayName: 'Fabrikam', applicationId: APP, certificateName: 'fabrikam-teams', pools: ['fab-ams'], upnDomains: ['fabrikam.example'] };

/** The memory registry, whose reads can be made to hang or fail. */
function controllable() {
  const inner = createMemoryTenantRegistry(createMemoryTableService());
  let mode: 'ok' | 'hang' | 'fail' = 'ok';
  let reads = 0;
  const registry: TenantRegistry = {
    ...inner,
    list: () => {
      reads += 1;
      if (mode === 'hang') return new Promise(() => undefined);
      if (mode === 'fail') return Promise.reject(Object.assign(new Error('Table answered 503'), { statusCode: 503 }));
      return inner.list();
    },
  };
  return { inner, registry, set: (m: typeof mode) => (mode = m), reads: () => reads };
}

const ids = (list: readonly { tenantId: string }[]) => list.map((t) => t.tenantId).sort();

describe('the tenants in force, cached', () => {
  it('for the webhook: answers with the last list at once while a read hangs or fails, and takes the new list once a read succeeds', async () => {
    let now = 0;
    const c = controllable();
    await c.inner.add(contoso, at);
    const tenants = cachedTenants(c.registry, HOME, { now: () => now, staleWhileRefreshing: true });
    expect(ids(await tenants())).toEqual([A]);
    await c.inner.add(fabrikam, at);
    // The Table hangs past the TTL: the webhook still answers at once, with the list it has.
    c.set('hang');
    now = 61_000;
    expect(ids(await tenants())).toEqual([A]);
    expect(ids(await tenants())).toEqual([A]);
    expect(c.reads()).toBe(2); // one read in flight, not one per call
    // A failing Table: the list it has stays in use.
    const failing = controllable();
    await failing.inner.add(contoso, at);
    const other = cachedTenants(failing.registry, HOME, { now: () => now, staleWhileRefreshing: true });
    expect(ids(await other())).toEqual([A]);
    failing.set('fail');
    now = 200_000;
    expect(ids(await other())).toEqual([A]);
    failing.set('ok');
    await failing.inner.add(fabrikam, at);
    now = 200_001;
    expect(ids(await other())).toEqual([A]); // the last list, at once, while the Table recovers…
    // …and, once a read has succeeded (however many event-loop turns the memory table takes), the new tenant.
    await vi.waitFor(async () => expect(ids(await other())).toEqual([A, B]), { timeout: 10_000, interval: 10 });
  });

  it('for the stages: waits for the read once the list is stale, and a failed read fails the call and is read again on the next', async () => {
    let now = 0;
    const c = controllable();
    await c.inner.add(contoso, at);
    const tenants = cachedTenants(c.registry, HOME, { now: () => now });
    expect(ids(await tenants())).toEqual([A]);
    now = 30_000;
    expect(ids(await tenants())).toEqual([A]);
    expect(c.reads()).toBe(1);
    await c.inner.add(fabrikam, at);
    c.set('fail');
    now = 61_000;
    await expect(tenants()).rejects.toThrow(/503/);
    c.set('ok');
    expect(ids(await tenants())).toEqual([A, B]);
    expect(c.reads()).toBe(3);
  });

  it('routes everything to the implicit home tenant while nothing is registered', async () => {
    const c = controllable();
    expect(ids(await cachedTenants(c.registry, HOME, { staleWhileRefreshing: true })())).toEqual([HOME]);
  });
});
