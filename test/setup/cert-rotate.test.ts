import { describe, expect, it } from 'vitest';
import { createEntityWorkerReports } from '../../shared/adapters/entity-worker-reports.js';
import { createGraphEntraAdmin } from '../../shared/adapters/graph-entra-admin.js';
import { createMemoryTableService } from '../../shared/adapters/memory-table-client.js';
import { requiredGraphPermissions } from '../../shared/domain/doctor.js';
import { DialtoneError } from '../../shared/domain/errors.js';
import type { EntraAdmin } from '../../shared/ports/entra-admin.js';
import { workerCertificatePolicy } from '../../shared/ports/key-vault-certificates.js';
import { rotateCertificate } from '../../shared/usecases/cert-rotate.js';
import { runSetup } from '../../shared/usecases/setup.js';
import { SANDBOX_FUNCTION_PRINCIPAL_ID } from '../../sandbox/graph-sim/permissions.js';
import { Sandbox } from '../../sandbox/host/sandbox.js';
import { lostRole, SimKeyVault } from '../../sandbox/keyvault-sim/index.js';
import { keyVaultCertificateSource } from '../../worker/certificate-sources.js';
import { SimClock } from '../../sandbox/clock.js';
import { startGraphSimulator } from '../../sandbox/graph-sim/index.js';
import { hrEvent, inputs, sampleTenant } from '../integration/sandbox-fixtures.js';

const HOUR = 3_600_000;

describe('dialtone cert rotate (use case) in the sandbox, while voice commands flow', () => {
  it('switches every worker to the new version without a restart and removes the old credential only after they moved: no connect is refused, no command fails', async () => {
    // Key Vault's certificates are dated on their own clock, a day before the sandbox's first event.
    const vault = new SimKeyVault({ now: () => new Date('2026-11-01T08:00:00Z') });
    const first = await vault.create('dialtone-teams', workerCertificatePolicy('CN=Dialtone worker'));
    const reports = createEntityWorkerReports(createMemoryTableService().table('sessionslots'));
    const start = [
      hrEvent('j1', 'joiner', '2026-11-02T08:00:00Z', { employeeId: 'E1001', departmentId: 'DEPT001', site: 'AMS' }),
      hrEvent('j2', 'joiner', '2026-11-02T08:01:00Z', { employeeId: 'E1002', departmentId: 'DEPT002', site: 'RTM' }),
    ];
    // Both people licensed from the start: only the rotation is under test here.
    const tenant = sampleTenant();
    for (const u of tenant.users) {
      u.servicePlans = ['TEAMS1', 'MCOEV'];
      delete u.licensedAfterMs;
    }
    const sandbox = await Sandbox.start(inputs({ tenant, eventLines: start }), {
      storage: 'memory',
      workerCount: 2,
      // Sandbox time: the workers look for a new Key Vault version every 10 s and report every 10 s (each wave moves the clock a minute).
      workerTuning: { certificateReloadMs: 10_000 },
      workerCertificates: () => keyVaultCertificateSource({ vaultUrl: vault.vaultUrl, name: 'dialtone-teams', secrets: vault, certificates: vault }),
      workerReports: { reports, intervalMs: 10_000 },
    });
    try {
      const entra = createGraphEntraAdmin({ baseUrl: sandbox.graph.baseUrl, accessToken: async () => 'sandbox-token' });
      const setup = await runSetup(entra, vault, {
        appDisplayName: 'Dialtone worker',
        certificateName: 'dialtone-teams',
        functionPrincipalId: SANDBOX_FUNCTION_PRINCIPAL_ID,
        permissions: requiredGraphPermissions('powershell', 'graph'),
        dryRun: false,
        now: sandbox.clock.now(),
      });
      expect(setup.items.find((i) => i.kind === 'keyCredential')?.status).toBe('created');
      // From now on the simulated Entra refuses a connect whose certificate the app does not hold.
      const tenant = sandbox.teams!.tenant;
      const seen = { trusted: new Set<string>(), refused: 0 };
      tenant.certificateTrust = (_applicationId, thumbprint) => {
        const held = sandbox.graph.exportEntra().applications.some((a) => a.displayName === 'Dialtone worker' && a.keyCredentials.some((k) => k.thumbprint === thumbprint));
        if (held) seen.trusted.add(thumbprint);
        else seen.refused += 1;
        return held;
      };

      await sandbox.enqueueEvents(start);
      await sandbox.runUntilQuiet();
      expect(seen.trusted).toEqual(new Set([first.thumbprint]));

      let done = false;
      const rotation = rotateCertificate(
        {
          entra,
          vault,
          reports,
          clock: sandbox.clock,
          sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
        },
        { appId: setup.application!.appId, certificateName: 'dialtone-teams', dryRun: false, waitTimeoutMs: 600_000, overlapMs: 300, liveWithinMs: 1000 * HOUR, pollMs: 50 },
      ).finally(() => (done = true));

      // Movers keep commands flowing for as long as the rotation runs, and twice after it.
      let wave = 0;
      const sites = ['AMS', 'RTM'];
      for (let after = 0; after < 2; ) {
        wave += 1;
        const at = (k: number) => new Date(sandbox.clock.nowMs() + 60_000 + k * 1000).toISOString();
        await sandbox.enqueueEvents([
          hrEvent(`m${wave}a`, 'mover', at(0), { employeeId: 'E1001', departmentId: 'DEPT001', site: sites[wave % 2] }),
          hrEvent(`m${wave}b`, 'mover', at(1), { employeeId: 'E1002', departmentId: 'DEPT002', site: sites[(wave + 1) % 2] }),
        ]);
        await sandbox.runUntilQuiet();
        if (done) after += 1;
      }
      const rotated = await rotation;

      const statuses = rotated.items.map((i) => `${i.kind}:${i.status}`);
      expect(statuses).toEqual(['certificate:created', 'keyCredential:created', 'workers:updated', 'keyCredential:removed']);
      const next = rotated.certificate!.thumbprint;
      expect(next).not.toBe(first.thumbprint);
      // Every worker reports the new certificate; the app holds only it now.
      expect(new Set((await reports.list()).map((r) => r.thumbprint))).toEqual(new Set([next]));
      expect(sandbox.graph.exportEntra().applications[0]!.keyCredentials.map((k) => k.thumbprint)).toEqual([next]);
      // The waves after the rotation connected with the new certificate (the old sessions retired).
      expect(seen.trusted.has(next)).toBe(true);

      // Safety, in every interleaving: no connect refused, no dead letter, everyone on the last wave's pool.
      expect(seen.refused).toBe(0);
      const report = await sandbox.report();
      expect(report.deadLetters).toEqual([]);
      const poolOf = (id: string) => report.numbers.find((n) => n.userId === id && n.state === 'assigned')?.pool;
      const anna = report.users.find((u) => u.userPrincipalName.startsWith('anna'))!;
      const bram = report.users.find((u) => u.userPrincipalName.startsWith('bram'))!;
      expect(poolOf(anna.id)).toBe(sites[wave % 2]!.toLowerCase());
      expect(poolOf(bram.id)).toBe(sites[(wave + 1) % 2]!.toLowerCase());
    } finally {
      await sandbox.stop();
    }
  }, 240_000);

  it('control: removing the old credential before the workers moved is refused by the simulated Entra (AADSTS700027) at the next connect', async () => {
    const vault = new SimKeyVault({ now: () => new Date('2026-11-01T08:00:00Z') });
    const first = await vault.create('dialtone-teams', workerCertificatePolicy('CN=Dialtone worker'));
    const tenant = sampleTenant();
    for (const u of tenant.users) {
      u.servicePlans = ['TEAMS1', 'MCOEV'];
      delete u.licensedAfterMs;
    }
    const start = [hrEvent('j1', 'joiner', '2026-11-02T08:00:00Z', { employeeId: 'E1001', departmentId: 'DEPT001', site: 'AMS' })];
    const sandbox = await Sandbox.start(inputs({ tenant, eventLines: start }), {
      storage: 'memory',
      workerCount: 1,
      workerTuning: { certificateReloadMs: 0 },
      workerCertificates: () => keyVaultCertificateSource({ vaultUrl: vault.vaultUrl, name: 'dialtone-teams', secrets: vault, certificates: vault }),
    });
    try {
      const entra = createGraphEntraAdmin({ baseUrl: sandbox.graph.baseUrl, accessToken: async () => 'sandbox-token' });
      const setup = await runSetup(entra, vault, { appDisplayName: 'Dialtone worker', certificateName: 'dialtone-teams', functionPrincipalId: SANDBOX_FUNCTION_PRINCIPAL_ID, permissions: [], dryRun: false, now: sandbox.clock.now() });
      const refused: string[] = [];
      sandbox.teams!.tenant.certificateTrust = (_app, thumbprint) => {
        const held = sandbox.graph.exportEntra().applications.some((a) => a.keyCredentials.some((k) => k.thumbprint === thumbprint));
        if (!held) refused.push(thumbprint);
        return held;
      };
      // A naive rotation: a new key replaces the old one at once; the worker still holds the old certificate.
      const next = await vault.create('dialtone-teams', workerCertificatePolicy('CN=Dialtone worker'));
      await entra.setKeyCredentials(setup.application!.objectId, [{ displayName: 'naive', key: next.cerBase64, startDateTime: next.notBefore.toISOString(), endDateTime: next.expiresOn.toISOString() }]);
      for (const w of sandbox.workers()?.workers ?? []) w.pool.retireAll('test: sessions end');
      await sandbox.enqueueEvents(start);
      await sandbox.runFor(60_000);
      expect(refused.length).toBeGreaterThan(0);
      expect(new Set(refused)).toEqual(new Set([first.thumbprint]));
    } finally {
      await sandbox.stop();
    }
  }, 240_000);

  /**
   * Entra in front of the simulated Graph, failing one call of the rotation: `removedUnread` lets
   * the PATCH that removes the old key through and then answers 503 to the read-back;
   * `afterCreate` answers 503 to the first read of the app's keys after Key Vault made the version.
   */
  const failingEntra = (entra: EntraAdmin, at: 'removedUnread' | 'afterCreate', vault: SimKeyVault) => {
    let armed = true;
    let removed = false;
    const unavailable = () => new DialtoneError('ServiceUnavailable', 'Graph 503: Service Unavailable', { transient: true });
    const createdBefore = vault.metrics().created;
    const wrapped: EntraAdmin = {
      ...entra,
      keyCredentials: async (id) => {
        if (armed && at === 'removedUnread' && removed) {
          armed = false;
          throw unavailable();
        }
        if (armed && at === 'afterCreate' && vault.metrics().created > createdBefore) {
          armed = false;
          throw unavailable();
        }
        return entra.keyCredentials(id);
      },
      setKeyCredentials: async (id, credentials) => {
        const before = (await entra.keyCredentials(id)).length;
        await entra.setKeyCredentials(id, credentials);
        if (credentials.length < before) removed = true;
      },
    };
    return wrapped;
  };

  for (const at of ['removedUnread', 'afterCreate'] as const) {
    it(`a run that failed ${at === 'removedUnread' ? 'after Entra applied the removal of the old key (the read-back failed)' : 'after Key Vault made the new version (reading the app\'s keys failed)'} is finished by the next run: no other version, reported done; a later run rotates again`, async () => {
      const clock = new SimClock(new Date('2026-11-02T08:00:00Z'));
      const graph = await startGraphSimulator({ tenant: sampleTenant(), clock });
      try {
        const vault = new SimKeyVault(clock);
        const entra = createGraphEntraAdmin({ baseUrl: graph.baseUrl, accessToken: async () => 'sandbox-token' });
        const setup = await runSetup(entra, vault, { appDisplayName: 'Dialtone worker', certificateName: 'dialtone-teams', functionPrincipalId: undefined, permissions: [], dryRun: false, now: clock.now() });
        const old = setup.certificate!.thumbprint;
        const reports = createEntityWorkerReports(createMemoryTableService().table('sessionslots'));
        // The one worker loads whatever the vault serves it now, as its reload does.
        const source = keyVaultCertificateSource({ vaultUrl: vault.vaultUrl, name: 'dialtone-teams', secrets: vault, certificates: vault });
        const beat = async () => {
          const loaded = await source.load();
          await reports.report({ workerId: 'w1', tenantId: 't', thumbprint: loaded.thumbprint, version: loaded.version, notAfter: loaded.notAfter.toISOString(), reportedAt: clock.now().toISOString() });
        };
        await beat();
        const sleep = async (ms: number) => {
          clock.advanceTo(clock.nowMs() + ms);
          await beat();
        };
        const input = { appId: setup.application!.appId, certificateName: 'dialtone-teams', dryRun: false, waitTimeoutMs: 600_000, overlapMs: 60_000, liveWithinMs: 3_600_000, pollMs: 60_000 };
        const app = () => graph.exportEntra().applications[0]!.keyCredentials.map((k) => k.thumbprint);

        const first = await rotateCertificate({ entra: failingEntra(entra, at, vault), vault, reports, clock, sleep }, input);
        expect(first.items.some((i) => i.status === 'failed')).toBe(true);
        expect(vault.metrics().created).toBe(2);
        const made = (await vault.latest('dialtone-teams'))!;
        if (at === 'removedUnread') expect(app()).toEqual([made.thumbprint]);
        else expect(app()).toEqual([old]);

        const second = await rotateCertificate({ entra, vault, reports, clock, sleep }, input);
        expect(second.items.filter((i) => i.status === 'failed')).toEqual([]);
        expect(second.items.map((i) => `${i.kind}:${i.status}`)).toEqual([
          'certificate:already_exists',
          `keyCredential:${at === 'removedUnread' ? 'already_exists' : 'created'}`,
          'workers:updated',
          'keyCredential:removed',
        ]);
        expect(second.certificate?.thumbprint).toBe(made.thumbprint);
        expect(vault.metrics().created).toBe(2);
        expect(app()).toEqual([made.thumbprint]);
        expect((await vault.latest('dialtone-teams'))!.enabled).toBe(true);
        expect((await reports.list()).map((r) => r.thumbprint)).toEqual([made.thumbprint]);

        // The rotation is recorded as finished: the operator's next `cert rotate` is a new one.
        const third = await rotateCertificate({ entra, vault, reports, clock, sleep }, input);
        expect(third.items.map((i) => `${i.kind}:${i.status}`)).toEqual(['certificate:created', 'keyCredential:created', 'workers:updated', 'keyCredential:removed']);
        expect(vault.metrics().created).toBe(3);
        expect(app()).toEqual([third.certificate!.thumbprint]);
      } finally {
        await graph.close();
      }
    });
  }

  /** The vault, the app made by setup, one live worker on the old certificate that moves when asked. */
  async function rotationRig() {
    const clock = new SimClock(new Date('2026-11-02T08:00:00Z'));
    const graph = await startGraphSimulator({ tenant: sampleTenant(), clock });
    const vault = new SimKeyVault(clock);
    const entra = createGraphEntraAdmin({ baseUrl: graph.baseUrl, accessToken: async () => 'sandbox-token' });
    const setup = await runSetup(entra, vault, { appDisplayName: 'Dialtone worker', certificateName: 'dialtone-teams', functionPrincipalId: undefined, permissions: [], dryRun: false, now: clock.now() });
    const reports = createEntityWorkerReports(createMemoryTableService().table('sessionslots'));
    const source = keyVaultCertificateSource({ vaultUrl: vault.vaultUrl, name: 'dialtone-teams', secrets: vault, certificates: vault });
    const beat = async () => {
      const loaded = await source.load();
      await reports.report({ workerId: 'w1', tenantId: 't', thumbprint: loaded.thumbprint, version: loaded.version, notAfter: loaded.notAfter.toISOString(), reportedAt: clock.now().toISOString() });
    };
    await beat();
    const slept: number[] = [];
    const sleep = async (ms: number) => {
      slept.push(ms);
      clock.advanceTo(clock.nowMs() + ms);
      await beat();
    };
    const input = { appId: setup.application!.appId, certificateName: 'dialtone-teams', dryRun: false, waitTimeoutMs: 600_000, overlapMs: 60_000, liveWithinMs: 3_600_000, pollMs: 60_000 };
    return { clock, graph, vault, deps: { entra, vault, reports, clock, sleep }, input, slept, app: () => graph.exportEntra().applications[0]!.keyCredentials.map((k) => k.thumbprint) };
  }

  it('waits out Key Vault throttling (429) for its Retry-After, bounded, and completes in the same run', async () => {
    const rig = await rotationRig();
    try {
      rig.vault.setFaults({ seed: 1, rules: [{ operation: 'create', answer: 429, retryAfterSeconds: 9, times: 1 }, { operation: 'setEnabled', answer: 429, retryAfterSeconds: 4, times: 2 }, { operation: 'latest', answer: 429, times: 1 }] });
      const done = await rotateCertificate(rig.deps, rig.input);
      expect(done.items.map((i) => `${i.kind}:${i.status}`)).toEqual(['certificate:created', 'keyCredential:created', 'workers:updated', 'keyCredential:removed']);
      expect(rig.vault.metrics().throttled).toEqual({ create: 1, setEnabled: 2, latest: 1 });
      // Waited what Key Vault asked (9 s, then 4 s twice), before the polls and the overlap.
      expect(rig.slept.slice(0, 4)).toEqual([5000, 9000, 4000, 4000]);
      expect(rig.vault.metrics().created).toBe(2);
      expect(rig.app()).toEqual([done.certificate!.thumbprint]);
    } finally {
      await rig.graph.close();
    }
  });

  it('fails a step Key Vault keeps throttling after a few bounded waits, and says to run it again', async () => {
    const rig = await rotationRig();
    try {
      rig.vault.setFaults({ seed: 1, rules: [{ operation: 'create', answer: 429, retryAfterSeconds: 3600 }] });
      const failed = await rotateCertificate(rig.deps, rig.input);
      const item = failed.items.find((i) => i.status === 'failed')!;
      expect(item.kind).toBe('certificate');
      expect(item.detail).toContain('429');
      expect(item.detail).toContain('run cert rotate again');
      const tries = rig.vault.metrics().throttled.create!;
      expect(tries).toBeGreaterThan(1);
      expect(tries).toBeLessThanOrEqual(5);
      expect(Math.max(...rig.slept)).toBeLessThanOrEqual(60_000);
    } finally {
      await rig.graph.close();
    }
  });

  it('fails naming the Key Vault Certificates Officer role when the operator lost it (403 ForbiddenByRbac), keeps the old key, and completes once the role is back', async () => {
    const rig = await rotationRig();
    try {
      const old = rig.app();
      // Lost after the rotation read the vault: the new version cannot be made.
      rig.vault.setFaults({ seed: 1, rules: lostRole('Key Vault Certificates Officer').filter((r) => r.operation !== 'latest' && r.operation !== 'versions') });
      const refused = await rotateCertificate(rig.deps, rig.input);
      const item = refused.items.find((i) => i.status === 'failed')!;
      expect(item.kind).toBe('certificate');
      expect(item.detail).toContain('Key Vault Certificates Officer');
      expect(item.detail).toContain(rig.vault.vaultUrl.replace(/\/$/, ''));
      expect(item.detail).toContain('403');
      expect(rig.vault.metrics().forbidden).toEqual({ create: 1 });
      expect(rig.app()).toEqual(old);
      // Lost from the start: the first read names it too.
      rig.vault.setFaults({ seed: 1, rules: lostRole('Key Vault Certificates Officer') });
      const first = (await rotateCertificate(rig.deps, rig.input)).items.find((i) => i.status === 'failed')!;
      expect(first.detail).toContain('Key Vault Certificates Officer');
      for (const secret of rig.vault.secretValuesForLeakScan()) expect(JSON.stringify([refused, first])).not.toContain(secret.slice(0, 48));

      rig.vault.setFaults(undefined);
      const done = await rotateCertificate(rig.deps, rig.input);
      expect(done.items.filter((i) => i.status === 'failed')).toEqual([]);
      expect(rig.app()).toEqual([done.certificate!.thumbprint]);
      expect(rig.vault.metrics().created).toBe(2);
    } finally {
      await rig.graph.close();
    }
  });

  it('keeps the old credential and fails the workers step when a live worker does not move in time; a second run continues instead of making another version', async () => {
    const clock = new SimClock(new Date('2026-11-02T08:00:00Z'));
    const graph = await startGraphSimulator({ tenant: sampleTenant(), clock });
    try {
      const vault = new SimKeyVault(clock);
      const entra = createGraphEntraAdmin({ baseUrl: graph.baseUrl, accessToken: async () => 'sandbox-token' });
      const setup = await runSetup(entra, vault, { appDisplayName: 'Dialtone worker', certificateName: 'dialtone-teams', functionPrincipalId: undefined, permissions: [], dryRun: false, now: clock.now() });
      const old = setup.certificate!.thumbprint;
      const reports = createEntityWorkerReports(createMemoryTableService().table('sessionslots'));
      const beat = (workerId: string, thumbprint: string) => reports.report({ workerId, tenantId: 't', thumbprint, version: 'v', notAfter: '2027-11-01T00:00:00.000Z', reportedAt: clock.now().toISOString() });
      await beat('stuck', old);
      const deps = { entra, vault, reports, clock, sleep: async (ms: number) => clock.advanceTo(clock.nowMs() + ms) };
      const input = { appId: setup.application!.appId, certificateName: 'dialtone-teams', dryRun: false, waitTimeoutMs: 600_000, overlapMs: 60_000, liveWithinMs: 3_600_000, pollMs: 60_000 };

      const planned = await rotateCertificate(deps, { ...input, dryRun: true });
      expect(planned.items.map((i) => `${i.kind}:${i.status}`)).toEqual(['certificate:created', 'keyCredential:created', 'workers:updated', 'keyCredential:removed']);
      expect(planned.items.every((i) => i.kind === 'workers' || i.detail.startsWith('would'))).toBe(true);
      expect(vault.metrics().created).toBe(1);

      const first = await rotateCertificate(deps, input);
      expect(first.items.map((i) => `${i.kind}:${i.status}`)).toEqual(['certificate:created', 'keyCredential:created', 'workers:failed']);
      expect(first.items[2]!.detail).toContain('stuck');
      const held = graph.exportEntra().applications[0]!.keyCredentials.map((k) => k.thumbprint);
      expect(held).toEqual([old, first.certificate!.thumbprint]);

      await beat('stuck', first.certificate!.thumbprint);
      const second = await rotateCertificate(deps, input);
      expect(second.items.map((i) => `${i.kind}:${i.status}`)).toEqual(['certificate:already_exists', 'keyCredential:already_exists', 'workers:updated', 'keyCredential:removed']);
      expect(vault.metrics().created).toBe(2);
      expect(graph.exportEntra().applications[0]!.keyCredentials.map((k) => k.thumbprint)).toEqual([first.certificate!.thumbprint]);
    } finally {
      await graph.close();
    }
  });
});
