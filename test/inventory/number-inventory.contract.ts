import { beforeEach, describe, expect, it } from 'vitest';
import { isDialtoneError } from '../../shared/domain/errors.js';
import type { PoolDefinition } from '../../shared/domain/numbers.js';
import type { AllocationOutcome, NumberInventory } from '../../shared/ports/number-inventory.js';
import { SimClock } from '../../sandbox/clock.js';

export type MakeInventory = () => NumberInventory | Promise<NumberInventory>;

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const TTL = 15 * 60_000;

const ams: PoolDefinition = { id: 'ams', ranges: [{ from: '+31201234000', to: '+31201234099' }], quarantineDays: 90 };
const rtm: PoolDefinition = { id: 'rtm', ranges: [{ from: '+31101234500', to: '+31101234549' }], quarantineDays: 90 };
const pool = (id: string, size: number, quarantineDays = 30): PoolDefinition => ({
  id,
  ranges: [{ from: '+31301000000', to: `+313010${String(size - 1).padStart(5, '0')}` }],
  quarantineDays,
});

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

/** One specification of the NumberInventory port, run against every adapter. */
export function numberInventoryContract(name: string, makeInventory: MakeInventory): void {
  describe(`NumberInventory contract: ${name}`, () => {
    let inventory: NumberInventory;
    let clock: SimClock;
    const actor = () => ({ now: clock.now(), correlationId: 'corr-1' });
    const allocate = (poolId: string, userId: string) => inventory.allocate(poolId, userId, { ...actor(), reservationTtlMs: TTL });

    beforeEach(async () => {
      inventory = await makeInventory();
      clock = new SimClock('2026-11-02T08:00:00Z');
    });

    describe('import', () => {
      it('expands the ranges of the contract file into free numbers', async () => {
        const summary = await inventory.importPools([ams, rtm], actor());
        expect(summary).toEqual({ poolsAdded: 2, poolsUpdated: 0, numbersAdded: 150, numbersUnchanged: 0 });
        expect(await inventory.pools()).toEqual([
          { pool: 'ams', quarantineDays: 90, total: 100, counts: { free: 100, reserved: 0, assigned: 0, quarantined: 0, blocked: 0 } },
          { pool: 'rtm', quarantineDays: 90, total: 50, counts: { free: 50, reserved: 0, assigned: 0, quarantined: 0, blocked: 0 } },
        ]);
      });

      it('is idempotent: a second import adds nothing', async () => {
        await inventory.importPools([ams, rtm], actor());
        expect(await inventory.importPools([ams, rtm], actor())).toEqual({ poolsAdded: 0, poolsUpdated: 0, numbersAdded: 0, numbersUnchanged: 150 });
        expect((await inventory.list()).length).toBe(150);
      });

      it('adds only the missing numbers of a widened range and leaves existing states alone', async () => {
        await inventory.importPools([pool('p', 2)], actor());
        const held = numberOf(await allocate('p', 'user-a'));
        const summary = await inventory.importPools([pool('p', 4)], actor());
        expect(summary).toEqual({ poolsAdded: 0, poolsUpdated: 1, numbersAdded: 2, numbersUnchanged: 2 });
        expect((await inventory.get(held))?.state).toBe('reserved');
        expect((await inventory.list({ pool: 'p' })).map((n) => n.number)).toEqual(['+31301000000', '+31301000001', '+31301000002', '+31301000003']);
      });

      it('updates the quarantine days of an existing pool', async () => {
        await inventory.importPools([pool('p', 2, 30)], actor());
        expect(await inventory.importPools([pool('p', 2, 7)], actor())).toEqual({ poolsAdded: 0, poolsUpdated: 1, numbersAdded: 0, numbersUnchanged: 2 });
        expect((await inventory.pools())[0]?.quarantineDays).toBe(7);
      });

      it('expands extension ranges on one trunk number', async () => {
        await inventory.importPools([{ id: 'ext', ranges: [{ from: '+31201234567', to: '+31201234567', extensions: { from: 98, to: 101 } }], quarantineDays: 90 }], actor());
        expect((await inventory.list({ pool: 'ext' })).map((n) => n.number)).toEqual([
          '+31201234567;ext=98',
          '+31201234567;ext=99',
          '+31201234567;ext=100',
          '+31201234567;ext=101',
        ]);
        expect(numberOf(await allocate('ext', 'user-a'))).toBe('+31201234567;ext=98');
      });

      it('refuses a pool over the size cap and names the field', async () => {
        const huge: PoolDefinition = { id: 'huge', ranges: [{ from: '+31200000000', to: '+31200100000' }], quarantineDays: 90 };
        const error = await rejection(inventory.importPools([huge], actor()));
        expect(isDialtoneError(error) && error.code).toBe('ConfigInvalid');
        expect((error as Error).message).toBe(
          "pools[0].ranges: pool 'huge' would hold 100001 numbers, more than the 100000 a pool may hold; split it into several pools or check the range ends",
        );
      });

      it('refuses to move a number into another pool', async () => {
        await inventory.importPools([pool('p', 2)], actor());
        const error = await rejection(inventory.importPools([pool('q', 3)], actor()));
        expect((error as Error).message).toBe("+31301000000 is already in pool 'p'; a number cannot move to pool 'q' by import");
      });
    });

    describe('allocate', () => {
      beforeEach(async () => {
        await inventory.importPools([ams, rtm], actor());
      });

      it('reserves the lowest free number until now + the reservation TTL', async () => {
        expect(await allocate('ams', 'user-a')).toEqual({ ok: true, number: '+31201234000', pool: 'ams', state: 'reserved', reused: false });
        expect(await inventory.get('+31201234000')).toEqual({
          number: '+31201234000',
          pool: 'ams',
          state: 'reserved',
          userId: 'user-a',
          reservedUntil: '2026-11-02T08:15:00.000Z',
          quarantinedUntil: null,
          owner: null,
          updatedAt: '2026-11-02T08:00:00.000Z',
        });
      });

      it('returns the same number when asked twice for the same user', async () => {
        const first = numberOf(await allocate('ams', 'user-a'));
        expect(await allocate('ams', 'user-a')).toEqual({ ok: true, number: first, pool: 'ams', state: 'reserved', reused: true });
      });

      it('returns the assigned number, as assigned, once confirmed', async () => {
        const first = numberOf(await allocate('ams', 'user-a'));
        await inventory.confirm(first, 'user-a', actor());
        expect(await allocate('ams', 'user-a')).toEqual({ ok: true, number: first, pool: 'ams', state: 'assigned', reused: true });
      });

      it('holds one number per user per pool, and one in each pool', async () => {
        numberOf(await allocate('ams', 'user-a'));
        numberOf(await allocate('rtm', 'user-a'));
        numberOf(await allocate('ams', 'user-a'));
        expect((await inventory.list({ userId: 'user-a' })).map((n) => `${n.pool} ${n.number}`)).toEqual(['ams +31201234000', 'rtm +31101234500']);
      });

      it('hands 150 numbers to 200 concurrent users and tells the other 50 the pool is exhausted', async () => {
        await inventory.importPools([pool('big', 150)], actor());
        const users = Array.from({ length: 200 }, (_, i) => `user-${i}`);
        const started = performance.now();
        const outcomes = await Promise.all(users.map((u) => allocate('big', u)));
        console.info(`[${name}] 200 concurrent allocations from a 150-number pool: ${Math.round(performance.now() - started)} ms`);
        const won = outcomes.filter((o) => o.ok).map(numberOf);
        expect(won.length).toBe(150);
        expect(new Set(won).size).toBe(150);
        expect(outcomes.filter((o) => !o.ok && o.reason === 'PoolExhausted').length).toBe(50);
        const reserved = await inventory.list({ pool: 'big', state: 'reserved' });
        expect(new Set(reserved.map((n) => n.userId)).size).toBe(150);
        // A correctness test, not a timed one: Azurite on a busy machine needs its time.
      }, 300_000);

      it('gives 20 concurrent allocations for one user one number', async () => {
        const outcomes = await Promise.all(Array.from({ length: 20 }, () => allocate('ams', 'user-a')));
        expect(new Set(outcomes.map(numberOf))).toEqual(new Set(['+31201234000']));
        expect(outcomes.filter((o) => o.ok && !o.reused).length).toBe(1);
        expect((await inventory.list({ userId: 'user-a' })).length).toBe(1);
      }, 180_000);

      it('says which pool is exhausted, its counts, and what to do', async () => {
        await inventory.importPools([pool('tiny', 2)], actor());
        numberOf(await allocate('tiny', 'user-a'));
        await inventory.block('+31301000001', 'someone@contoso.com', actor());
        expect(await allocate('tiny', 'user-b')).toEqual({
          ok: false,
          reason: 'PoolExhausted',
          message:
            "pool 'tiny' has no free number (2 numbers: 0 free, 1 reserved, 0 assigned, 0 quarantined, 1 blocked). Add a range with `dialtone numbers import` and replay the dead letter.",
        });
      });

      it('reports an unknown pool', async () => {
        expect(await allocate('nowhere', 'user-a')).toEqual({
          ok: false,
          reason: 'PoolNotFound',
          message: "pool 'nowhere' does not exist in the number inventory; import it with `dialtone numbers import` or fix the voice policy's numberPool, then replay the dead letter.",
        });
      });

      it('never hands out a blocked number', async () => {
        await inventory.block('+31201234000', 'owner@contoso.com', actor());
        expect(numberOf(await allocate('ams', 'user-a'))).toBe('+31201234001');
      });

      it('reclaims a reservation that lapsed for another user', async () => {
        await inventory.importPools([pool('one', 1)], actor());
        numberOf(await allocate('one', 'user-a'));
        clock.advance(TTL);
        expect(await allocate('one', 'user-b')).toEqual({ ok: true, number: '+31301000000', pool: 'one', state: 'reserved', reused: false });
        expect((await inventory.history('+31301000000')).map((h) => `${h.action} ${h.userId}`)).toEqual([
          'imported null',
          'reserved user-a',
          'reclaimed user-a',
          'reserved user-b',
        ]);
      });

      it('does not reclaim a reservation before it lapses', async () => {
        await inventory.importPools([pool('one', 1)], actor());
        numberOf(await allocate('one', 'user-a'));
        clock.advance(TTL - 1);
        expect((await allocate('one', 'user-b')).ok).toBe(false);
      });

      it('hands out a free number before reusing a reservation that lapsed (its command may still be on its way)', async () => {
        const a = numberOf(await allocate('ams', 'user-a'));
        clock.advance(2 * DAY);
        const b = numberOf(await allocate('ams', 'user-b'));
        expect(b).not.toBe(a);
        expect(await inventory.get(a)).toMatchObject({ state: 'reserved', userId: 'user-a' });
      });

      it('reuses an ended quarantine before a lapsed reservation, and a lapsed reservation only when nothing else is left', async () => {
        await inventory.importPools([pool('duo', 2, 1)], actor());
        const a = numberOf(await allocate('duo', 'user-a'));
        const q = numberOf(await allocate('duo', 'user-q'));
        await inventory.release(q, 'user-q', actor());
        clock.advance(2 * DAY);
        expect(numberOf(await allocate('duo', 'user-b'))).toBe(q);
        expect(numberOf(await allocate('duo', 'user-c'))).toBe(a);
        expect(await inventory.list({ userId: 'user-a' })).toEqual([]);
      });

      it('refreshes the lapsed reservation of the user who asks again', async () => {
        const first = numberOf(await allocate('ams', 'user-a'));
        clock.advance(HOUR);
        expect(await allocate('ams', 'user-a')).toEqual({ ok: true, number: first, pool: 'ams', state: 'reserved', reused: true });
        expect((await inventory.get(first))?.reservedUntil).toBe('2026-11-02T09:15:00.000Z');
      });
    });

    describe('lifecycle', () => {
      beforeEach(async () => {
        await inventory.importPools([ams, pool('two', 2, 30)], actor());
      });

      it('confirm turns the reservation into an assignment and is idempotent', async () => {
        const n = numberOf(await allocate('ams', 'user-a'));
        await inventory.confirm(n, 'user-a', actor());
        await inventory.confirm(n, 'user-a', actor());
        expect(await inventory.get(n)).toMatchObject({ state: 'assigned', userId: 'user-a', reservedUntil: null });
        expect((await inventory.history(n)).map((h) => h.action)).toEqual(['imported', 'reserved', 'confirmed']);
      });

      it('confirm leaves a number reserved for someone else alone and says why', async () => {
        const n = numberOf(await allocate('ams', 'user-a'));
        expect(await inventory.confirm(n, 'user-b', actor())).toEqual({
          confirmed: false,
          why: 'cannot confirm +31201234000 for user-b: it is reserved for user-a until 2026-11-02T08:15:00.000Z',
        });
        expect(await inventory.get(n)).toMatchObject({ state: 'reserved', userId: 'user-a' });
      });

      it('confirm never takes back a number quarantined for the same person (a late result after the leaver)', async () => {
        const n = numberOf(await allocate('ams', 'user-a'));
        await inventory.confirm(n, 'user-a', actor());
        await inventory.release(n, 'user-a', actor());
        expect(await inventory.confirm(n, 'user-a', actor())).toEqual({
          confirmed: false,
          why: 'cannot confirm +31201234000 for user-a: it is quarantined for user-a until 2027-01-31T08:00:00.000Z',
        });
        expect(await inventory.get(n)).toMatchObject({ state: 'quarantined', userId: 'user-a' });
        expect((await inventory.history(n)).map((h) => h.action)).toEqual(['imported', 'reserved', 'confirmed', 'released']);
      });

      it('confirm never takes back a number that was rolled back or freed', async () => {
        const n = numberOf(await allocate('ams', 'user-a'));
        await inventory.rollback(n, 'user-a', actor());
        expect((await inventory.confirm(n, 'user-a', actor())).confirmed).toBe(false);
        expect(await inventory.get(n)).toMatchObject({ state: 'free', userId: null });
      });

      it('confirm still takes the person’s own lapsed reservation that nobody reclaimed', async () => {
        const n = numberOf(await allocate('ams', 'user-a'));
        clock.advance(2 * DAY);
        expect(await inventory.confirm(n, 'user-a', actor())).toEqual({ confirmed: true });
        expect(await inventory.get(n)).toMatchObject({ state: 'assigned', userId: 'user-a' });
      });

      it('rollback frees the reservation', async () => {
        const n = numberOf(await allocate('ams', 'user-a'));
        await inventory.rollback(n, 'user-a', actor());
        expect(await inventory.get(n)).toMatchObject({ state: 'free', userId: null });
      });

      it('rollback leaves a number not reserved for that user alone', async () => {
        const n = numberOf(await allocate('ams', 'user-a'));
        await inventory.confirm(n, 'user-a', actor());
        await inventory.rollback(n, 'user-a', actor());
        await inventory.rollback(n, 'user-b', actor());
        expect(await inventory.get(n)).toMatchObject({ state: 'assigned', userId: 'user-a' });
      });

      it('release quarantines for the pool quarantine days', async () => {
        const n = numberOf(await allocate('ams', 'user-a'));
        await inventory.confirm(n, 'user-a', actor());
        await inventory.release(n, 'user-a', actor());
        await inventory.release(n, 'user-a', actor());
        expect(await inventory.get(n)).toMatchObject({ state: 'quarantined', userId: 'user-a', quarantinedUntil: '2027-01-31T08:00:00.000Z' });
        expect((await inventory.history(n)).map((h) => h.action)).toEqual(['imported', 'reserved', 'confirmed', 'released']);
      });

      it('release takes explicit quarantine days over the pool default', async () => {
        const n = numberOf(await allocate('ams', 'user-a'));
        await inventory.release(n, 'user-a', { ...actor(), quarantineDays: 1 });
        expect((await inventory.get(n))?.quarantinedUntil).toBe('2026-11-03T08:00:00.000Z');
      });

      it('keeps a quarantined number from other users until the quarantine ends', async () => {
        const n = numberOf(await allocate('two', 'user-a'));
        await inventory.release(n, 'user-a', actor());
        const other = numberOf(await allocate('two', 'user-b'));
        expect(other).toBe('+31301000001');
        await inventory.confirm(other, 'user-b', actor());
        clock.advance(30 * DAY - 1);
        expect((await allocate('two', 'user-c')).ok).toBe(false);
        clock.advance(1);
        expect(numberOf(await allocate('two', 'user-c'))).toBe(n);
      });

      it('gives a rehire the old number back while it is quarantined for them, over a lower free one', async () => {
        const lower = numberOf(await allocate('two', 'user-x'));
        const n = numberOf(await allocate('two', 'user-a'));
        await inventory.confirm(n, 'user-a', actor());
        await inventory.release(n, 'user-a', actor());
        await inventory.rollback(lower, 'user-x', actor());
        clock.advance(10 * DAY);
        expect(await allocate('two', 'user-a')).toEqual({ ok: true, number: '+31301000001', pool: 'two', state: 'reserved', reused: false });
        expect((await inventory.get(lower))?.state).toBe('free');
      });

      it('adopts a number Teams reports held by the person whose lapsed reservation was reclaimed, instead of blocking it', async () => {
        await inventory.importPools([{ id: 'one', ranges: [{ from: '+31401000000', to: '+31401000000' }], quarantineDays: 30 }], actor());
        const n = numberOf(await allocate('one', 'user-a'));
        clock.advance(2 * DAY);
        expect(numberOf(await allocate('one', 'user-b'))).toBe(n);
        // user-a's command reached Teams after all; user-b's command reports the conflict.
        expect(await inventory.heldInTeams(n, 'user-a', actor())).toEqual({ kind: 'adopted', userId: 'user-a', displaced: 'user-b' });
        expect(await inventory.get(n)).toMatchObject({ state: 'assigned', userId: 'user-a', owner: null });
        expect((await inventory.list({ userId: 'user-a' })).map((r) => r.number)).toEqual([n]);
        expect(await inventory.list({ userId: 'user-b' })).toEqual([]);
        expect((await inventory.history(n)).map((h) => `${h.action} ${h.userId}`)).toEqual([
          'imported null',
          'reserved user-a',
          'reclaimed user-a',
          'reserved user-b',
          'adopted user-a',
        ]);
        // The displaced person is re-planned: the pool has nothing else, and says so.
        expect((await allocate('one', 'user-b')).ok).toBe(false);
        expect(numberOf(await allocate('one', 'user-a'))).toBe(n);
      });

      it('adopts a number Teams reports held by the person it is assigned to, changing nothing', async () => {
        const n = numberOf(await allocate('ams', 'user-a'));
        await inventory.confirm(n, 'user-a', actor());
        expect(await inventory.heldInTeams(n, 'user-a', actor())).toEqual({ kind: 'adopted', userId: 'user-a', displaced: null });
        expect((await inventory.history(n)).map((h) => h.action)).toEqual(['imported', 'reserved', 'confirmed']);
      });

      it('blocks a number Teams reports held by someone Dialtone never gave it to', async () => {
        const n = numberOf(await allocate('ams', 'user-a'));
        expect(await inventory.heldInTeams(n, 'outsider-id', actor())).toEqual({ kind: 'blocked', owner: 'outsider-id' });
        expect(await inventory.get(n)).toMatchObject({ state: 'blocked', owner: 'outsider-id', userId: null });
        expect(await inventory.heldInTeams('+31201234001', null, actor())).toEqual({ kind: 'blocked', owner: null });
        expect(await inventory.heldInTeams('+15550000000', 'user-a', actor())).toEqual({ kind: 'unknown' });
      });

      it('block marks the owner, unblock frees it', async () => {
        const n = numberOf(await allocate('ams', 'user-a'));
        await inventory.block(n, 'someone@contoso.com', actor());
        expect(await inventory.get(n)).toMatchObject({ state: 'blocked', owner: 'someone@contoso.com', userId: null });
        await inventory.unblock(n, actor());
        expect(await inventory.get(n)).toMatchObject({ state: 'free', owner: null });
        expect((await inventory.history(n)).map((h) => h.action)).toEqual(['imported', 'reserved', 'blocked', 'unblocked']);
      });

      it('free releases any state by hand', async () => {
        const n = numberOf(await allocate('ams', 'user-a'));
        await inventory.release(n, 'user-a', actor());
        await inventory.free(n, actor());
        expect(await inventory.get(n)).toMatchObject({ state: 'free', userId: null, quarantinedUntil: null });
      });

      it('records who and why in the history', async () => {
        const n = numberOf(await allocate('ams', 'user-a'));
        expect((await inventory.history(n))[1]).toEqual({
          at: '2026-11-02T08:00:00.000Z',
          number: n,
          action: 'reserved',
          userId: 'user-a',
          correlationId: 'corr-1',
          note: 'until 2026-11-02T08:15:00.000Z',
        });
      });

      it('ignores pipeline calls for numbers it does not hold', async () => {
        await inventory.confirm('+15550000000', 'user-a', actor());
        await inventory.block('+15550000000', null, actor());
        expect(await inventory.get('+15550000000')).toBeUndefined();
        expect(await inventory.history('+15550000000')).toEqual([]);
      });

      it('refuses operator calls for numbers it does not hold', async () => {
        const error = await rejection(inventory.free('+15550000000', actor()));
        expect(isDialtoneError(error) && error.code).toBe('NumberInvalid');
        expect((error as Error).message).toBe('+15550000000 is not in the number inventory');
      });

      it('filters the list by pool, state and user', async () => {
        const a = numberOf(await allocate('ams', 'user-a'));
        numberOf(await allocate('two', 'user-a'));
        await inventory.confirm(a, 'user-a', actor());
        expect((await inventory.list({ state: 'assigned' })).map((n) => n.number)).toEqual([a]);
        expect((await inventory.list({ pool: 'two', userId: 'user-a' })).map((n) => n.number)).toEqual(['+31301000000']);
        expect((await inventory.list({ pool: 'two', state: 'free' })).map((n) => n.number)).toEqual(['+31301000001']);
      });

      it('scans the rows of list, in the order of list, page after page, with the same filters', async () => {
        // 1,203 numbers over pages of 500, in two pools; some reserved in the middle of a page boundary.
        await inventory.importPools([{ id: 'big', ranges: [{ from: '+31401000000', to: '+31401001202' }], quarantineDays: 30 }], actor());
        for (const user of ['u1', 'u2', 'u3']) numberOf(await allocate('big', user));
        const all = async (iterable: AsyncIterable<{ number: string; pool: string; state: string }>) => {
          const out: string[] = [];
          for await (const r of iterable) out.push(`${r.pool} ${r.number} ${r.state}`);
          return out;
        };
        const listed = (records: { number: string; pool: string; state: string }[]) => records.map((r) => `${r.pool} ${r.number} ${r.state}`);
        for (const filter of [{}, { pool: 'big' }, { state: 'free' as const }, { state: 'reserved' as const }, { userId: 'user-a' }, { pool: 'nope' }]) {
          expect(await all(inventory.scan(filter))).toEqual(listed(await inventory.list(filter)));
        }
        expect((await all(inventory.scan())).length).toBe(1203 + 102);
      });
    });
  });
}
