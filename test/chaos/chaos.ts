import { queueNames } from '../../shared/contracts/messages.js';
import { parseVoicePolicy } from '../../shared/domain/policy.js';
import type { PoolDefinition } from '../../shared/domain/numbers.js';
import { createStaticPolicyCatalog } from '../../shared/adapters/file-policy-catalog.js';
import type { BusFaults } from '../../sandbox/bus/bus-faults.js';
import type { GraphFaults } from '../../sandbox/graph-sim/index.js';
import { SANDBOX_CLIENT_STATE, Sandbox, type SandboxOptions } from '../../sandbox/host/sandbox.js';
import { seededRandom, type FaultRule } from '../../sandbox/teams-sim/faults.js';
import { SandboxTenantFileSchema, type SandboxTenantFile } from '../../sandbox/teams-sim/tenant-file.js';
import { inputs, sampleTenant } from '../integration/sandbox-fixtures.js';
import { checkInvariants, mergeTenantInvariants, noCrossing, webhookAnsweredInTime, withinFunctionTimeout, type Invariant, type Observed, type ObservedCrossing, type Secret } from './invariants.js';
import { createEntityWorkerReports } from '../../shared/adapters/entity-worker-reports.js';
import { createMemoryTableService } from '../../shared/adapters/memory-table-client.js';
import { CERTIFICATE_NAME, observeCertificates, prepareCertificates, restartThrottleRules, rotationTimings, scheduleRotation, type ChaosCertificates } from './rotation.js';
import { buildPopulation, CHAOS_START, type Population } from './population.js';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export interface ChaosOptions {
  seed: number;
  people: number;
  /**
   * Tenants the population is split over (default 1): the home tenant and registered tenants of
   * one deployment, each with its own Graph / Entra, Teams tenant, number inventory and worker
   * certificate (rotated mid-run too); with 2 or more the run also checks that nothing crossed
   * between them, and every other invariant per tenant.
   */
  tenants?: number;
  /**
   * Who applies voice commands: the two hybrid workers over the pwsh protocol (default), or the
   * graphVoice function through Graph's Teams administration API (no worker, no certificate, no
   * rotation: the invariants about them say they do not apply), or `mixed` (needs 2 tenants or
   * more): a graph deployment that keeps the hybrid worker (production's graphWithWorker), the
   * home tenant and every second registered tenant on Graph, the others (tenants 2, 4) on
   * PowerShell through the registry's `teamsBackend` (see tenantBackendOf).
   */
  teamsBackend?: ChaosBackend;
  /** Observed state handed to the invariants, changed first (tests break it on purpose). */
  tamper?: (observed: Observed) => void;
  onProgress?: (line: string) => void;
  /** Fail when the sandbox holds its clock this long in real time with nothing changing (default 300 s; `--stall-ms`). */
  stallTimeoutMs?: number;
  /**
   * Where the tables live: the strict in-memory twin with its seeded 503/412/timeout storms
   * (default), or Azurite through the real Azure Table adapters (`--storage azurite`; no table
   * faults: Azurite cannot be told to fail).
   */
  storage?: 'memory' | 'azurite';
}

/** The DESIGN.md contract (`seed`, `faults`, `invariants`) and the figures docs/RELIABILITY.md prints. */
export interface ChaosResult {
  seed: number;
  teamsBackend: ChaosBackend;
  /** The tenants the population was split over, with their people and the Teams backend that served them. */
  tenants: { tenantId: string; people: number; teamsBackend: 'powershell' | 'graph' }[];
  storage: 'memory' | 'azurite';
  faults: Record<string, number>;
  invariants: Invariant[];
  people: number;
  events: { hr: number; duplicatesAfterWindow: number; directoryChanges: number; lostNotifications: number; beforeSubscription: number; badInputs: number; byScenario: Record<string, number> };
  retries: Record<string, number>;
  badInputs: { why: string; outcome: string }[];
  simulatedHours: number;
  realSeconds: number;
}

/** The run's Teams backend: one for the whole deployment, or `mixed` (graphWithWorker). */
export type ChaosBackend = 'powershell' | 'graph' | 'mixed';

/**
 * The Teams backend that serves tenant `index` (0 the home tenant). `mixed`: the deployment runs
 * on Graph and so does its home tenant; the registered tenants alternate, the 2nd (index 1), 4th
 * on PowerShell, the 3rd, 5th on Graph. With two tenants that is one of each; with three or more a
 * registered tenant on Graph runs beside a registered tenant on PowerShell, so the routing by
 * tenant (voice-commands or voice-commands-pwsh) is tested among registered tenants as well, not
 * only home against the rest.
 */
export function tenantBackendOf(backend: ChaosBackend, index: number): 'powershell' | 'graph' {
  if (backend !== 'mixed') return backend;
  return index % 2 === 1 ? 'powershell' : 'graph';
}

/** Why the run's options cannot be run, or undefined: the checks runChaos and `npm run chaos` share. */
export function chaosOptionsProblem(o: { people: number; tenants?: number; teamsBackend?: ChaosBackend }): string | undefined {
  const tenants = o.tenants ?? 1;
  if (!Number.isInteger(tenants) || tenants < 1 || tenants > MAX_TENANTS) return `tenants must be an integer from 1 to ${MAX_TENANTS}`;
  if (o.people < tenants) return `${o.people} people cannot be split over ${tenants} tenants`;
  if (o.teamsBackend === 'mixed' && tenants < 2) return 'the mixed Teams backend needs --tenants 2 or more: the home tenant runs on Graph, a registered tenant on PowerShell';
  return undefined;
}

export const chaosPools: PoolDefinition[] = [
  { id: 'ams', ranges: [{ from: '+31201240000', to: '+31201241999' }], quarantineDays: 90 },
  { id: 'rtm', ranges: [{ from: '+31101240000', to: '+31101241999' }], quarantineDays: 90 },
];

/** The id of the run's tenant `index` after the home one (the sample tenant's); its first 8 characters name it in the figures. */
export const chaosTenantId = (index: number): string => `c4a0500${index}-0000-4000-8000-${String(index + 1).padStart(12, '0')}`;
/** At most this many tenants: each gets its own ranges beside the home tenant's. */
export const MAX_TENANTS = 5;

/** Tenant `index`'s own pools: the same pool ids over its own ranges (+3120125…, +3120126…, …), naming it. */
export function tenantPools(index: number, tenantId: string): PoolDefinition[] {
  const shift = (n: string) => `${n.slice(0, 7)}${(Number(n[7]) + index) % 10}${n.slice(8)}`;
  return chaosPools.map((p) => ({ ...p, tenantId, ranges: p.ranges.map((r) => ({ from: shift(r.from), to: shift(r.to) })) }));
}

/** Each tenant's share of `people`: as even as can be, the home tenant first. */
export function splitPeople(people: number, tenants: number): number[] {
  return Array.from({ length: tenants }, (_, k) => Math.floor(people / tenants) + (k < people % tenants ? 1 : 0));
}

/** One tenant of the run: its population, pools, Teams tenant file and (PowerShell backend) worker certificate. */
interface ChaosTenant {
  tenantId: string;
  index: number;
  /** Who applies its voice commands: the hybrid workers (with its worker certificate) or graphVoice. */
  backend: 'powershell' | 'graph';
  population: Population;
  pools: PoolDefinition[];
  file: SandboxTenantFile;
  certificates?: ChaosCertificates;
}

/** A registered tenant's rotation starts this long after the previous tenant's. */
const ROTATION_STAGGER = 20 * MINUTE;

/** The certificate rotation starts here, while HR events still flow and workers get killed (sandbox time). */
export const ROTATE_AT = CHAOS_START + 90 * MINUTE;
/** Seeded Key Vault 503s on every operation, beside the deterministic rules of rotation.ts. */
const KEY_VAULT_NOISE = 0.02;
/** Seeded Key Vault 429s (Retry-After 10 s) on every operation: waited out by the worker, at its start too, and by cert rotate. */
const KEY_VAULT_THROTTLE_NOISE = 0.015;

function teamsFaults(): FaultRule[] {
  return [
    { kind: 'throttle', probability: 0.04 },
    { kind: 'busy', probability: 0.03 },
    { kind: 'unavailable', probability: 0.03 },
    { kind: 'crash', cmdlet: 'Set-CsPhoneNumberAssignment', phase: 'after', probability: 0.03 },
    { kind: 'crash', cmdlet: 'Grant-CsTenantDialPlan', probability: 0.02 },
    // A hung cmdlet costs the worker's cmdlet deadline (120 s) on the sandbox clock: a few per run.
    { kind: 'hang', cmdlet: 'Grant-CsOnlineVoiceRoutingPolicy', probability: 0.05, times: 3 },
  ];
}

/**
 * While the sandbox, as the HR producer, first sends the HR lines: Service Bus throttles a few %
 * of the sends (ServiceBusy), which the producer sends again. No QuotaExceeded there: a line it
 * refuses is a refused input (reported, tested in test/integration/refused-input.test.ts), and a
 * person whose joiner never entered the pipeline would have no newest truth to check against.
 */
const HR_ENQUEUE_BUSY = 0.04;

/**
 * Late lock renewals: a worker's session-lock renewal (every 20 s while PowerShell runs) that
 * reaches the broker only after the 5-minute lock expired there, so the lock is lost by time on
 * the broker (not dropped by the chaos) and the renewal itself is answered SessionLockLost. A few
 * per run, counted as lock:lateRenewal.
 */
const lateRenewals = (people: number, queue: string) => ({ queue, probability: 0.5, times: Math.max(2, Math.round(people / 20)) });

const busFaults = (seed: number, people: number, workerQueue: string): BusFaults => ({
  seed,
  rules: [
    { code: 'QuotaExceeded', probability: 0.01 },
    { code: 'ServiceBusy', probability: 0.02 },
  ],
  lateRenewals: lateRenewals(people, workerQueue),
});

/** Plays a seeded population through the whole sandbox under every fault, then checks the invariants. */
export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const started = Date.now();
  const { seed } = options;
  const tenantCount = options.tenants ?? 1;
  const problem = chaosOptionsProblem(options);
  if (problem) throw new Error(problem);
  const backend = options.teamsBackend ?? 'powershell';
  const multi = tenantCount > 1;
  const random = seededRandom(seed * 104_729 + 3);
  const base = sampleTenant();
  const homeId = base.tenantId.toLowerCase();
  const sizes = splitPeople(options.people, tenantCount);
  const tenants: ChaosTenant[] = sizes.map((size, index) => {
    const tenantId = index === 0 ? homeId : chaosTenantId(index);
    // One tenant: the population exactly as before tenants; several: each its own, every event naming its tenant.
    const population = buildPopulation(index === 0 ? seed : seed * 7_919 + index, size, multi ? { tenantId, index } : undefined);
    const file = SandboxTenantFileSchema.parse({
      ...base,
      ...(index === 0 ? {} : { tenantId, displayName: `Chaos tenant ${index + 1}` }),
      users: population.users,
      externalAssignments: [],
      directoryChanges: population.directoryChanges,
    });
    return { tenantId, index, backend: tenantBackendOf(backend, index), population, pools: multi ? tenantPools(index, tenantId) : chaosPools, file };
  });
  const home = tenants[0]!;
  const hrLines = tenants.flatMap((t) => t.population.hrLines);
  const duplicates = tenants.flatMap((t) => t.population.duplicates);
  const policyText = readFileSync(fileURLToPath(new URL('../../sandbox/data/voice-policy.yaml', import.meta.url)), 'utf8');
  const policy = parseVoicePolicy(policyText, 'yaml', 'voice-policy.yaml');
  const clockRef: { sandbox?: Sandbox } = {};
  const graphBackend = backend === 'graph';
  const pwshTenants = tenants.filter((t) => t.backend === 'powershell');
  const graphTenants = tenants.filter((t) => t.backend === 'graph');
  // A tenant on Graph has no hybrid worker of its own: no worker certificate to load or rotate. Each
  // tenant on PowerShell has its own in its own Key Vault, its own app registration (made by
  // `dialtone setup` in its own Entra), and the workers report every tenant's into one sessionslots table.
  if (pwshTenants.length > 0) {
    const reports = createEntityWorkerReports(createMemoryTableService().table('sessionslots'));
    for (const t of pwshTenants) {
      t.certificates = await prepareCertificates({
        tenant: t.file,
        start: CHAOS_START,
        clock: () => clockRef.sandbox?.clock.nowMs() ?? CHAOS_START,
        seed: seed + t.index,
        rotateAt: rotateAtOf(t.index),
        noise: KEY_VAULT_NOISE,
        throttleNoise: KEY_VAULT_THROTTLE_NOISE,
        ...(t.index === 0 ? {} : { certificateName: `${CERTIFICATE_NAME}-${t.tenantId.slice(0, 8)}` }),
        reports,
        multiTenant: multi,
      });
    }
  }
  const skewMs = (random() < 0.5 ? -1 : 1) * 5 * MINUTE;
  const functionSkewsMs = [-5 * MINUTE, 0, 5 * MINUTE];
  const sandboxInputs = { ...inputs({ tenant: home.file, eventLines: hrLines, policy, pools: tenants.flatMap((t) => t.pools) }), ...(multi ? { extraTenants: tenants.slice(1).map((t) => t.file) } : {}) };
  const sandbox = await Sandbox.start(sandboxInputs, {
    storage: options.storage ?? 'memory',
    seed,
    instances: 3,
    startJitterMs: 3_000,
    // Mixed: every Graph starts with the PowerShell path's faults; the Graph tenants' get the /admin/teams ones below.
    graphFaults: graphBackend ? graphBackendFaults() : { rules: [{ status: 429, probability: 0.05, retryAfterSeconds: 5 }, { status: 503, probability: 0.03 }] },
    graphFaultSeed: seed,
    teams: { seed, faults: teamsFaults() },
    functionClockSkewsMs: functionSkewsMs,
    stallTimeoutMs: options.stallTimeoutMs ?? 300_000,
    ...(graphBackend
      ? { teamsBackend: 'graph' as const }
      : backend === 'mixed'
        ? { teamsBackend: 'graph' as const, tenantBackends: Object.fromEntries(pwshTenants.map((t) => [t.tenantId, 'powershell' as const])), ...workerOptions(tenants, skewMs) }
        : workerOptions(tenants, skewMs)),
    ...(options.onProgress ? { onProgress: progressEvery(10_000, options.onProgress) } : {}),
  });
  clockRef.sandbox = sandbox;
  const chaos = { kills: 0, locksLost: 0 };
  try {
    // Mixed: the tenants on Graph meet Graph's faults on /admin/teams, which carries their voice commands.
    if (backend === 'mixed') for (const t of graphTenants) sandbox.graphOf(t.tenantId).setFaults(graphBackendFaults());
    sandbox.bus.setFaults({ seed, rules: [{ code: 'ServiceBusy', queue: queueNames.hrEvents, operations: ['schedule'], probability: HR_ENQUEUE_BUSY }] });
    await sandbox.enqueueEvents(hrLines);
    sandbox.bus.setFaults(busFaults(seed, options.people, backend === 'mixed' ? queueNames.voiceCommandsPowerShell : queueNames.voiceCommands));
    sandbox.tableFaults()?.setFaults({ seed, serverBusy: { rate: 0.01, length: 3 }, preconditionFailed: { rate: 0.02, length: 2 }, timeout: { rate: 0.003, delayMs: 5, appliedRate: 0.5 } });
    // Kills, and the throttled restart on the first PowerShell tenant's Key Vault; mixed: the locks are lost on both command queues.
    const commandQueues = backend === 'mixed' ? [queueNames.voiceCommands, queueNames.voiceCommandsPowerShell] : [queueNames.voiceCommands];
    scheduleChaos(sandbox, options.people, random, chaos, commandQueues, pwshTenants[0]?.certificates);
    for (const t of tenants) if (t.certificates) scheduleRotation(sandbox, t.certificates, rotateAtOf(t.index));
    const split = backend === 'mixed' ? ` (${tenants.map((t) => `${t.tenantId.slice(0, 8)} ${t.backend}`).join(', ')})` : '';
    options.onProgress?.(`chaos: seed ${seed}, ${options.people} people${multi ? ` in ${tenantCount} tenants` : ''}, ${hrLines.length} HR lines, ${backend} Teams backend${split}`);
    await sandbox.runUntilQuiet();
    // The HR system sends some events again, hours later: past the 10-minute duplicate window.
    await sandbox.enqueueEvents(duplicates);
    // A day and a half more: resync (every 12 h) catches the lost notifications, reservations lapse.
    await sandbox.runFor(36 * HOUR);
    await sandbox.runUntilQuiet();
    const observed = await observe(sandbox, tenants, policy, chaos);
    for (const o of observed.perTenant) options.tamper?.(o);
    const perTenant = observed.perTenant.map((o, k) => ({ tenantId: tenants[k]!.tenantId, invariants: checkInvariants(o) }));
    const timeouts = withinFunctionTimeout(sandbox.functionDurations());
    const answered = webhookAnsweredInTime(tenants.map((t) => sandbox.graphOf(t.tenantId).metrics().notifications));
    const invariants = multi ? [...mergeTenantInvariants(perTenant), timeouts, answered, noCrossing(observed.crossing)] : [...perTenant[0]!.invariants, timeouts, answered];
    const report = await sandbox.report();
    const badInputs = home.population.badInputs;
    return {
      seed,
      teamsBackend: backend,
      tenants: tenants.map((t) => ({ tenantId: t.tenantId, people: t.population.people.length, teamsBackend: t.backend })),
      storage: options.storage ?? 'memory',
      faults: observed.faults,
      invariants,
      people: options.people,
      events: {
        hr: hrLines.length,
        duplicatesAfterWindow: duplicates.length,
        directoryChanges: tenants.reduce((n, t) => n + t.population.directoryChanges.length, 0),
        lostNotifications: tenants.reduce((n, t) => n + t.population.lostNotifications, 0),
        beforeSubscription: tenants.reduce((n, t) => n + t.population.beforeSubscription, 0),
        badInputs: badInputs.length,
        byScenario: countBy(tenants.flatMap((t) => t.population.people.map((p) => p.kind))),
      },
      retries: observed.retries,
      badInputs: badInputs.map((b) => {
        const id = eventIdOfLine(b.line);
        const d = report.deadLetters.find((x) => (id ? deadLetterEventId(x.body) === id : typeof x.body === 'string' && x.body === b.line));
        return { why: b.why, outcome: d ? `dead-lettered ${d.reason}: ${d.description.slice(0, 140)}` : 'NOT dead-lettered' };
      }),
      simulatedHours: Math.round(sandbox.clock.elapsedMs() / HOUR),
      realSeconds: Math.round((Date.now() - started) / 1000),
    };
  } finally {
    await sandbox.stop();
  }
}

/** When tenant `index`'s certificate rotation starts: the home tenant's at ROTATE_AT, each registered tenant's a little later. */
const rotateAtOf = (index: number): number => ROTATE_AT + index * ROTATION_STAGGER;

/**
 * The hybrid workers' options (PowerShell backend): two workers with production's cmdlet and
 * connect deadlines on the sandbox clock, each tenant's certificate from its Key Vault simulator
 * (unavailable at start), each tenant's app registration setup made, and each tenant's Entra
 * refusing a connect whose certificate its app no longer holds.
 */
function workerOptions(tenants: readonly ChaosTenant[], skewMs: number): Partial<SandboxOptions> {
  // Mixed: the home tenant is on Graph, so the workers hold no Key Vault certificate of its (its
  // commands never reach them), only the PowerShell tenants' own; all report into one table.
  const home = tenants[0]!.certificates;
  const registered = tenants.slice(1).filter((t) => t.certificates);
  const reports = tenants.find((t) => t.certificates)!.certificates!.reports;
  return {
    workerCount: 2,
    // Production's cmdlet and connect deadlines, idle timeout (10 minutes) and session age: they
    // run on the sandbox clock (WorkerDeps.waitTimers and poolTimers), as the cmdlets do.
    workerTuning: { shutdownGraceMs: 0, certificateReloadMs: rotationTimings.reloadMs },
    ...(home ? { workerCertificates: home.source, entra: home.entra, workerApplicationId: home.appId } : {}),
    workerReports: { reports, intervalMs: rotationTimings.reportMs },
    ...(registered.length > 0
      ? {
          tenantApps: Object.fromEntries(registered.map((t) => [t.tenantId, { entra: t.certificates!.entra, applicationId: t.certificates!.appId }])),
          tenantCertificates: (tenantId: string) => registered.find((t) => t.tenantId === tenantId.toLowerCase())?.certificates?.source(),
        }
      : {}),
    entraCertificateCheck: true,
    workerClockSkewMs: skewMs,
  };
}

/**
 * Graph faults with the graph Teams backend: the same seeded 429 (Retry-After) and 503 on every
 * call, and as much again on Graph's Teams administration API (`/admin/teams`), which now
 * carries every voice command, in place of the cmdlet faults the PowerShell path meets.
 */
function graphBackendFaults(): GraphFaults {
  return {
    rules: [
      { status: 429, path: /^\/v1\.0\/admin\/teams\//, probability: 0.05, retryAfterSeconds: 5 },
      { status: 503, path: /^\/v1\.0\/admin\/teams\//, probability: 0.03 },
      { status: 429, probability: 0.05, retryAfterSeconds: 5 },
      { status: 503, probability: 0.03 },
    ],
  };
}

/** The sandbox's progress as a line on stderr, at most every `ms` of real time. */
function progressEvery(ms: number, write: (line: string) => void): (p: { handled: number; queued: number; simulatedMs: number }) => void {
  const started = Date.now();
  const cpuAtStart = process.cpuUsage();
  let last = started;
  return (p) => {
    if (Date.now() - last < ms) return;
    last = Date.now();
    // CPU time next to real time: on a loaded machine the real time says little about the run's cost.
    const cpu = process.cpuUsage(cpuAtStart);
    const realMinutes = (last - started) / MINUTE;
    const rate = realMinutes > 0 ? p.simulatedMs / HOUR / realMinutes : 0;
    write(
      `chaos: ${(p.simulatedMs / HOUR).toFixed(1)} simulated hours, ${p.handled} messages handled, ${p.queued} queued; ` +
        `${Math.round((last - started) / 1000)} s real, ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU, ${rate.toFixed(1)} simulated h per real minute`,
    );
  };
}

/** Worker kills and lock losses at seeded moments of the HR timeline, while commands run. */
function scheduleChaos(sandbox: Sandbox, people: number, random: () => number, chaos: { kills: number; locksLost: number }, commandQueues: readonly string[], certificates?: ChaosCertificates): void {
  const window = 3 * HOUR;
  const kills = Math.max(1, Math.round(people / 40));
  const losses = Math.max(2, Math.round(people / 15));
  for (let k = 0; k < kills; k++) {
    const at = CHAOS_START + Math.floor(random() * window);
    const victim = Math.floor(random() * 2);
    sandbox.scheduler.at(at, `chaos:kill:${k}`, async () => {
      const workers = sandbox.workers();
      if (!workers) return;
      chaos.kills += 1;
      // One restart meets Key Vault throttling its secret read, waited out on the sandbox clock.
      if (k === 0) certificates?.vault.addFaults(restartThrottleRules());
      await workers.kill(victim);
    });
  }
  // Lock losses: tried every sandbox minute of the window until enough hit a session that is held
  // mid-command (a loss with nothing held proves nothing).
  for (let k = 0; k < window / MINUTE; k++) {
    const draw = random();
    const queue = k % 3 === 2 ? queueNames.userChanges : commandQueues[Math.floor(k / 3) % commandQueues.length]!;
    sandbox.scheduler.at(CHAOS_START + k * MINUTE + Math.floor(draw * MINUTE), `chaos:lock:${k}`, () => {
      if (chaos.locksLost >= losses) return;
      const lost = sandbox.bus.loseSessionLock(queue, (ids) => ids[Math.floor(draw * ids.length)]);
      if (lost !== undefined) chaos.locksLost += 1;
    });
  }
}

function eventIdOfLine(line: string): string | undefined {
  try {
    const id = (JSON.parse(line) as { eventId?: unknown }).eventId;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

function deadLetterEventId(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const id = (body as { eventId?: unknown }).eventId;
  return typeof id === 'string' ? id : undefined;
}

function countBy(list: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of list) out[k] = (out[k] ?? 0) + 1;
  return out;
}

/** Counted first: reading the end state must not meet the storms the run was put through. */
async function observe(
  sandbox: Sandbox,
  tenants: readonly ChaosTenant[],
  policy: Observed['policy'],
  chaos: { kills: number; locksLost: number },
): Promise<{ perTenant: Observed[]; crossing: ObservedCrossing; faults: Record<string, number>; retries: Record<string, number> }> {
  const table = sandbox.tableFaults()?.faultCounts();
  const busCounts = sandbox.bus.faultCounts();
  const lateRenewalCount = busCounts['LateRenewal:renewLock'] ?? 0;
  delete busCounts['LateRenewal:renewLock'];
  // The HR sends' throttling is counted as hr:send:<code>, not again among the bus's schedules.
  const hrSend = sandbox.hrSendFigures();
  for (const [code, n] of Object.entries(hrSend.faults)) {
    const key = `${code}:schedule`;
    const rest = (busCounts[key] ?? 0) - n;
    if (rest > 0) busCounts[key] = rest;
    else delete busCounts[key];
  }
  sandbox.tableFaults()?.setFaults(undefined);
  sandbox.bus.setFaults(undefined);
  const vaults = tenants.flatMap((t) => (t.certificates ? [t.certificates] : []));
  const sum = (list: Record<string, number>[]) => {
    const out: Record<string, number> = {};
    for (const o of list) for (const [k, v] of Object.entries(o)) out[k] = (out[k] ?? 0) + v;
    return out;
  };
  const vaultFaults = sum(vaults.map((c) => c.vault.metrics().faults));
  const vaultThrottled = sum(vaults.map((c) => c.vault.metrics().throttled));
  for (const c of vaults) c.vault.setFaults(undefined);
  const report = await sandbox.report();
  const multi = tenants.length > 1;
  const recordedEventIds = new Set(report.history.flatMap((h) => h.entries.map((e) => e.eventId)));
  // Every tenant's Graph: the faults of all of them.
  const graphs = tenants.map((t) => sandbox.graphOf(t.tenantId).metrics());
  const teamsMetrics = sandbox.teams?.metrics();
  const workers = sandbox.workers();
  const routeFaults = sum(graphs.map((g) => g.faultsByRoute));
  const faults: Record<string, number> = {
    'graph:429': graphs.reduce((n, g) => n + g.throttled, 0),
    'graph:503': graphs.reduce((n, g) => n + g.unavailable, 0),
    ...Object.fromEntries(Object.entries(routeFaults).filter(([k]) => k.endsWith('/admin/teams')).map(([k, v]) => [`graph:${k.replace(' ', ':')}`, v])),
    ...Object.fromEntries(Object.entries(teamsMetrics?.faultsByKind ?? {}).map(([k, v]) => [`teams:${k}`, v])),
    ...Object.fromEntries(Object.entries(busCounts).map(([k, v]) => [`bus:${k}`, v])),
    ...Object.fromEntries(Object.entries(hrSend.faults).map(([k, v]) => [`hr:send:${k}`, v])),
    'table:503': table?.serverBusy ?? 0,
    'table:412': table?.preconditionFailed ?? 0,
    'table:timeout': table?.timeout ?? 0,
    ...(workers ? { 'worker:killed': chaos.kills } : {}),
    'lock:lost': chaos.locksLost,
    ...(workers ? { 'lock:lateRenewal': lateRenewalCount } : {}),
    'clock:skewedFunctionInstances': sandbox.options.functionClockSkewsMs?.filter((ms) => ms !== 0).length ?? 0,
    ...(vaults.length > 0
      ? {
          'clock:skewedWorkerHost': sandbox.options.workerClockSkewMs ? 1 : 0,
          ...Object.fromEntries(Object.entries(vaultFaults).map(([op, n]) => [`keyVault:503:${op}`, n])),
          ...Object.fromEntries(Object.entries(vaultThrottled).map(([op, n]) => [`keyVault:429:${op}`, n])),
          'certificate:rotations': vaults.filter((c) => c.record.startedAt !== undefined).length,
          'certificate:rotationAttempts': vaults.reduce((n, c) => n + c.record.attempts.length, 0),
          'worker:failedStarts': workers?.failedStarts() ?? 0,
        }
      : {}),
    'hr:duplicatesAfterWindow': tenants.reduce((n, t) => n + t.population.duplicates.length, 0),
    'graph:lostNotifications': tenants.reduce((n, t) => n + t.population.lostNotifications, 0),
  };
  const retries: Record<string, number> = {};
  const count = (key: string) => (retries[key] = (retries[key] ?? 0) + 1);
  for (const line of sandbox.logger.lines) {
    if (line.includes('"message rescheduled"')) count('stageRescheduled');
    else if (line.includes('"retrying voice command"')) count('workerCmdletRetries');
    else if (line.includes('"voice command abandoned for redelivery"')) count('workerRedeliveries');
    else if (line.includes('could not be settled')) count('workerSettleFailures');
    else if (line.includes('"voice command attempt aborted after its lock was lost; its result is not published"')) count('workerLockLostAborts');
    else if (line.includes('"call retried"')) count(line.includes('graph subscription') ? 'subscriptionCallRetries' : 'resyncCallRetries');
    else if (line.includes('"timer function failed"')) count('timerRetries');
  }
  if (hrSend.retries > 0) retries['hrSendRetries'] = hrSend.retries;
  const hostErrors = Object.values(sandbox.host.hostErrors()).reduce((a, b) => a + b, 0);
  if (hostErrors > 0) retries['hostBrokerErrors'] = hostErrors;
  const leftOnQueues = sandbox.bus.availableCount() + sandbox.bus.inFlightCount();
  const versions = (await Promise.all(vaults.map((c) => c.vault.versions(c.certificateName)))).flat();
  const secrets: Secret[] = [
    ...vaults.flatMap((c) => c.vault.secretValuesForLeakScan()).map((value, i) => ({ name: `certificate PFX ${i + 1}`, value, fragments: true })),
    { name: 'the webhook clientState', value: SANDBOX_CLIENT_STATE },
    { name: 'the Graph bearer token', value: 'sandbox-token' },
  ];
  const written = [
    ...sandbox.logger.lines.map((text, i) => ({ where: `log line ${i + 1}`, text })),
    { where: 'the sandbox report', text: JSON.stringify(report) },
    ...report.deadLetters.map((d, i) => ({ where: `dead letter ${i + 1} (${d.queue})`, text: `${d.reason} ${d.description}` })),
    ...vaults.flatMap((c) => c.record.attempts).map((a, i) => ({ where: `cert rotate attempt ${i + 1}`, text: JSON.stringify(a.items) })),
  ];
  const catalog = {
    callingLineIdentities: await createStaticPolicyCatalog(
      (sampleTenant().policies?.CallingLineIdentity ?? []).map((p) => ({ identity: p.identity, description: p.description ?? null })),
    ).callingLineIdentities(),
  };
  const teamsOf = (t: ChaosTenant) => sandbox.teams?.tenants[t.index];
  const assignmentsOf = (t: ChaosTenant) =>
    (teamsOf(t)?.assignments() ?? []).filter((r) => r.AssignedPstnTargetId).map((r) => ({ number: r.TelephoneNumber.replace(/^tel:/i, ''), userId: String(r.AssignedPstnTargetId) }));
  const perTenant: Observed[] = [];
  for (const t of tenants) {
    const mine = (tenantId: string | null | undefined) => !multi || tenantId === t.tenantId || (t.index === 0 && (tenantId ?? null) === null);
    // Unparseable lines are known by their line: the dead letter carries the raw text.
    const inputEventIds: string[] = [];
    const lineIds = new Map<string, string>();
    t.population.hrLines.forEach((line, i) => {
      const id = eventIdOfLine(line) ?? `line:${i + 1}`;
      if (!eventIdOfLine(line)) lineIds.set(line, id);
      inputEventIds.push(id);
    });
    for (const line of t.population.duplicates) inputEventIds.push(eventIdOfLine(line) as string);
    const inventory = multi
      ? (await sandbox.inventory.forTenant(t.tenantId).list()).map((n) => ({ number: n.number, pool: n.pool, state: n.state, userId: n.userId ?? null }))
      : report.numbers;
    const mineIds = new Set(t.population.people.map((p) => p.id));
    perTenant.push({
      people: t.population.people,
      directoryChanges: t.population.directoryChanges.map((c) => ({ atMs: sandbox.clock.startedAt + c.atMs, userId: c.userId, notify: c.notify })),
      plans: new Map(
        report.history
          .filter((h) => mineIds.has(h.userId))
          .map((h) => [h.userId, h.entries.filter((e) => e.stage === 'plan').map((e) => ({ atMs: Date.parse(e.at), source: e.source ?? 'unknown' }))]),
      ),
      teams: new Map(report.users.filter((u) => mine(u.tenantId)).map((u) => [u.id, u.teams])),
      assignments: assignmentsOf(t),
      inventory,
      deadLetters: report.deadLetters
        .filter((d) => mine(d.tenantId))
        .map((d) => ({ queue: d.queue, reason: d.reason, description: d.description, eventId: deadLetterEventId(d.body) ?? (typeof d.body === 'string' ? lineIds.get(d.body) : undefined) })),
      recordedEventIds,
      inputEventIds,
      leftOnQueues,
      faults,
      retries,
      policy,
      catalog,
      pools: t.pools,
      ...(t.certificates
        ? { certificates: await observeCertificates(sandbox, t.certificates, sandbox.options.workerClockSkewMs ?? 0) }
        : {
            certificatesNotApplicable:
              tenants.some((x) => x.certificates)
                ? 'this tenant is on the graph Teams backend (the hybrid worker runs for the deployment\'s powershell tenants only): its voice commands go through Graph with the Function App\'s token, so it has no worker certificate, Teams session or Connect-MicrosoftTeams to check and no rotation is run'
                : 'the graph Teams backend runs no hybrid worker: voice commands go through Graph with the Function App\'s token, so there is no worker certificate, Teams session or Connect-MicrosoftTeams to check and no rotation is run',
          }),
      // The secret scan reads everything the run wrote, once: with the home tenant's invariants.
      ...(t.index === 0 ? { written, secrets, publicMaterial: versions.map((v) => v.cerBase64) } : {}),
    });
  }
  return { perTenant, crossing: await observeCrossing(sandbox, tenants, report), faults, retries };
}

const GUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

/** What crossing between the run's tenants would leave: messages, each tenant's Teams and inventory, dead letters, log lines. */
async function observeCrossing(sandbox: Sandbox, tenants: readonly ChaosTenant[], report: Awaited<ReturnType<Sandbox['report']>>): Promise<ObservedCrossing> {
  const tenantOf = new Map(tenants.flatMap((t) => t.population.people.map((p) => [p.id, t.tenantId] as const)));
  const personal = new Set<string>([queueNames.userChanges, queueNames.voiceCommands, queueNames.voiceCommandsPowerShell, queueNames.voiceResults]);
  const messages = sandbox.sent
    .filter((s) => personal.has(s.queue))
    .flatMap(({ queue, message }) => {
      const body = message.body as { userId?: unknown; tenantId?: unknown } | null;
      return typeof body?.userId === 'string'
        ? [{ queue, messageId: String(message.messageId ?? ''), sessionId: message.sessionId, userId: body.userId, tenantId: typeof body.tenantId === 'string' ? body.tenantId : undefined }]
        : [];
    });
  // A log line about a person (naming their object id anywhere: a field, a session id, a message)
  // that names a tenant too: each tenant it names is attributed to that person.
  const tenantIds = new Set(tenants.map((t) => t.tenantId));
  const logs: ObservedCrossing['logs'] = [];
  sandbox.logger.lines.forEach((text, i) => {
    const ids = new Set((text.toLowerCase().match(GUID) ?? []));
    const named = [...ids].filter((id) => tenantIds.has(id));
    if (named.length === 0) return;
    for (const userId of ids) if (tenantOf.has(userId)) for (const tenantId of named) logs.push({ where: `log line ${i + 1}`, userId, tenantId });
  });
  return {
    tenantOf,
    messages,
    tenants: await Promise.all(
      tenants.map(async (t) => {
        const sim = sandbox.teams?.tenants[t.index];
        return {
          tenantId: t.tenantId,
          ranges: t.pools.flatMap((p) => p.ranges),
          teamsAssignments: (sim?.assignments() ?? []).filter((r) => r.AssignedPstnTargetId).map((r) => ({ number: r.TelephoneNumber, userId: String(r.AssignedPstnTargetId) })),
          teamsVoice: report.users.filter((u) => u.tenantId === t.tenantId && (u.teams.enterpriseVoiceEnabled || u.teams.lineUri)).map((u) => u.id),
          inventory: (await sandbox.inventory.forTenant(t.tenantId).list()).map((n) => ({ number: n.number, userId: n.userId ?? null })),
        };
      }),
    ),
    deadLetters: report.deadLetters.flatMap((d) => {
      const userId = (d.body as { userId?: unknown } | null)?.userId;
      return typeof userId === 'string' ? [{ queue: d.queue, userId, tenantId: d.tenantId }] : [];
    }),
    logs,
  };
}

