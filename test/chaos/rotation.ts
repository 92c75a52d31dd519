/**
 * The chaos run's certificate rotation: the worker certificate lives in the strict Key Vault
 * simulator, the app registration in the simulated Entra (made by the real `dialtone setup` use
 * case), Entra checks the certificate of every Connect-MicrosoftTeams, and in the middle of the
 * run the real `dialtone cert rotate` use case runs on the sandbox clock while Key Vault is
 * unavailable at times (deterministic `times: N` rules, plus seeded noise). A failed rotation is
 * run again, as its output tells the operator to; every attempt is counted.
 */
import { createEntityWorkerReports } from '../../shared/adapters/entity-worker-reports.js';
import { createGraphEntraAdmin } from '../../shared/adapters/graph-entra-admin.js';
import { createMemoryTableService } from '../../shared/adapters/memory-table-client.js';
import { liveWorkers, sameThumbprint, type SetupItem } from '../../shared/domain/setup.js';
import { workerCertificatePolicy } from '../../shared/ports/key-vault-certificates.js';
import type { WorkerReports } from '../../shared/ports/worker-reports.js';
import { rotateCertificate } from '../../shared/usecases/cert-rotate.js';
import { runSetup } from '../../shared/usecases/setup.js';
import { SimClock } from '../../sandbox/clock.js';
import type { EntraSimState } from '../../sandbox/graph-sim/applications.js';
import { sandboxGraphToken, startGraphSimulator } from '../../sandbox/graph-sim/index.js';
import type { Sandbox, SandboxOptions } from '../../sandbox/host/sandbox.js';
import { SimKeyVault, type KeyVaultFaultRule } from '../../sandbox/keyvault-sim/index.js';
import type { SandboxTenantFile } from '../../sandbox/teams-sim/tenant-file.js';
import { keyVaultCertificateSource } from '../../worker/certificate-sources.js';
import type { CertificateSource } from '../../worker/certificate.js';
import type { ObservedCertificates } from './invariants.js';

const MINUTE = 60_000;
export const CERTIFICATE_NAME = 'dialtone-teams';
const APP_NAME = 'Dialtone worker';

/** Production's timings, shortened so a rotation fits a chaos run (sandbox time). */
export const rotationTimings = {
  /** DIALTONE_CERT_RELOAD: how often each worker looks for a new Key Vault version. */
  reloadMs: 10 * MINUTE,
  /** The workers' report heartbeat. */
  reportMs: 10 * MINUTE,
  waitTimeoutMs: 120 * MINUTE,
  overlapMs: 30 * MINUTE,
  liveWithinMs: 25 * MINUTE,
  pollMs: 2 * MINUTE,
  /** How long the operator waits before running a failed `cert rotate` again. */
  rerunAfterMs: 5 * MINUTE,
  maxAttempts: 20,
};

export interface RotationRecord {
  /** When the rotation started and when it ended (sandbox ms); undefined while it has not. */
  startedAt?: number;
  endedAt?: number;
  /** When the old key credential was found gone from the app (after the attempt that removed it), if it was. */
  oldRemovedAt?: number;
  attempts: { atMs: number; items: SetupItem[] }[];
  oldThumbprint: string;
  /** The newest version's thumbprint the last attempt rotated to. */
  newThumbprint?: string;
  completed: boolean;
}

export interface ChaosCertificates {
  /** The tenant whose worker certificate this is (lower case): the home tenant's, or a registered tenant's own. */
  tenantId: string;
  /** Its Key Vault certificate (the registry's certificateName for a registered tenant). */
  certificateName: string;
  /** The bearer token the operator's Graph calls carry in the sandbox (naming the tenant when it has several). */
  graphToken: string;
  vault: SimKeyVault;
  /** What `dialtone setup` made, for the sandbox's simulated Graph to start with. */
  entra: EntraSimState;
  appId: string;
  reports: WorkerReports;
  /** Each worker's certificate source: the worker's own Key Vault code against the simulator. */
  source: () => CertificateSource;
  record: RotationRecord;
}

/**
 * Key Vault is down at the workers' start (the first two secret reads), then throttles the next two
 * (429 with Retry-After 30 s: the worker waits them out within its start) and, from the rotation's
 * start on, is down for one read of each kind the rotation and the workers' reloads make; then it
 * throttles one call of each kind the rotation makes and two of the workers' reload checks, which
 * they wait out in the same run. Seeded noise on every operation: 503s (`noise`) and 429s with a
 * 10 s Retry-After (`throttleNoise`). The restart of a killed worker is throttled too
 * (restartThrottleRules, added when the chaos run kills it).
 */
export function keyVaultFaultRules(rotateAt: number, noise: number, throttleNoise = 0): KeyVaultFaultRule[] {
  return [
    { operation: 'getSecret', times: 2 },
    { operation: 'getSecret', times: 2, answer: 429, retryAfterSeconds: 30 },
    { operation: 'latest', fromMs: rotateAt, times: 1 },
    { operation: 'create', fromMs: rotateAt, times: 1 },
    { operation: 'setEnabled', fromMs: rotateAt, times: 1 },
    { operation: 'getCertificate', fromMs: rotateAt, times: 2 },
    { operation: 'getSecret', fromMs: rotateAt, times: 1 },
    // After each 503 rule of the same operation has fired: the retry of that step is throttled.
    { operation: 'latest', fromMs: rotateAt, times: 1, answer: 429, retryAfterSeconds: 30 },
    { operation: 'create', fromMs: rotateAt, times: 1, answer: 429, retryAfterSeconds: 20 },
    { operation: 'setEnabled', fromMs: rotateAt, times: 1, answer: 429, retryAfterSeconds: 10 },
    { operation: 'setTags', fromMs: rotateAt, times: 1, answer: 429, retryAfterSeconds: 5 },
    { operation: 'getCertificate', fromMs: rotateAt, times: 2, answer: 429, retryAfterSeconds: 60 },
    ...(noise > 0 ? [{ probability: noise }] : []),
    ...(throttleNoise > 0 ? [{ probability: throttleNoise, answer: 429 as const, retryAfterSeconds: 10 }] : []),
  ];
}

/**
 * A killed worker's restart meets Key Vault's throttling: its next two secret reads answer 429
 * (Retry-After 20 s), waited out on the sandbox clock inside the tracked restart.
 */
export function restartThrottleRules(): KeyVaultFaultRule[] {
  return [{ operation: 'getSecret', times: 2, answer: 429, retryAfterSeconds: 20 }];
}

/**
 * The vault (its first version), the app registration with that version's key (the real setup
 * use case against a Graph simulator of the tenant), and the workers' report table.
 */
/**
 * Two hybrid workers on these certificates: loaded from the Key Vault simulator, reloaded and
 * reported on the rotation's timings, every Connect-MicrosoftTeams checked by the simulated Entra.
 */
export function certificateWorkers(c: ChaosCertificates): Partial<SandboxOptions> {
  return {
    workerCount: 2,
    workerTuning: { certificateReloadMs: rotationTimings.reloadMs },
    workerCertificates: c.source,
    workerReports: { reports: c.reports, intervalMs: rotationTimings.reportMs },
    entra: c.entra,
    workerApplicationId: c.appId,
    entraCertificateCheck: true,
  };
}

export async function prepareCertificates(o: {
  tenant: SandboxTenantFile;
  start: number;
  clock: () => number;
  seed: number;
  rotateAt: number;
  noise: number;
  /** Seeded 429s (Retry-After 10 s) on every operation (default none). */
  throttleNoise?: number;
  /** Default CERTIFICATE_NAME (the home tenant's). */
  certificateName?: string;
  /** The reports table every tenant's certificate reports go to (one sessionslots table per deployment). */
  reports?: WorkerReports;
  /** The run has several tenants: the sandbox's Graph tokens name their tenant. */
  multiTenant?: boolean;
}): Promise<ChaosCertificates> {
  const certificateName = o.certificateName ?? CERTIFICATE_NAME;
  const tenantId = o.tenant.tenantId.toLowerCase();
  const vault = new SimKeyVault({ now: () => new Date(o.clock()) });
  await vault.create(certificateName, workerCertificatePolicy(`CN=${APP_NAME}`));
  const setupClock = new SimClock(new Date(o.start));
  const graph = await startGraphSimulator({ tenant: o.tenant, clock: setupClock, startMs: o.start });
  let setup;
  try {
    const entra = createGraphEntraAdmin({ baseUrl: graph.baseUrl, accessToken: async () => 'sandbox-token' });
    setup = await runSetup(entra, vault, { appDisplayName: APP_NAME, certificateName, functionPrincipalId: undefined, permissions: [], dryRun: false, now: setupClock.now() });
    const failed = setup.items.find((i) => i.status === 'failed');
    if (failed || !setup.application) throw new Error(`chaos: dialtone setup failed: ${failed?.detail ?? 'no application'}`);
  } finally {
    await graph.close().catch(() => undefined);
  }
  const entraState = graph.exportEntra();
  const first = await vault.latest(certificateName);
  vault.setFaults({ seed: o.seed, rules: keyVaultFaultRules(o.rotateAt, o.noise, o.throttleNoise ?? 0) });
  return {
    tenantId,
    certificateName,
    graphToken: o.multiTenant ? sandboxGraphToken(tenantId) : 'sandbox-token',
    vault,
    entra: entraState,
    appId: setup.application.appId,
    reports: o.reports ?? createEntityWorkerReports(createMemoryTableService().table('sessionslots')),
    source: () => keyVaultCertificateSource({ vaultUrl: vault.vaultUrl, name: certificateName, secrets: vault, certificates: vault }),
    record: { attempts: [], oldThumbprint: first!.thumbprint, completed: false },
  };
}

/** Runs `dialtone cert rotate` at `at` on the sandbox clock, again after each failed attempt. */
export function scheduleRotation(sandbox: Sandbox, c: ChaosCertificates, at: number): void {
  const t = rotationTimings;
  const sleep = (ms: number) => sandbox.scheduler.sleep(ms, 'chaos:rotate');
  sandbox.scheduler.at(at, 'chaos:rotate', async () => {
    c.record.startedAt = sandbox.clock.nowMs();
    const graph = sandbox.graphOf(c.tenantId);
    const entra = createGraphEntraAdmin({ baseUrl: graph.baseUrl, accessToken: async () => c.graphToken });
    for (let attempt = 1; attempt <= t.maxAttempts; attempt++) {
      const result = await rotateCertificate(
        { entra, vault: c.vault, reports: c.reports, clock: sandbox.clock, sleep },
        // Its own tenant's reports only, as `cert rotate --tenant-id` waits on (the workers report every tenant's).
        { appId: c.appId, certificateName: c.certificateName, tenantId: c.tenantId, dryRun: false, waitTimeoutMs: t.waitTimeoutMs, overlapMs: t.overlapMs, liveWithinMs: t.liveWithinMs, pollMs: t.pollMs },
      );
      c.record.attempts.push({ atMs: sandbox.clock.nowMs(), items: result.items });
      if (result.certificate) c.record.newThumbprint = result.certificate.thumbprint;
      // Read from Entra itself: an attempt whose read-back failed may still have removed it (the
      // next attempt then finds nothing to finish and rotates once more).
      const app = graph.exportEntra().applications.find((a) => a.appId === c.appId);
      if (c.record.oldRemovedAt === undefined && app && !app.keyCredentials.some((k) => sameThumbprint(k.thumbprint, c.record.oldThumbprint))) {
        c.record.oldRemovedAt = sandbox.clock.nowMs();
      }
      if (!result.items.some((i) => i.status === 'failed')) {
        c.record.completed = true;
        break;
      }
      await sleep(t.rerunAfterMs);
    }
    c.record.endedAt = sandbox.clock.nowMs();
  });
}

/** What the invariants read of the rotation: its record, the running workers' reports, the sessions and Entra's verdicts. */
export async function observeCertificates(sandbox: Sandbox, c: ChaosCertificates, skewMs = 0): Promise<ObservedCertificates> {
  const reports = (await c.reports.list()).filter((r) => r.tenantId.toLowerCase() === c.tenantId);
  // A worker's report is dated on its host's clock: within the live window and the skew.
  const live = liveWorkers(reports, sandbox.clock.now(), rotationTimings.liveWithinMs + Math.abs(skewMs));
  return {
    rotation: c.record,
    workers: sandbox.workers()?.workers.length ?? 0,
    liveReports: live.map((r) => ({ workerId: r.workerId, thumbprint: r.thumbprint })),
    connectedThumbprints: sandbox.teams?.connectedThumbprints(c.tenantId) ?? [],
    connects: sandbox.certificateConnects().filter((x) => x.tenantId === c.tenantId).map((x) => ({ atMs: x.atMs, thumbprint: x.thumbprint, trusted: x.trusted })),
    appKeys: sandbox.graphOf(c.tenantId).exportEntra().applications.find((a) => a.appId === c.appId)?.keyCredentials.map((k) => k.thumbprint) ?? [],
  };
}
