import { describe, expect, it } from 'vitest';
import { createGraphEntraAdmin } from '../../shared/adapters/graph-entra-admin.js';
import { rotateCertificate } from '../../shared/usecases/cert-rotate.js';
import { Sandbox } from '../../sandbox/host/sandbox.js';
import { lostRole } from '../../sandbox/keyvault-sim/index.js';
import { SandboxTenantFileSchema } from '../../sandbox/teams-sim/tenant-file.js';
import { inputs, sampleTenant } from '../integration/sandbox-fixtures.js';
import { CERTIFICATE_NAME, certificateWorkers, observeCertificates, prepareCertificates, rotationTimings } from './rotation.js';

const MINUTE = 60_000;
const START = Date.parse('2026-11-02T08:00:00Z');

/**
 * Not part of the chaos run: a role assignment on the vault is removed (the worker's Key Vault
 * Secrets User and Key Vault Reader, the operator's Key Vault Certificates Officer) while the
 * sandbox's two workers run, then restored. Key Vault answers 403 ForbiddenByRbac as it does.
 */
describe('a lost Key Vault role assignment (403 ForbiddenByRbac) in the sandbox', () => {
  it('a restarted worker refuses to start and a running one keeps its certificate, each naming the role; cert rotate fails naming its role; once the roles are back the worker starts and the rotation completes', async () => {
    const tenant = SandboxTenantFileSchema.parse(sampleTenant());
    const ref: { sandbox?: Sandbox } = {};
    const certificates = await prepareCertificates({ tenant, start: START, clock: () => ref.sandbox?.clock.nowMs() ?? START, seed: 5, rotateAt: Number.MAX_SAFE_INTEGER, noise: 0 });
    // Only the lost roles below: no outage at the workers' start.
    certificates.vault.setFaults(undefined);
    const sandbox = await Sandbox.start(inputs({ tenant, eventLines: [] }), {
      storage: 'memory',
      ...certificateWorkers(certificates),
    });
    ref.sandbox = sandbox;
    const vault = certificates.vault;
    const t = rotationTimings;
    const rotate = () =>
      rotateCertificate(
        { entra: createGraphEntraAdmin({ baseUrl: sandbox.graph.baseUrl, accessToken: async () => 'sandbox-token' }), vault, reports: certificates.reports, clock: sandbox.clock, sleep: (ms) => sandbox.scheduler.sleep(ms, 'test:rotate') },
        { appId: certificates.appId, certificateName: CERTIFICATE_NAME, dryRun: false, waitTimeoutMs: t.waitTimeoutMs, overlapMs: t.overlapMs, liveWithinMs: t.liveWithinMs, pollMs: t.pollMs },
      );
    const results: Awaited<ReturnType<typeof rotate>>[] = [];
    try {
      const lose = START + 5 * MINUTE;
      sandbox.scheduler.at(lose, 'test:lose-roles', () =>
        vault.setFaults({ seed: 1, rules: [...lostRole('Key Vault Secrets User'), ...lostRole('Key Vault Reader'), ...lostRole('Key Vault Certificates Officer')] }),
      );
      sandbox.scheduler.at(lose + MINUTE, 'test:kill', async () => {
        await sandbox.workers()!.kill(0);
      });
      sandbox.scheduler.at(lose + 2 * MINUTE, 'test:rotate-denied', async () => {
        results.push(await rotate());
      });
      // Back after 12 minutes (the sandbox's systemd gives up after 20).
      sandbox.scheduler.at(lose + 12 * MINUTE, 'test:restore-roles', () => vault.setFaults(undefined));
      sandbox.scheduler.at(lose + 14 * MINUTE, 'test:rotate', async () => {
        results.push(await rotate());
      });
      await sandbox.runFor(4 * 60 * MINUTE);

      const lines = sandbox.logger.lines;
      // The restarted worker refused to start, saying which role its identity lacks on which vault.
      expect(sandbox.workers()!.failedStarts()).toBeGreaterThan(0);
      const refusal = lines.find((l) => l.includes('worker refused to start'));
      expect(refusal).toContain('Key Vault Secrets User');
      expect(refusal).toContain(vault.vaultUrl.replace(/\/$/, ''));
      // The worker still running kept its certificate: its reload was refused for Key Vault Reader.
      expect(lines.find((l) => l.includes('certificate check failed'))).toContain('Key Vault Reader');
      expect(vault.metrics().forbidden.getCertificate).toBeGreaterThan(0);
      // cert rotate failed naming the operator's role, and changed nothing.
      expect(results).toHaveLength(2);
      const denied = results[0]!.items.find((i) => i.status === 'failed')!;
      expect(denied.detail).toContain('Key Vault Certificates Officer');
      expect(results[0]!.certificate).toBeUndefined();
      // Once the roles were back: the rotation completed, every worker on the new certificate, the old key gone.
      const done = results[1]!;
      expect(done.items.filter((i) => i.status === 'failed')).toEqual([]);
      expect(done.items.map((i) => `${i.kind}:${i.status}`)).toEqual(['certificate:created', 'keyCredential:created', 'workers:updated', 'keyCredential:removed']);
      expect(vault.metrics().created).toBe(2);
      const observed = await observeCertificates(sandbox, certificates);
      expect(observed.liveReports.length).toBe(2);
      expect(new Set(observed.liveReports.map((r) => r.thumbprint))).toEqual(new Set([done.certificate!.thumbprint]));
      expect(observed.appKeys).toEqual([done.certificate!.thumbprint]);
      expect(observed.connects.filter((c) => !c.trusted)).toEqual([]);
      // No secret in what was logged or reported.
      const written = JSON.stringify({ lines, results });
      for (const secret of vault.secretValuesForLeakScan()) expect(written).not.toContain(secret.slice(0, 48));
    } finally {
      await sandbox.stop();
    }
  }, 300_000);
});
