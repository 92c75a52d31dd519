/**
 * Issue 16, item 3: per-tenant credentials and limits in the worker. A session of tenant A is only
 * ever connected with A's app and certificate; a tenant with a refused certificate or one that is
 * throttled and holds all its sessions never stalls another tenant.
 */
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createEntitySessionSlots } from '../../shared/adapters/entity-session-slots.js';
import { createMemoryTableService } from '../../shared/adapters/memory-table-client.js';
import { createMemoryLogger } from '../../shared/logging/logger.js';
import type { Clock } from '../../shared/ports/clock.js';
import { applyVoiceCommand } from '../../worker/apply.js';
import { inspectPfx, type CertificateSource } from '../../worker/certificate.js';
import { SessionPool, type PoolOptions } from '../../worker/pool.js';
import { realTimers } from '../../worker/timers.js';
import { startTenantCredentials, type WorkerTenant } from '../../worker/tenant-credentials.js';
import { makeTestPfx } from './helpers/certificates.js';
import { command } from './helpers/sim.js';

const fakeHost = { command: process.execPath, args: [fileURLToPath(new URL('./fixtures/fake-pwsh.mjs', import.meta.url))] };
const clock: Clock = { now: () => new Date('2026-12-01T10:00:00Z') };
const A = '11111111-1111-4111-8111-111111111111';
const B = '22222222-2222-4222-8222-222222222222';
const APP_A = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const APP_B = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb';
const pfxA = makeTestPfx({ commonName: 'contoso-teams' });
const pfxB = makeTestPfx({ commonName: 'fabrikam-teams' });
const expired = makeTestPfx({ commonName: 'fabrikam-expired', notBefore: new Date('2025-01-01T00:00:00Z'), notAfter: new Date('2026-02-01T00:00:00Z') });
const digest = (pfx: string) => createHash('sha256').update(pfx).digest('hex').slice(0, 16);

function source(pfx: string, name: string): CertificateSource {
  return { description: `test ${name}`, load: async () => ({ ...inspectPfx(pfx, null, name), pfxBase64: pfx, password: null, version: 'v1' }) };
}

const tenantA: WorkerTenant = { tenantId: A, applicationId: APP_A, certificates: source(pfxA, 'contoso') };
const tenantB: WorkerTenant = { tenantId: B, applicationId: APP_B, certificates: source(pfxB, 'fabrikam') };

const pools: SessionPool[] = [];
const stops: (() => void)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) stop();
  for (const pool of pools.splice(0)) await pool.drain();
});

async function credentialsFor(tenants: WorkerTenant[], onRotate: (tenantId: string) => void = () => undefined) {
  const logger = createMemoryLogger();
  const creds = await startTenantCredentials({ tenants, clock, logger, timers: realTimers, reloadIntervalMs: 0, onRotate });
  stops.push(() => creds.stop());
  return { creds, logger };
}

function pool(options: Partial<PoolOptions> & Pick<PoolOptions, 'credentials'>): SessionPool {
  const p = new SessionPool({
    command: fakeHost,
    maxSessions: 3,
    maxSessionsPerTenant: 2,
    idleTimeoutMs: 60_000,
    maxSessionAgeMs: 3_600_000,
    connectTimeoutMs: 30_000,
    logger: createMemoryLogger(),
    slotRetryMs: 20,
    ...options,
  });
  pools.push(p);
  return p;
}

type Lease = Awaited<ReturnType<SessionPool['acquire']>>;
const whoami = async (lease: Lease) =>
  ((await lease.session.call('Get-CsOnlineUser', { Identity: 'whoami' }, { timeoutMs: 30_000 })) as { result: { connectedAs: { tenantId: string; applicationId: string; certificate: string } } }).result.connectedAs;

describe('per-tenant credentials', () => {
  it('connects a session of tenant A only ever with A\'s app and certificate, also after a reconnect and a rotation', async () => {
    const { creds } = await credentialsFor([tenantA, tenantB]);
    const p = pool({ credentials: (t) => creds.credentials(t), sessionLimit: (t) => creds.sessionLimit(t) });
    const expected = { [A]: { tenantId: A, applicationId: APP_A, certificate: digest(pfxA) }, [B]: { tenantId: B, applicationId: APP_B, certificate: digest(pfxB) } };
    const mismatches: string[] = [];
    const task = async (i: number) => {
      const tenant = i % 3 === 0 ? B : A;
      const lease = await p.acquire(tenant);
      try {
        if (i % 5 === 0) await lease.reconnect();
        if (i === 12) p.retireAll('certificate rotated', A);
        const seen = await whoami(lease);
        if (JSON.stringify(seen) !== JSON.stringify(expected[tenant])) mismatches.push(`${tenant} ran as ${JSON.stringify(seen)}`);
      } finally {
        lease.release();
      }
    };
    await Promise.all(Array.from({ length: 24 }, (_, i) => task(i)));
    expect(mismatches).toEqual([]);
    expect(p.stats().connects).toBeGreaterThan(2);
  }, 180_000);

  it('refuses a tenant it does not serve, naming it', async () => {
    const { creds } = await credentialsFor([tenantA]);
    await expect(creds.credentials(B)).rejects.toMatchObject({ code: 'ConfigInvalid', message: expect.stringContaining(`tenant ${B} is not served by this worker`) });
  });
});

describe('a tenant with a refused certificate', () => {
  it('does not stop the worker from starting or the healthy tenant from working; its commands fail CertificateInvalid at once', async () => {
    const { creds, logger } = await credentialsFor([tenantA, { ...tenantB, certificates: source(expired, 'fabrikam') }]);
    const refused = logger.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => String(l['message'] ?? l['msg']).includes('tenant certificate refused'));
    expect(refused).toEqual([expect.objectContaining({ tenantId: B, code: 'CertificateInvalid' })]);
    expect(logger.lines.join('\n')).not.toContain(expired.slice(0, 40));
    const p = pool({ credentials: (t) => creds.credentials(t) });
    const broken = applyVoiceCommand({ ...command(1), tenantId: B }, { sessions: p, tenantId: A, clock, logger: createMemoryLogger(), cmdletTimeoutMs: 10_000, backoffMs: [10] });
    const healthy = p.acquire(A).then(async (lease) => {
      const seen = await whoami(lease);
      lease.release();
      return seen;
    });
    const [result, seen] = await Promise.all([broken, healthy]);
    expect(result).toMatchObject({ status: 'failed', tenantId: B, error: { class: 'permanent', code: 'CertificateInvalid', message: expect.stringContaining(`tenant ${B}`) } });
    expect(JSON.stringify(result)).not.toContain(expired.slice(0, 40));
    expect(seen).toEqual({ tenantId: A, applicationId: APP_A, certificate: digest(pfxA) });
  }, 180_000);
});

describe('per-tenant session limits', () => {
  it('keeps a throttled tenant that holds all its sessions from stalling another tenant', async () => {
    const { creds } = await credentialsFor([{ ...tenantA, sessionLimit: 1 }, { ...tenantB, sessionLimit: 2 }]);
    const slots = createEntitySessionSlots({ table: createMemoryTableService().table('sessionslots'), clock: { now: () => new Date() }, limit: 4, leaseMs: 60_000 });
    const p = pool({ credentials: (t) => creds.credentials(t), sessionLimit: (t) => creds.sessionLimit(t), slots, holderId: 'w1' });
    // Tenant A is throttled: its one session is held by a command backing off, and more of its commands wait.
    const held = await p.acquire(A);
    let waitingDone = 0;
    const waiting = Array.from({ length: 3 }, () =>
      p.acquire(A).then((lease) => {
        waitingDone += 1;
        return lease;
      }),
    );
    // Tenant B gets its two sessions while A's commands still wait.
    const b1 = await p.acquire(B);
    const b2 = await p.acquire(B);
    expect(await whoami(b1)).toMatchObject({ tenantId: B });
    expect(await whoami(b2)).toMatchObject({ tenantId: B });
    expect(waitingDone).toBe(0);
    expect(p.stats().live).toBe(3);
    b1.release();
    b2.release();
    held.release();
    for (const next of waiting) (await next).release();
    expect(waitingDone).toBe(3);
    expect(p.stats().peakLive).toBeLessThanOrEqual(3);
  }, 180_000);

  it('holds a tenant to its own limit across workers sharing the slots, and the other tenant to its own', async () => {
    const slots = createEntitySessionSlots({ table: createMemoryTableService().table('sessionslots'), clock: { now: () => new Date() }, limit: 4, leaseMs: 60_000 });
    const { creds } = await credentialsFor([{ ...tenantA, sessionLimit: 1 }, { ...tenantB, sessionLimit: 2 }]);
    // A warm idle session keeps its slot until the reaper closes it (Teams still counts it): reap fast here.
    const fast = { idleTimeoutMs: 100, reapIntervalMs: 50 };
    const w1 = pool({ credentials: (t) => creds.credentials(t), sessionLimit: (t) => creds.sessionLimit(t), slots, holderId: 'w1', ...fast });
    const w2 = pool({ credentials: (t) => creds.credentials(t), sessionLimit: (t) => creds.sessionLimit(t), slots, holderId: 'w2', ...fast });
    const a1 = await w1.acquire(A);
    let a2Granted = false;
    const a2 = w2.acquire(A).then((lease) => {
      a2Granted = true;
      return lease;
    });
    a2.catch(() => undefined);
    const b1 = await w2.acquire(B);
    const b2 = await w1.acquire(B);
    expect(a2Granted).toBe(false);
    expect(await slots.tryAcquire(B, 'probe', 2)).toBeUndefined();
    a1.release();
    await vi.waitFor(() => expect(a2Granted).toBe(true), { timeout: 30_000, interval: 20 });
    (await a2).release();
    b1.release();
    b2.release();
  }, 180_000);
});
