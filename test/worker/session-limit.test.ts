import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createEntitySessionSlots } from '../../shared/adapters/entity-session-slots.js';
import { createMemoryTableService } from '../../shared/adapters/memory-table-client.js';
import { heldSlots, takeableSlots } from '../../shared/domain/session-slots.js';
import { createMemoryLogger } from '../../shared/logging/logger.js';
import { systemClock, type Clock } from '../../shared/ports/clock.js';
import type { SessionSlots } from '../../shared/ports/session-slots.js';
import { SessionPool } from '../../worker/pool.js';

const fakeHost = { command: process.execPath, args: [fileURLToPath(new URL('./fixtures/fake-pwsh.mjs', import.meta.url))] };
const secret = { pfxBase64: 'UE9PTFNFQ1JFVFBGWA'.repeat(5), password: 'pool-secret-password' };
const pools: SessionPool[] = [];

afterEach(async () => {
  for (const pool of pools.splice(0)) await pool.drain();
});

function worker(name: string, slots: SessionSlots, maxSessionsPerTenant = 4): SessionPool {
  const pool = new SessionPool({
    command: fakeHost,
    credentials: async (tenantId) => ({ applicationId: 'app', tenantId, certificate: secret }),
    maxSessions: 8,
    maxSessionsPerTenant,
    idleTimeoutMs: 200,
    maxSessionAgeMs: 3_600_000,
    connectTimeoutMs: 30_000,
    reapIntervalMs: 100,
    logger: createMemoryLogger(),
    slots,
    holderId: name,
    slotRetryMs: 50,
  });
  pools.push(pool);
  return pool;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the tenant-wide session limit (pure)', () => {
  const now = new Date('2026-12-01T10:00:00.000Z');
  it('offers slots never taken, released or lapsed, from the start point', () => {
    const states = [
      { slot: 0, holder: 'w1', expiresAt: '2026-12-01T10:01:00.000Z' },
      { slot: 1, holder: '', expiresAt: '2026-12-01T09:00:00.000Z' },
      { slot: 2, holder: 'dead', expiresAt: '2026-12-01T09:59:59.000Z' },
    ];
    expect(takeableSlots(states, 4, now, 2)).toEqual([2, 3, 1]);
    expect(heldSlots(states, 4, now)).toBe(1);
  });
});

describe('the tenant-wide session limit, shared by several workers', () => {
  it('uses the table the deployment made when the worker may not create tables (a 403, its role is on that table only)', async () => {
    const table = createMemoryTableService().table('sessionslots');
    await table.ensure();
    const refusing = { ...table, ensure: () => Promise.reject(Object.assign(new Error('AuthorizationPermissionMismatch'), { statusCode: 403 })) };
    const slots = createEntitySessionSlots({ table: refusing, clock: systemClock, limit: 2, leaseMs: 60_000 });
    expect((await slots.tryAcquire('tenant-1', 'w1'))?.slot).toBe(0);
    const failing = { ...table, ensure: () => Promise.reject(Object.assign(new Error('ServiceUnavailable'), { statusCode: 503 })) };
    await expect(createEntitySessionSlots({ table: failing, clock: systemClock, limit: 2, leaseMs: 60_000 }).tryAcquire('tenant-1', 'w1')).rejects.toThrow(/ServiceUnavailable/);
  });

  it('hands out no more slots than the limit, and gives them back', async () => {
    const slots = createEntitySessionSlots({ table: createMemoryTableService().table('sessionslots'), clock: systemClock, limit: 4, leaseMs: 60_000 });
    const taken = await Promise.all(Array.from({ length: 10 }, (_, i) => slots.tryAcquire('tenant-1', `w${i}`)));
    const held = taken.filter((s) => s !== undefined);
    expect(held.map((s) => s?.slot).sort()).toEqual([0, 1, 2, 3]);
    expect(await slots.tryAcquire('tenant-2', 'w1')).toBeDefined();
    await held[0]?.release();
    expect((await slots.tryAcquire('tenant-1', 'w9'))?.slot).toBe(held[0]?.slot);
  });

  it('takes back the slots of a worker that died once their lease lapses, and the dead one cannot renew', async () => {
    let now = new Date('2026-12-01T10:00:00.000Z');
    const clock: Clock = { now: () => now };
    const slots = createEntitySessionSlots({ table: createMemoryTableService().table('sessionslots'), clock, limit: 2, leaseMs: 30_000 });
    const dead = [await slots.tryAcquire('t', 'dead'), await slots.tryAcquire('t', 'dead')];
    expect(await slots.tryAcquire('t', 'alive')).toBeUndefined();
    now = new Date(now.getTime() + 30_000);
    const alive = await slots.tryAcquire('t', 'alive');
    expect(alive).toBeDefined();
    expect(await dead.find((s) => s?.slot === alive?.slot)?.renew()).toBe(false);
    expect(await alive?.renew()).toBe(true);
  });

  it('keeps the sessions of three workers together at or under the tenant limit of 4 at every moment', async () => {
    const table = createMemoryTableService().table('sessionslots');
    const slots = createEntitySessionSlots({ table, clock: systemClock, limit: 4, leaseMs: 60_000 });
    const workers = [worker('w1', slots), worker('w2', slots), worker('w3', slots)];
    let peakLive = 0;
    let peakBusy = 0;
    let busy = 0;
    const sample = () => {
      peakLive = Math.max(peakLive, workers.reduce((sum, w) => sum + w.stats().live, 0));
      peakBusy = Math.max(peakBusy, busy);
    };
    const sampler = setInterval(sample, 5);
    // 24 commands arrive at once, spread over the three workers; each holds its session briefly.
    await Promise.all(
      Array.from({ length: 24 }, async (_, i) => {
        const lease = await (workers[i % 3] as SessionPool).acquire('tenant-1');
        busy += 1;
        sample();
        await lease.session.call('Get-CsOnlineUser', { Identity: `user-${i}` }, { timeoutMs: 60_000 });
        // Hold the session until a second one has been busy at the same time (another process got
        // a slot), so overlap does not depend on how far apart the processes happened to start.
        await vi.waitFor(() => expect(peakBusy).toBeGreaterThanOrEqual(2), { timeout: 90_000, interval: 10 });
        await sleep(150);
        busy -= 1;
        lease.release();
      }),
    );
    clearInterval(sampler);
    sample();
    // Safety is exact: never more than the limit. Reaching it depends on how fast the machine
    // starts processes, so only require that work overlapped across sessions (which the hold
    // above makes certain in every interleaving).
    expect(peakBusy).toBeLessThanOrEqual(4);
    expect(peakBusy).toBeGreaterThanOrEqual(2);
    expect(peakLive).toBeLessThanOrEqual(4);
    // Every worker got to work: the limit is shared, not taken by the first worker alone.
    expect(workers.map((w) => w.stats().created > 0)).toEqual([true, true, true]);
  }, 240_000);
});
