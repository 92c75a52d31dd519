import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createEntitySessionSlots } from '../../shared/adapters/entity-session-slots.js';
import { createMemoryTableService } from '../../shared/adapters/memory-table-client.js';
import { createMemoryLogger } from '../../shared/logging/logger.js';
import { systemClock } from '../../shared/ports/clock.js';
import type { SessionSlots } from '../../shared/ports/session-slots.js';
import type { Timers } from '../../worker/timers.js';
import { SessionPool } from '../../worker/pool.js';

const fakeHost = { command: process.execPath, args: [fileURLToPath(new URL('./fixtures/fake-pwsh.mjs', import.meta.url))] };
const secret = { pfxBase64: 'UE9PTFNFQ1JFVFBGWA'.repeat(5), password: 'pool-secret-password' };
const pools: SessionPool[] = [];

afterEach(async () => {
  for (const pool of pools.splice(0)) await pool.drain();
});

/** A clock that moves only when the test says so (the sandbox's clock, held while anything runs). */
function heldClock() {
  let now = 0;
  let pending: { at: number; fn: () => void; id: number }[] = [];
  let id = 0;
  const timers: Timers = {
    setTimeout: (fn, ms) => {
      pending.push({ at: now + ms, fn, id: ++id });
      return id;
    },
    clearTimeout: (handle) => {
      pending = pending.filter((t) => t.id !== handle);
    },
    now: () => now,
  };
  const advance = (ms: number) => {
    now += ms;
    const due = pending.filter((t) => t.at <= now);
    pending = pending.filter((t) => t.at > now);
    for (const t of due) t.fn();
  };
  return { timers, advance, pending: () => pending.length };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a pool whose tenant session slots are all held by another worker', () => {
  it('asks for a slot again only when its retry interval passes on its wait clock, not in a loop of its own acquires waking each other', async () => {
    const inner = createEntitySessionSlots({ table: createMemoryTableService().table('sessionslots'), clock: systemClock, limit: 1, leaseMs: 60_000 });
    const other = await inner.tryAcquire('tenant-1', 'other-worker');
    let asked = 0;
    const slots: SessionSlots = { ...inner, tryAcquire: (...args) => ((asked += 1), inner.tryAcquire(...args)) };
    const clock = heldClock();
    const pool = new SessionPool({
      command: fakeHost,
      credentials: async (tenantId) => ({ applicationId: 'app', tenantId, certificate: secret }),
      maxSessions: 4,
      maxSessionsPerTenant: 4,
      idleTimeoutMs: 600_000,
      maxSessionAgeMs: 3_600_000,
      connectTimeoutMs: 30_000,
      logger: createMemoryLogger(),
      slots,
      holderId: 'this-worker',
      slotRetryMs: 1_000,
      waitTimers: clock.timers,
    });
    pools.push(pool);
    // Three of the worker's loops want a session at once; the clock does not move.
    const leases = [pool.acquire('tenant-1'), pool.acquire('tenant-1'), pool.acquire('tenant-1')];
    // The two still waiting when the test drains the pool are refused (shutting down).
    for (const lease of leases) lease.catch(() => undefined);
    await sleep(300);
    // Each asked once and now waits for the retry interval (or a local session to end): nothing was freed.
    expect(asked).toBe(3);
    expect(pool.pendingWork()).toBe(0);
    clock.advance(1_000);
    await sleep(100);
    expect(asked).toBe(6);
    // The other worker gives its slot back: the next retry gets it, and a session starts.
    await other?.release();
    clock.advance(1_000);
    const first = await Promise.race(leases);
    expect(first).toBeDefined();
    first.release();
  }, 20_000);
});
