import { describe, expect, it } from 'vitest';
import { Sandbox } from '../../sandbox/host/sandbox.js';
import { SandboxTenantFileSchema } from '../../sandbox/teams-sim/tenant-file.js';
import { hrEvent, inputs, sampleTenant } from '../integration/sandbox-fixtures.js';
import { certificateWorkers, prepareCertificates, type ChaosCertificates } from './rotation.js';

const MINUTE = 60_000;
const START = Date.parse('2026-11-02T08:00:00Z');

/** Fails instead of hanging: a start that never returns is the defect these tests pin down. */
function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms of real time`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function licensedTenant() {
  const tenant = SandboxTenantFileSchema.parse(sampleTenant());
  for (const u of tenant.users) {
    u.servicePlans = ['TEAMS1', 'MCOEV'];
    delete u.licensedAfterMs;
  }
  return tenant;
}

async function startSandbox(tenant: ReturnType<typeof licensedTenant>, certificates: ChaosCertificates, lines: string[]): Promise<Sandbox> {
  return Sandbox.start(inputs({ tenant, eventLines: lines }), {
    storage: 'memory',
    ...certificateWorkers(certificates),
    // A held clock fails the run in seconds instead of hanging it.
    stallTimeoutMs: 5_000,
  });
}

/**
 * Key Vault throttles (429 Throttled with Retry-After) the worker's certificate read at its start.
 * Production waits it out in real time (test/worker/certificate.test.ts); the sandbox must wait it
 * out on its own clock and never hold the clock for it.
 */
describe('Key Vault 429 at a worker\'s start in the sandbox', () => {
  it('a worker restarted while Key Vault throttles its secret read twice waits out both Retry-Afters on the sandbox clock and starts, without holding the clock', async () => {
    const tenant = licensedTenant();
    const at = (min: number) => new Date(START + min * MINUTE).toISOString();
    const lines = [
      hrEvent('j1', 'joiner', at(0), { employeeId: 'E1001', departmentId: 'DEPT001', site: 'AMS' }),
      // After the restart: the restarted worker (or its sibling) applies it.
      hrEvent('j2', 'joiner', at(20), { employeeId: 'E1002', departmentId: 'DEPT002', site: 'RTM' }),
    ];
    const ref: { sandbox?: Sandbox } = {};
    const certificates = await prepareCertificates({ tenant, start: START, clock: () => ref.sandbox?.clock.nowMs() ?? START, seed: 5, rotateAt: Number.MAX_SAFE_INTEGER, noise: 0 });
    // No outage at the sandbox's own start: only the throttled restart below.
    certificates.vault.setFaults(undefined);
    const sandbox = await within(30_000, 'Sandbox.start', startSandbox(tenant, certificates, lines));
    ref.sandbox = sandbox;
    try {
      const killAt = START + 5 * MINUTE;
      const restart: { startedAt?: number } = {};
      const first = sandbox.workers()!.workers[0];
      sandbox.scheduler.at(killAt, 'test:kill', async () => {
        certificates.vault.setFaults({ seed: 1, rules: [{ operation: 'getSecret', times: 2, answer: 429, retryAfterSeconds: 30 }] });
        await sandbox.workers()!.kill(0);
        restart.startedAt = sandbox.clock.nowMs();
      });
      await sandbox.enqueueEvents(lines);
      await within(90_000, 'the run', sandbox.runFor(60 * MINUTE));

      expect(certificates.vault.metrics().throttled).toEqual({ getSecret: 2 });
      // Both Retry-Afters (30 s each) were waited out on the sandbox clock, then the worker came up.
      expect(restart.startedAt).toBeDefined();
      expect(restart.startedAt! - killAt).toBeGreaterThanOrEqual(60_000);
      expect(restart.startedAt! - killAt).toBeLessThan(2 * MINUTE);
      // A throttled read waited out is no refused start.
      expect(sandbox.workers()!.failedStarts()).toBe(0);
      expect(sandbox.workers()!.workers[0]).not.toBe(first);
      const lines2 = sandbox.logger.lines;
      expect(lines2.filter((l) => l.includes('Key Vault throttled the certificate read'))).toHaveLength(2);
      // The run went on: both joiners have voice and a number.
      const report = await sandbox.report();
      const voiced = report.users.filter((u) => u.teams.enterpriseVoiceEnabled && u.teams.lineUri !== null);
      expect(voiced.length).toBeGreaterThanOrEqual(2);
      expect(report.deadLetters).toEqual([]);
    } finally {
      await sandbox.stop();
    }
  }, 120_000);

  it('a worker throttled at the sandbox\'s own start (503s, then two 429s on the secret read) starts, and the sandbox starts', async () => {
    const tenant = licensedTenant();
    const ref: { sandbox?: Sandbox } = {};
    const certificates = await prepareCertificates({ tenant, start: START, clock: () => ref.sandbox?.clock.nowMs() ?? START, seed: 5, rotateAt: Number.MAX_SAFE_INTEGER, noise: 0 });
    certificates.vault.setFaults({
      seed: 1,
      rules: [
        { operation: 'getSecret', times: 2 },
        { operation: 'getSecret', times: 2, answer: 429, retryAfterSeconds: 30 },
      ],
    });
    const sandbox = await within(30_000, 'Sandbox.start', startSandbox(tenant, certificates, []));
    ref.sandbox = sandbox;
    try {
      expect(certificates.vault.metrics().faults).toEqual({ getSecret: 2 });
      expect(certificates.vault.metrics().throttled).toEqual({ getSecret: 2 });
      // The 503s are refused starts (systemd starts the worker again); the 429s are waited out within one.
      expect(sandbox.workers()!.failedStarts()).toBe(2);
      expect(sandbox.workers()!.workers).toHaveLength(2);
      await within(60_000, 'the run', sandbox.runFor(30 * MINUTE));
    } finally {
      await sandbox.stop();
    }
  }, 120_000);
});
