import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMemoryLogger } from '../../shared/logging/logger.js';
import { SessionPool, type PoolOptions } from '../../worker/pool.js';
import { ManualTimers } from './helpers/manual-timers.js';

const fakeHost = { command: process.execPath, args: [fileURLToPath(new URL('./fixtures/fake-pwsh.mjs', import.meta.url))] };
const secret = { pfxBase64: 'UE9PTFNFQ1JFVFBGWA'.repeat(5), password: 'pool-secret-password' };

const pools: SessionPool[] = [];
function makePool(overrides: Partial<PoolOptions> = {}) {
  const timers = new ManualTimers();
  const logger = createMemoryLogger();
  const pool = new SessionPool({
    command: fakeHost,
    credentials: async (tenantId) => ({ applicationId: 'app', tenantId, certificate: secret }),
    maxSessions: 4,
    maxSessionsPerTenant: 2,
    idleTimeoutMs: 60_000,
    maxSessionAgeMs: 3_600_000,
    connectTimeoutMs: 10_000,
    reapIntervalMs: 10_000,
    logger,
    timers,
    ...overrides,
  });
  pools.push(pool);
  return { pool, timers, logger };
}

afterEach(async () => {
  for (const pool of pools.splice(0)) await pool.drain();
});

const pidOf = async (lease: { session: { call: (c: string, p: Record<string, unknown>, o: { timeoutMs: number }) => Promise<unknown> } }) =>
  ((await lease.session.call('Get-CsOnlineUser', { Identity: 'x' }, { timeoutMs: 5_000 })) as { result: { pid: number } }).result.pid;

describe('SessionPool', () => {
  it('connects once and reuses the warm process for the next command', async () => {
    const { pool } = makePool();
    const first = await pool.acquire('t1');
    const pid = await pidOf(first);
    first.release();
    const second = await pool.acquire('t1');
    expect(await pidOf(second)).toBe(pid);
    second.release();
    expect(pool.stats()).toMatchObject({ created: 1, connects: 1, live: 1, busy: 0 });
  });

  it('never runs more processes for a tenant than its limit', async () => {
    const { pool } = makePool({ maxSessionsPerTenant: 2 });
    const a = await pool.acquire('t1');
    const b = await pool.acquire('t1');
    let thirdGranted = false;
    const third = pool.acquire('t1').then((lease) => {
      thirdGranted = true;
      return lease;
    });
    await Promise.resolve();
    expect([thirdGranted, pool.stats().live]).toEqual([false, 2]);
    a.release();
    (await third).release();
    b.release();
    expect(pool.stats()).toMatchObject({ peakLive: 2, peakBusy: 2, created: 2 });
  });

  it('closes an idle session of another tenant when the global limit is reached', async () => {
    const { pool } = makePool({ maxSessions: 1, maxSessionsPerTenant: 1 });
    (await pool.acquire('t1')).release();
    const other = await pool.acquire('t2');
    other.release();
    expect(pool.stats()).toMatchObject({ peakLive: 1, created: 2, retired: 1 });
  });

  it('replaces a discarded session with a fresh process', async () => {
    const { pool } = makePool();
    const first = await pool.acquire('t1');
    const pid = await pidOf(first);
    first.discard('hung');
    const second = await pool.acquire('t1');
    expect(await pidOf(second)).not.toBe(pid);
    second.release();
    expect(pool.stats()).toMatchObject({ replaced: 1, created: 2 });
  });

  it('reaps a session idle longer than the idle timeout', async () => {
    const { pool, timers } = makePool({ idleTimeoutMs: 60_000, reapIntervalMs: 10_000 });
    (await pool.acquire('t1')).release();
    timers.advance(70_000);
    await vi.waitFor(() => expect(pool.stats().live).toBe(0), { timeout: 30_000 });
    expect(pool.stats().retired).toBe(1);
  });

  it('keeps a session that is used within the idle timeout', async () => {
    const { pool, timers } = makePool({ idleTimeoutMs: 60_000, reapIntervalMs: 10_000 });
    (await pool.acquire('t1')).release();
    timers.advance(50_000);
    expect(pool.stats()).toMatchObject({ live: 1, retired: 0 });
  });

  it('retires a session past its maximum age after its current command', async () => {
    const { pool, timers } = makePool({ maxSessionAgeMs: 30_000, idleTimeoutMs: 600_000, reapIntervalMs: 600_000 });
    const lease = await pool.acquire('t1');
    timers.advance(40_000);
    expect(pool.stats().live).toBe(1);
    lease.release();
    await vi.waitFor(() => expect(pool.stats().live).toBe(0), { timeout: 30_000 });
  });

  it('measures idle time and session age on poolTimers, not on the timers processes start and exit on', async () => {
    const poolTimers = new ManualTimers();
    const { pool, timers } = makePool({ idleTimeoutMs: 600_000, maxSessionAgeMs: 3_000_000, poolTimers });
    (await pool.acquire('t1')).release();
    // Real time (the process timers) moving on reaps nothing: the sandbox clock has not moved.
    timers.advance(700_000);
    expect(pool.stats()).toMatchObject({ live: 1, retired: 0 });
    poolTimers.advance(590_000);
    expect(pool.stats()).toMatchObject({ live: 1, retired: 0 });
    poolTimers.advance(40_000);
    await vi.waitFor(() => expect(pool.stats().live).toBe(0), { timeout: 30_000 });
    expect(pool.stats().retired).toBe(1);
  });

  it('retires a session past its maximum age on poolTimers', async () => {
    const poolTimers = new ManualTimers();
    const { pool } = makePool({ idleTimeoutMs: 600_000, maxSessionAgeMs: 1_200_000, poolTimers });
    for (let minute = 0; minute < 19; minute++) {
      (await pool.acquire('t1')).release();
      poolTimers.advance(60_000);
    }
    expect(pool.stats()).toMatchObject({ live: 1, retired: 0 });
    poolTimers.advance(60_000);
    const lease = await pool.acquire('t1');
    lease.release();
    await vi.waitFor(() => expect(pool.stats()).toMatchObject({ created: 2, retired: 1 }), { timeout: 30_000 });
  });

  it('rotates every session when the credentials change', async () => {
    const { pool } = makePool();
    const busy = await pool.acquire('t1');
    (await pool.acquire('t1')).release();
    pool.retireAll('certificate rotated');
    await vi.waitFor(() => expect(pool.stats().live).toBe(1), { timeout: 30_000 });
    busy.release();
    await vi.waitFor(() => expect(pool.stats().live).toBe(0), { timeout: 30_000 });
  });

  it('fails acquire with a transient error when Connect-MicrosoftTeams is refused', async () => {
    const { pool } = makePool();
    await expect(pool.acquire('bad-tenant')).rejects.toMatchObject({
      code: 'SessionBroken',
      transient: true,
      message: 'Connect-MicrosoftTeams failed: Invalid credential',
    });
    await vi.waitFor(() => expect(pool.stats().live).toBe(0), { timeout: 30_000 });
  });

  it('drains: closes every process and refuses new leases', async () => {
    const { pool } = makePool();
    (await pool.acquire('t1')).release();
    const pids = pool.pids();
    await pool.drain();
    expect(pids.some((pid) => isAlive(pid))).toBe(false);
    await expect(pool.acquire('t1')).rejects.toMatchObject({ message: 'The session pool is shutting down.' });
  });

  it('never logs the certificate', async () => {
    const { pool, logger } = makePool();
    const lease = await pool.acquire('t1');
    lease.discard('test');
    await pool.drain();
    const output = logger.lines.join('\n');
    expect(output).not.toContain(secret.pfxBase64);
    expect(output).not.toContain(secret.password);
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
