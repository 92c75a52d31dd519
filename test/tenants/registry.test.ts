import { describe, expect, it } from 'vitest';
import { createMemoryTenantRegistry } from '../../shared/adapters/entity-tenant-registry.js';
import { createMemoryTableService } from '../../shared/adapters/memory-table-client.js';
import { createMemoryProvisioningRecords } from '../../shared/adapters/memory-provisioning-records.js';
import { createMemoryNumberInventory } from '../../shared/adapters/memory-number-inventory.js';
import { implicitTenant, routeToTenant, effectiveTenants, type TenantInput } from '../../shared/domain/tenants.js';
import { listTenants, removeTenant } from '../../shared/usecases/manage-tenants.js';

const A = '11111111-1111-4111-8111-111111111111';
const B = '22222222-2222-4222-8222-222222222222';
const APP = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const now = new Date('2026-12-01T10:00:00Z');

const contoso: TenantInput = { tenantId: A, displayName: 'Contoso', applicationId: APP, certificateName: 'contoso-teams', pools: ['ams'], upnDomains: ['contoso.example'] };
const fabrikam: TenantInput = { tenantId: B, displayName: 'Fabrikam', applicationId: APP, certificateName: 'fabrikam-teams', pools: ['fab-ams'], upnDomains: ['fabrikam.example'], sessionLimit: 2 };

describe('the tenant registry', () => {
  it('keeps what it is given, with defaults and bounds', async () => {
    const registry = createMemoryTenantRegistry(createMemoryTableService());
    const added = await registry.add(contoso, now);
    expect(added).toMatchObject({ tenantId: A, sessionLimit: 3, pools: ['ams'], createdAt: now.toISOString() });
    // No Teams backend given: the deployment's applies (docs/MULTI-TENANT.md).
    expect(added.teamsBackend).toBeUndefined();
    expect(await registry.get(A.toUpperCase())).toEqual(added);
    expect((await registry.list()).map((t) => t.tenantId)).toEqual([A]);
  });

  it('refuses bad fields naming them', async () => {
    const registry = createMemoryTenantRegistry(createMemoryTableService());
    await expect(registry.add({ ...contoso, tenantId: 'contoso' }, now)).rejects.toThrow(/tenantId: must be the Entra tenant id \(a GUID\)/);
    await expect(registry.add({ ...contoso, sessionLimit: 11 }, now)).rejects.toThrow(/sessionLimit: /);
    await expect(registry.add({ ...contoso, certificateName: 'has space' }, now)).rejects.toThrow(/certificateName: must be a Key Vault certificate name/);
    await expect(registry.add({ ...contoso, pools: ['ams', 'ams'] }, now)).rejects.toThrow(/pools: must not name the same value twice/);
    await expect(registry.add({ ...contoso, correlationStrategies: [] }, now)).rejects.toThrow(/correlationStrategies/);
    expect(await registry.list()).toEqual([]);
  });

  it('gives a UPN domain to one tenant only, and lets two tenants name the same pool id (each has its own inventory)', async () => {
    const registry = createMemoryTenantRegistry(createMemoryTableService());
    await registry.add(contoso, now);
    await expect(registry.add({ ...fabrikam, upnDomains: ['CONTOSO.example'] }, now)).rejects.toThrow(`UPN domain contoso.example already routes to tenant ${A} (Contoso)`);
    await registry.add({ ...fabrikam, pools: ['ams'] }, now);
    await expect(registry.update(B, { upnDomains: ['fabrikam.example', 'contoso.example'] }, now)).rejects.toThrow(/UPN domain contoso.example already routes/);
    expect((await registry.list()).map((t) => t.pools)).toEqual([['ams'], ['ams']]);
  });

  it('lets only one of two racing registrations claim a UPN domain', async () => {
    const registry = createMemoryTenantRegistry(createMemoryTableService());
    const results = await Promise.allSettled([registry.add({ ...contoso, upnDomains: ['shared.example'] }, now), registry.add({ ...fabrikam, upnDomains: ['shared.example'] }, now)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect((await registry.list()).flatMap((t) => t.upnDomains)).toEqual(['shared.example']);
  });

  it('updates only the fields given and refuses an unknown tenant', async () => {
    const registry = createMemoryTenantRegistry(createMemoryTableService());
    await registry.add(contoso, now);
    const later = new Date(now.getTime() + 60_000);
    const updated = await registry.update(A, { sessionLimit: 5 }, later);
    expect(updated).toMatchObject({ sessionLimit: 5, certificateName: 'contoso-teams', createdAt: now.toISOString(), updatedAt: later.toISOString() });
    await expect(registry.update(B, { sessionLimit: 5 }, later)).rejects.toThrow(`tenant ${B} is not registered`);
  });

  it('removes a tenant, leaves a tombstone and can register it again', async () => {
    const service = createMemoryTableService();
    const registry = createMemoryTenantRegistry(service);
    await registry.add(contoso, now);
    expect(await registry.remove(A, now)).toBe(true);
    expect(await registry.remove(A, now)).toBe(false);
    expect(await registry.list()).toEqual([]);
    expect(service.snapshot()['tenants']?.['tenant']?.[A]).toMatchObject({ removedAt: now.toISOString() });
    await registry.add(contoso, now);
    expect((await registry.list()).map((t) => t.tenantId)).toEqual([A]);
  });
});

describe('a single-tenant deployment', () => {
  it('serves one implicit tenant made from its settings while nothing is registered', async () => {
    const registry = createMemoryTenantRegistry(createMemoryTableService());
    const implicit = implicitTenant({ tenantId: A, applicationId: APP, certificateName: 'dialtone-worker' });
    expect(await listTenants({ registry, implicit })).toEqual([expect.objectContaining({ tenantId: A, source: 'implicit', certificateName: 'dialtone-worker' })]);
    await registry.add(fabrikam, now);
    expect((await listTenants({ registry, implicit })).map((t) => [t.tenantId, t.source])).toEqual([[B, 'registry']]);
  });

  it('routes every event to the implicit tenant, with or without a UPN', () => {
    const tenants = [implicitTenant({ tenantId: A })];
    expect(routeToTenant({ person: {} }, tenants)).toEqual({ ok: true, tenantId: A, by: 'implicit' });
    expect(routeToTenant({ person: { userPrincipalName: 'x@anything.example' } }, tenants)).toEqual({ ok: true, tenantId: A, by: 'implicit' });
  });
});

describe('routing an HR event to its tenant', () => {
  const tenants = effectiveTenants(
    [
      { ...contoso, pools: ['ams'], upnDomains: ['contoso.example'], teamsBackend: 'powershell', sessionLimit: 3, createdAt: '', updatedAt: '' },
      { ...fabrikam, pools: ['fab-ams'], upnDomains: ['fabrikam.example'], teamsBackend: 'powershell', sessionLimit: 2, createdAt: '', updatedAt: '' },
    ],
    implicitTenant({ tenantId: undefined }),
  );

  it('takes the tenantId the event names', () => {
    expect(routeToTenant({ tenantId: B.toUpperCase(), person: { userPrincipalName: 'anna@contoso.example' } }, tenants)).toEqual({ ok: true, tenantId: B, by: 'event' });
  });

  it('refuses a tenantId that is not a tenant of the deployment', () => {
    const r = routeToTenant({ tenantId: '33333333-3333-4333-8333-333333333333', person: {} }, tenants);
    expect(r).toEqual({ ok: false, reason: expect.stringContaining('is not a tenant of this deployment') });
  });

  it('routes by the UPN domain (or mail) when the event names no tenant', () => {
    expect(routeToTenant({ person: { userPrincipalName: 'anna@Fabrikam.example' } }, tenants)).toEqual({ ok: true, tenantId: B, by: 'upnDomain' });
    expect(routeToTenant({ person: { mail: 'anna@contoso.example' } }, tenants)).toEqual({ ok: true, tenantId: A, by: 'upnDomain' });
  });

  it('refuses an event it cannot place among several tenants, saying what to add', () => {
    const r = routeToTenant({ person: { userPrincipalName: 'anna@elsewhere.example' } }, tenants);
    expect(r).toEqual({ ok: false, reason: expect.stringMatching(/names no tenantId.*2 tenants are registered.*add "tenantId"/) });
  });
});

describe('removing a tenant', () => {
  it('is refused while it holds people with voice or numbers, naming them', async () => {
    const service = createMemoryTableService();
    const registry = createMemoryTenantRegistry(service);
    const records = createMemoryProvisioningRecords({ service });
    const inventory = createMemoryNumberInventory({ service, defaultTenantId: A });
    await registry.add(contoso, now);
    await registry.add(fabrikam, now);
    await records.update('user-b1', () => ({
      userId: 'user-b1',
      tenantId: B,
      userPrincipalName: 'anna@fabrikam.example',
      lastApplied: { enterpriseVoiceEnabled: true, phoneNumber: '+31201234000', phoneNumberType: 'DirectRouting', policies: {} },
      lastAppliedAt: now.toISOString(),
      lastCommandId: 'c1',
      lastEventAt: null,
      lastEventId: null,
      history: [],
    }));
    const deps = { registry, implicit: implicitTenant({ tenantId: A }), records: async () => records, inventory: async () => inventory };
    const refused = await removeTenant(deps, B, now);
    expect(refused).toMatchObject({ removed: false, reason: `tenant ${B} (Fabrikam) still holds 1 people with voice (anna@fabrikam.example): take their voice off first, then remove the tenant` });
    expect(await registry.get(B)).toBeDefined();
    // Contoso's people are not Fabrikam's: it can go.
    expect(await removeTenant(deps, A, now)).toMatchObject({ removed: true });
  });

  it("counts the numbers in use in the tenant's own inventory, whatever its registry row lists", async () => {
    const service = createMemoryTableService();
    const registry = createMemoryTenantRegistry(service);
    const records = createMemoryProvisioningRecords({ service });
    const inventory = createMemoryNumberInventory({ service, defaultTenantId: A });
    await registry.add({ ...contoso, pools: ['ams'] }, now);
    await registry.add({ ...fabrikam, pools: [] }, now);
    // Both have a pool ams; only Fabrikam's holds a reservation.
    await inventory.forTenant(A).importPools([{ id: 'ams', ranges: [{ from: '+31201234000', to: '+31201234009' }], quarantineDays: 30 }], { now });
    await inventory.forTenant(B).importPools([{ id: 'ams', ranges: [{ from: '+32201234000', to: '+32201234009' }], quarantineDays: 30 }], { now });
    await inventory.forTenant(B).allocate('ams', 'user-b1', { now, reservationTtlMs: 60_000 });
    const deps = { registry, implicit: implicitTenant({ tenantId: A }), records: async () => records, inventory: async () => inventory };
    expect(await removeTenant(deps, B, now)).toMatchObject({ removed: false, reason: `tenant ${B} (Fabrikam) still holds 1 numbers reserved or assigned in its pools: take their voice off first, then remove the tenant` });
    expect(await removeTenant(deps, A, now)).toMatchObject({ removed: true });
  });

  it('counts a record without a tenantId as the default tenant\'s (data from before the registry)', async () => {
    const service = createMemoryTableService();
    const registry = createMemoryTenantRegistry(service);
    const records = createMemoryProvisioningRecords({ service });
    await registry.add(contoso, now);
    await records.update('legacy', () => ({
      userId: 'legacy',
      userPrincipalName: 'old@contoso.example',
      lastApplied: null,
      lastAppliedAt: null,
      lastCommandId: null,
      lastEventAt: null,
      lastEventId: null,
      lifecycle: { state: 'active', at: now.toISOString(), eventId: 'e1' },
      history: [],
    }));
    const deps = { registry, implicit: implicitTenant({ tenantId: A }), records: async () => records, inventory: async () => createMemoryNumberInventory({ service, defaultTenantId: A }) };
    expect(await removeTenant(deps, A, now)).toMatchObject({ removed: false, reason: expect.stringContaining('old@contoso.example') });
  });
});

describe('updating a tenant', () => {
  it('keeps the fields not given, even those with defaults', async () => {
    const registry = createMemoryTenantRegistry(createMemoryTableService());
    await registry.add(fabrikam, now);
    const updated = await registry.update(B, { teamsBackend: 'graph' }, now);
    expect(updated).toMatchObject({ teamsBackend: 'graph', sessionLimit: 2, pools: ['fab-ams'], upnDomains: ['fabrikam.example'] });
  });
});
