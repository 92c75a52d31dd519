/**
 * A worker serving registered tenants reports the certificate it connects with for each of them
 * (one report per worker and tenant), and `dialtone cert rotate` of one tenant's certificate waits
 * only on that tenant's reports. Before, the worker reported the home tenant's certificate alone,
 * so the rotation of a registered tenant's certificate waited for the home tenant's thumbprint to
 * become the new one: it never completed and kept the old credential.
 */
import { describe, expect, it } from 'vitest';
import { createEntityWorkerReports } from '../../shared/adapters/entity-worker-reports.js';
import { createGraphEntraAdmin } from '../../shared/adapters/graph-entra-admin.js';
import { createMemoryTableService } from '../../shared/adapters/memory-table-client.js';
import { sameThumbprint } from '../../shared/domain/setup.js';
import { workerCertificatePolicy } from '../../shared/ports/key-vault-certificates.js';
import { rotateCertificate, type RotateResult } from '../../shared/usecases/cert-rotate.js';
import { runSetup } from '../../shared/usecases/setup.js';
import { sandboxGraphToken } from '../../sandbox/graph-sim/index.js';
import { Sandbox } from '../../sandbox/host/sandbox.js';
import { SimKeyVault } from '../../sandbox/keyvault-sim/index.js';
import { zeroLatencyModel } from '../../sandbox/latency-model.js';
import { keyVaultCertificateSource } from '../../worker/certificate-sources.js';
import { hrEvent, inputs, tenantWith, user } from '../integration/sandbox-fixtures.js';
import { TENANT_A, TENANT_B, twoTenantInputs } from '../integration/tenant-worlds.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const START = Date.parse('2026-11-02T08:00:00Z');
const NAME = 'tenant-b-teams';
const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const people = [1, 2].map((n) => user(id(n), `p${n}@contoso.example`, `P${n}`));
const joiners = people.map((p, i) => hrEvent(`j${i}`, 'joiner', '2026-11-02T08:00:00Z', { employeeId: p.employeeId, userPrincipalName: p.userPrincipalName, site: 'AMS', departmentId: 'DEPT001' }));

describe("a registered tenant's worker certificate", () => {
  it('is reported by every worker beside the home one, and its rotation completes waiting on its own reports only', async () => {
    const ref: { sandbox?: Sandbox } = {};
    const vault = new SimKeyVault({ now: () => ref.sandbox?.clock.now() ?? new Date(START) });
    const first = await vault.create(NAME, workerCertificatePolicy('CN=Dialtone worker'));
    const reports = createEntityWorkerReports(createMemoryTableService().table('sessionslots'));
    const input = twoTenantInputs(inputs({ tenant: tenantWith(people), eventLines: joiners }));
    const sandbox = await Sandbox.start(input, {
      storage: 'memory',
      latency: zeroLatencyModel,
      workerCount: 2,
      workerTuning: { certificateReloadMs: 10 * MINUTE },
      workerReports: { reports, intervalMs: 10 * MINUTE },
      tenantCertificates: (tenantId) => (tenantId === TENANT_B ? keyVaultCertificateSource({ vaultUrl: vault.vaultUrl, name: NAME, secrets: vault, certificates: vault }) : undefined),
    });
    ref.sandbox = sandbox;
    try {
      const entra = createGraphEntraAdmin({ baseUrl: sandbox.graphOf(TENANT_B).baseUrl, accessToken: async () => sandboxGraphToken(TENANT_B) });
      const setup = await runSetup(entra, vault, { appDisplayName: 'Dialtone worker', certificateName: NAME, functionPrincipalId: undefined, permissions: [], dryRun: false, now: sandbox.clock.now() });
      expect(setup.items.find((i) => i.status === 'failed')).toBeUndefined();
      await sandbox.enqueueEvents(input.eventLines);
      await sandbox.runUntilQuiet();

      const byTenant = async (tenantId: string) => (await reports.list()).filter((r) => r.tenantId.toLowerCase() === tenantId);
      const home = await byTenant(TENANT_A);
      expect(home).toHaveLength(2);
      expect((await byTenant(TENANT_B)).map((r) => r.thumbprint)).toEqual([first.thumbprint, first.thumbprint]);

      let result: RotateResult | undefined;
      sandbox.scheduler.at(sandbox.clock.nowMs() + MINUTE, 'rotate', async () => {
        result = await rotateCertificate(
          { entra, vault, reports, clock: sandbox.clock, sleep: (ms) => sandbox.scheduler.sleep(ms, 'rotate') },
          { appId: setup.application!.appId, certificateName: NAME, tenantId: TENANT_B, dryRun: false, waitTimeoutMs: 120 * MINUTE, overlapMs: 30 * MINUTE, liveWithinMs: 25 * MINUTE, pollMs: 2 * MINUTE },
        );
      });
      await sandbox.runFor(4 * HOUR);
      await sandbox.runUntilQuiet();

      expect(result?.items.map((i) => `${i.kind}:${i.status}`)).toEqual(['certificate:created', 'keyCredential:created', 'workers:updated', 'keyCredential:removed']);
      const next = result!.certificate!.thumbprint;
      const now = await byTenant(TENANT_B);
      expect(now).toHaveLength(2);
      for (const r of now) expect(sameThumbprint(r.thumbprint, next)).toBe(true);
      // The home tenant's certificate did not move.
      expect((await byTenant(TENANT_A)).map((r) => r.thumbprint)).toEqual(home.map((r) => r.thumbprint));
      expect(sandbox.graphOf(TENANT_B).exportEntra().applications[0]!.keyCredentials.map((k) => k.thumbprint)).toEqual([next]);
      expect((await sandbox.report()).deadLetters).toEqual([]);
    } finally {
      await sandbox.stop();
    }
  }, 120_000);
});
