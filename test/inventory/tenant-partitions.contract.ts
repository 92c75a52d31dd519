import { describe, expect, it } from 'vitest';
import { isDialtoneError } from '../../shared/domain/errors.js';
import type { PoolDefinition } from '../../shared/domain/numbers.js';
import type { AllocationOutcome, NumberInventory } from '../../shared/ports/number-inventory.js';

/**
 * The inventory partitioned per tenant (docs/NUMBERS.md "Tenants"), against every adapter.
 * `open(defaultTenantId)` opens the SAME tables again, as a process restarted with (or without)
 * DIALTONE_TENANT_ID would: what one opening wrote, the next one reads.
 */
export type OpenInventory = (defaultTenantId?: string) => NumberInventory;
export type FreshTables = () => OpenInventory;

const A = 'aaaaaaaa-0000-4000-8000-00000000000a';
const B = 'bbbbbbbb-0000-4000-8000-00000000000b';
const C = 'cccccccc-0000-4000-8000-00000000000c';
const TTL = 15 * 60_000;
const now = new Date('2026-11-02T08:00:00Z');
const actor = { now, correlationId: 'corr-t' };

const amsOf = (from: string, to: string): PoolDefinition => ({ id: 'ams', ranges: [{ from, to }], quarantineDays: 30 });

function numberOf(outcome: AllocationOutcome): string {
  if (!outcome.ok) throw new Error(`expected a number, got ${outcome.reason}: ${outcome.message}`);
  return outcome.number;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

export function tenantPartitionsContract(name: string, fresh: FreshTables): void {
  describe(`NumberInventory per tenant: ${name}`, () => {
    it('keeps two tenants that use the same pool id and the same user id apart', async () => {
      const root = fresh()(A);
      const a = root.forTenant(A);
      const b = root.forTenant(B);
      await a.importPools([amsOf('+31201234000', '+31201234009')], actor);
      await b.importPools([amsOf('+32201234000', '+32201234009')], actor);
      const inA = numberOf(await a.allocate('ams', 'user-1', { ...actor, reservationTtlMs: TTL }));
      const inB = numberOf(await b.allocate('ams', 'user-1', { ...actor, reservationTtlMs: TTL }));
      expect(inA).toBe('+31201234000');
      expect(inB).toBe('+32201234000');
      expect((await a.list({ userId: 'user-1' })).map((n) => n.number)).toEqual([inA]);
      expect((await b.list({ userId: 'user-1' })).map((n) => n.number)).toEqual([inB]);
      expect((await a.pools()).map((p) => [p.pool, p.total, p.counts.reserved])).toEqual([['ams', 10, 1]]);
      expect((await b.list({ pool: 'ams' })).every((n) => n.number.startsWith('+322'))).toBe(true);
      const scanned: string[] = [];
      for await (const n of a.scan()) scanned.push(n.number);
      expect(scanned).toHaveLength(10);
      expect(scanned.every((n) => n.startsWith('+312'))).toBe(true);

      // A's inventory knows none of B's numbers: it can neither read nor change them.
      expect(await a.get(inB)).toBeUndefined();
      expect(await a.history(inB)).toEqual([]);
      await a.release(inB, 'user-1', actor);
      await a.block(inB, 'someone', actor);
      expect(await a.confirm(inB, 'user-1', actor)).toMatchObject({ confirmed: false });
      expect(await a.heldInTeams(inB, 'user-2', actor)).toEqual({ kind: 'unknown' });
      expect(await b.get(inB)).toMatchObject({ pool: 'ams', state: 'reserved', userId: 'user-1' });
      expect((await b.history(inB)).map((h) => h.action)).toEqual(['imported', 'reserved']);

      // The inventory of no tenant (messages without tenantId) is the default tenant's: A's.
      expect((await root.list({ userId: 'user-1' })).map((n) => n.number)).toEqual([inA]);
      expect(await root.forTenant(undefined).get(inA)).toMatchObject({ state: 'reserved' });
    });

    it("refuses an import that overlaps another tenant's range, naming that tenant, and changes nothing", async () => {
      const root = fresh()(A);
      await root.forTenant(A).importPools([amsOf('+31201234000', '+31201234099')], actor);
      const b = root.forTenant(B);
      const refused = await rejection(b.importPools([{ id: 'fab', ranges: [{ from: '+31201234090', to: '+31201234110' }], quarantineDays: 30 }], actor));
      expect(isDialtoneError(refused) && refused.code).toBe('ConfigInvalid');
      expect((refused as Error).message).toContain(`+31201234090 is already in pool 'ams' of tenant ${A}`);
      expect(await b.pools()).toEqual([]);
      expect(await b.get('+31201234100')).toBeUndefined();
      // The other way round too, and for a tenant that is not the default one.
      await root.forTenant(C).importPools([{ id: 'c', ranges: [{ from: '+33100000000', to: '+33100000009' }], quarantineDays: 30 }], actor);
      const again = await rejection(b.importPools([{ id: 'ams', ranges: [{ from: '+33100000005', to: '+33100000005' }], quarantineDays: 30 }], actor));
      expect((again as Error).message).toContain(`+33100000005 is already in pool 'c' of tenant ${C}`);
      // The owner itself may import the same file again: nothing changes.
      expect(await root.forTenant(C).importPools([{ id: 'c', ranges: [{ from: '+33100000000', to: '+33100000009' }], quarantineDays: 30 }], actor)).toMatchObject({ numbersAdded: 0, numbersUnchanged: 10 });
    });

    it('gives one number to one tenant only when two tenants import it at the same time', async () => {
      const root = fresh()(A);
      const range = { from: '+34100000000', to: '+34100000019' };
      const results = await Promise.allSettled([
        root.forTenant(B).importPools([{ id: 'x', ranges: [range], quarantineDays: 30 }], actor),
        root.forTenant(C).importPools([{ id: 'x', ranges: [range], quarantineDays: 30 }], actor),
      ]);
      const holders = await Promise.all(['+34100000000', '+34100000019'].map(async (n) => [await root.forTenant(B).get(n), await root.forTenant(C).get(n)].filter(Boolean).length));
      // Whatever the interleaving: no number is in both tenants' inventories.
      expect(holders.every((count) => count <= 1)).toBe(true);
      const bNumbers = (await root.forTenant(B).list()).map((n) => n.number);
      const cNumbers = new Set((await root.forTenant(C).list()).map((n) => n.number));
      expect(bNumbers.filter((n) => cNumbers.has(n))).toEqual([]);
      // Every number went to one of them, and a refused import says whose it is.
      expect(bNumbers.length + cNumbers.size).toBe(20);
      for (const r of results) if (r.status === 'rejected') expect(String(r.reason)).toMatch(/is already in pool 'x' of tenant (bbbbbbbb|cccccccc)/);
    });

    it("keeps a single-tenant inventory's data as the default tenant's, without moving a row", async () => {
      const open = fresh();
      // Written as before tenants: no default tenant known, every partition unprefixed.
      const before = open();
      await before.importPools([amsOf('+31201234000', '+31201234009')], actor);
      const held = numberOf(await before.allocate('ams', 'old-user', { ...actor, reservationTtlMs: TTL }));
      await before.confirm(held, 'old-user', actor);
      // Without a default tenant the inventory cannot tell whose that data is: a tenant's view is refused.
      const unknown = await rejection(before.forTenant(B).pools());
      expect(isDialtoneError(unknown) && unknown.code).toBe('ConfigInvalid');
      expect((unknown as Error).message).toContain('DIALTONE_TENANT_ID');

      // The first start with DIALTONE_TENANT_ID=A names A the owner of everything written so far.
      const after = open(A);
      const a = after.forTenant(A);
      expect((await a.list({ userId: 'old-user' })).map((n) => [n.number, n.state])).toEqual([[held, 'assigned']]);
      expect((await a.pools()).map((p) => [p.pool, p.total, p.counts.assigned])).toEqual([['ams', 10, 1]]);
      expect((await a.history(held)).map((h) => h.action)).toEqual(['imported', 'reserved', 'confirmed']);
      expect(numberOf(await a.allocate('ams', 'old-user', { ...actor, reservationTtlMs: TTL }))).toBe(held);
      expect(await after.forTenant(B).get(held)).toBeUndefined();
      expect(await after.forTenant(B).pools()).toEqual([]);

      // Later openings, with or without the setting, know the owner from the inventory itself.
      expect((await open().forTenant(A).list({ userId: 'old-user' })).map((n) => n.number)).toEqual([held]);
      // A deployment whose default tenant changed is refused rather than handing A's numbers to C.
      const changed = await rejection(open(C).pools());
      expect(isDialtoneError(changed) && changed.code).toBe('ConfigInvalid');
      expect((changed as Error).message).toContain(A);
    });
  });
}
