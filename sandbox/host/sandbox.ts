import { createRequire } from 'node:module';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type * as AzureFunctions from '@azure/functions';
import { queueNames } from '../../shared/contracts/messages.js';
import { createGraphDirectory } from '../../shared/adapters/graph-directory.js';
import { createGraphSubscriptions } from '../../shared/adapters/graph-subscriptions.js';
import { entitySyncState } from '../../shared/adapters/entity-sync-state.js';
import { azureEntityTable, createTableClient } from '../../shared/adapters/table-client.js';
import { timerRetry, timerRetryDelayMs, timerSchedules } from '../../shared/config/timer-schedules.js';
import { nextOccurrence, parseNcrontab } from '../../shared/domain/ncrontab.js';
import { createGraphWebhookHandler } from '../../shared/handlers/graph-webhook.js';
import { maintainGraphSubscription } from '../../shared/usecases/maintain-graph-subscription.js';
import { resyncDirectory } from '../../shared/usecases/resync-directory.js';
import type { SyncState } from '../../shared/ports/sync-state.js';
import { createStaticPolicyCatalog } from '../../shared/adapters/file-policy-catalog.js';
import { createMemoryNumberInventory } from '../../shared/adapters/memory-number-inventory.js';
import { createMemoryTableService, type MemoryTableService, type TableFaultControl } from '../../shared/adapters/memory-table-client.js';
import { withTableClientRetry } from '../table-client-retry.js';
import { withSdkSendRetry } from '../bus/sdk-send-retry.js';
import { webhookSendRetry } from '../../shared/adapters/service-bus-retry.js';
import type { WorkerReports } from '../../shared/ports/worker-reports.js';
import { createEntityWorkerReports } from '../../shared/adapters/entity-worker-reports.js';
import type { CertificateSource } from '../../worker/certificate.js';
import { createMemoryProvisioningRecords } from '../../shared/adapters/memory-provisioning-records.js';
import { createTableNumberInventory } from '../../shared/adapters/table-number-inventory.js';
import { createTableProvisioningRecords } from '../../shared/adapters/table-provisioning-records.js';
import { correlationStrategies } from '../../shared/domain/correlation.js';
import { defaultRetryPolicy, type RetryPolicy } from '../../shared/domain/settlement.js';
import { createGraphTeamsAdmin } from '../../shared/adapters/graph-teams-admin.js';
import { PolicyIdCache } from '../../shared/usecases/apply-voice-graph.js';
import { createCorrelateHandler, createGraphVoiceHandler, createPlanHandler, createRecordHandler } from '../../shared/handlers/stages.js';
import { createMemoryLogger } from '../../shared/logging/logger.js';
import type { BusSender, OutgoingMessage } from '../../shared/ports/bus.js';
import type { NumberInventory } from '../../shared/ports/number-inventory.js';
import type { ProvisioningRecords } from '../../shared/ports/provisioning-records.js';
import { azuriteConnectionString, isAzuriteAvailable, startAzurite } from '../azurite.js';
import { startTableFaultProxy } from '../table-fault-proxy.js';
import { isBatch, MemoryBus } from '../bus/memory-bus.js';
import { deployedQueues } from '../bus/queues.js';
import { SimClock } from '../clock.js';
import type { EntraSimState } from '../graph-sim/applications.js';
import { sameThumbprint } from '../../shared/domain/setup.js';
import { GraphSubscriptionsStateSchema, sandboxGraphToken, startGraphSimulator, type GraphFaults, type GraphSimulator, type WebhookTransport } from '../graph-sim/index.js';
import { simulatedGraphFetch } from '../graph-sim/latency.js';
import { fieldLatencyModel, type LatencyModel } from '../latency-model.js';
import { SimScheduler, type TimerHandle } from '../scheduler.js';
import type { Timers } from '../../worker/timers.js';
import { readFunctionTimeoutMs, readHostConcurrency, type HostConcurrency } from './host-json.js';
import { FunctionDurations, type FunctionDuration } from './function-durations.js';
import { startTeamsSimulator, TeamsTenantStateSchema, type TeamsSimulator } from '../teams-sim/index.js';
import type { PolicyCatalog } from '../../shared/ports/policy-catalog.js';
import type { Directory } from '../../shared/ports/directory.js';
import type { PlanDeps } from '../../shared/usecases/plan-voice.js';
import type { VoicePolicy } from '../../shared/domain/policy.js';
import { createMemoryTenantRegistry } from '../../shared/adapters/entity-tenant-registry.js';
import { SandboxFunctionsHost, type HostedFunction } from './functions-host.js';
import type { Clock } from '../../shared/ports/clock.js';
import type { SandboxInputs } from './inputs.js';
import type { SandboxState } from './state.js';
import { buildReport, type SandboxReport } from './report.js';
import type { Telemetry } from '../../shared/ports/telemetry.js';
import type { Logger } from '../../shared/ports/logger.js';
import { startSandboxWorker, type SandboxWorker } from './worker.js';
import { effectiveTenants, implicitTenant, type Tenant } from '../../shared/domain/tenants.js';
import { DialtoneError } from '../../shared/domain/errors.js';
import { deterministicId } from '../../shared/domain/ids.js';
import { perTenant } from '../../shared/ports/per-tenant.js';
import type { SandboxTenantFile } from '../teams-sim/tenant-file.js';
import { maintainEveryTenantSubscription, resyncEveryTenant } from '../../shared/usecases/every-tenant.js';
import { tenantCommandRoutes } from '../../shared/usecases/tenant-settings.js';

export interface SandboxOptions {
  /** Table Storage through Azurite when the package is installed (default), or in memory. */
  storage?: 'auto' | 'azurite' | 'memory';
  /** Run the hybrid worker against the Teams simulator (default true). */
  worker?: boolean;
  /**
   * Who applies voice commands: the hybrid worker over the pwsh protocol (default), or the
   * graphVoice function through the Graph simulator's /admin/teams API (no worker, no connects).
   */
  teamsBackend?: 'powershell' | 'graph';
  /**
   * With several tenants, a tenant's own Teams backend (its registry entry's `teamsBackend`), by
   * tenant id; a tenant not named uses `teamsBackend`. In a graph deployment a powershell tenant's
   * commands go to voice-commands-pwsh for the hybrid worker, which then runs (production's
   * graphWithWorker); in a powershell deployment a graph tenant is refused as production does.
   */
  tenantBackends?: Record<string, 'powershell' | 'graph'>;
  /** plan reads Teams' user configuration through Graph and waits for PhoneSystem (default true; production's DIALTONE_TEAMS_READINESS). */
  teamsReadiness?: boolean;
  workerCount?: number;
  /**
   * Teams sessions all workers together may hold (the production DIALTONE_TENANT_SESSION_LIMIT,
   * default 4), as leases in a sessionslots table as in production; 0 = no shared limit.
   */
  tenantSessionLimit?: number;
  /** Worker pool tuning (sessions, session age, timeouts) for benchmarks and chaos runs. */
  workerTuning?: Parameters<typeof startSandboxWorker>[0]['tuning'];
  retryPolicy?: Partial<RetryPolicy>;
  /** Continue from a state saved by an earlier run (`--state DIR`); implies in-memory storage. */
  state?: SandboxState;
  /** Throttling and outages of the simulated Graph (seeded), for chaos runs. */
  graphFaults?: GraphFaults;
  /** Seeds the Graph faults' draws (default 7). */
  graphFaultSeed?: number;
  /** Where each worker's certificate comes from (default: an ephemeral one); chaos runs make Key Vault fail. */
  workerCertificates?: (index: number) => CertificateSource;
  /** Where a further tenant's certificate comes from in the workers (default: an ephemeral one); tests break one tenant's. */
  tenantCertificates?: (tenantId: string) => CertificateSource | undefined;
  /**
   * Where the workers report their certificate (`dialtone cert rotate` waits on it), and how often
   * (sandbox ms; the reload, DIALTONE_CERT_RELOAD, also runs on the sandbox clock). Without
   * `reports`, into the sandbox's own `sessionslots` table, as production's workers do (in-memory storage only).
   */
  workerReports?: { reports?: WorkerReports; intervalMs?: number };
  /** Applications, service principals and role assignments the simulated Graph starts with (what `dialtone setup` made). */
  entra?: EntraSimState;
  /**
   * With several tenants: a further tenant's own app registration, by lower-case tenant id: the
   * Entra objects its Graph starts with (what `dialtone setup` made there) and the application id
   * its registry entry names, which the workers connect to that tenant as. Default: no objects and
   * the sandbox's fixed application id.
   */
  tenantApps?: Readonly<Record<string, { entra: EntraSimState; applicationId: string }>>;
  /** The app registration the workers connect as (DIALTONE_APP_ID; default the sandbox's fixed one). */
  workerApplicationId?: string;
  /**
   * Entra checks the certificate of every Connect-MicrosoftTeams against the simulated Graph's app
   * registrations (each tenant's own Graph, with several tenants): a thumbprint the connecting app does not hold (its key credential removed, or
   * never added) fails with AADSTS700027, as the real sign-in does. Off by default: any
   * well-formed certificate is accepted.
   */
  entraCertificateCheck?: boolean;
  /** The worker host's clock is this far from the Functions' clock (chaos runs: ±5 min). */
  workerClockSkewMs?: number;
  /** Give up when nothing progresses for this long in real time. */
  stallTimeoutMs?: number;
  /** Spans and metrics of every stage and the worker (tests pass OpenTelemetry with an in-memory exporter). */
  telemetry?: Telemetry;
  /**
   * What calls cost on the sandbox clock (default: the field model). Teams cmdlets and Graph
   * requests wait this long in sandbox time; `metrics.simulatedMs` is the resulting makespan.
   */
  latency?: LatencyModel;
  /** Function App instances competing for the queues (default 1), each with host.json's concurrency. */
  instances?: number;
  /**
   * How far each Function App instance's clock is from the sandbox clock (chaos runs: ±5 min), by
   * instance index; missing entries are 0. The instance's stages read it (plan's snapshot age,
   * reschedule times, history timestamps); the timers and the bus keep the sandbox clock.
   */
  functionClockSkewsMs?: number[];
  /** host.json's Service Bus concurrency (default: read from the repository's host.json). */
  hostConcurrency?: HostConcurrency;
  /** Seeds the Functions host's competition between instances (default 1). */
  seed?: number;
  /** Upper bound of each invocation's seeded start-up delay in sandbox ms (default 0). */
  startJitterMs?: number;
  /** Each structured log line as it is written (`--log FILE` streams them). */
  onLog?: (line: string) => void;
  /** Called as the run goes (the CLI's progress display). */
  onProgress?: (progress: SandboxProgress) => void;
  teams?: Parameters<typeof startTeamsSimulator>[0] extends infer O ? Partial<Omit<O & object, 'tenant' | 'clock'>> : never;
}

export interface SandboxProgress {
  /** Messages the functions have handled so far in this run. */
  handled: number;
  /** Messages waiting on all queues (scheduled ones not counted). */
  queued: number;
  /** Simulated time since the sandbox's start. */
  simulatedMs: number;
}

export interface SandboxRun {
  report: SandboxReport;
  logLines: string[];
  /** The state to save, when the run was asked to keep it. */
  state?: SandboxState;
}

/** The queues of infra/queues.json, the same definitions the Bicep deploys. */
export const sandboxQueues = deployedQueues;

const DEFAULT_START = '2026-11-02T08:00:00Z';

/** The start of sandbox time: the earliest event, so the HR timeline plays out in order. */
export function sandboxStart(eventLines: string[]): Date {
  let earliest: number | undefined;
  for (const line of eventLines) {
    const at = Date.parse((safeJson(line) as { occurredAt?: unknown } | undefined)?.occurredAt as string);
    if (Number.isFinite(at) && (earliest === undefined || at < earliest)) earliest = at;
  }
  return new Date(earliest ?? Date.parse(DEFAULT_START));
}

// @azure/functions is CommonJS without named ESM exports under plain Node: load it as the host does.
const { HttpRequest } = createRequire(import.meta.url)('@azure/functions') as typeof AzureFunctions;

/** The sandbox Function App's webhook URL (https, as Graph requires) and its function key. */
export const SANDBOX_NOTIFICATION_URL = 'https://dialtone-sandbox.azurewebsites.net/api/graph/notifications?code=sandbox-function-key';
/** The sandbox's DIALTONE_GRAPH_CLIENT_STATE. */
export const SANDBOX_CLIENT_STATE = 'sandbox-client-state-0123456789abcdef';

/**
 * The real handlers of every Function and the real worker in one process against the
 * in-memory bus, the Graph simulator over HTTP and the Teams simulator behind the pwsh
 * protocol, in discrete-event sandbox time (sandbox/scheduler.ts). Tests drive it step by step
 * (run until quiet, change the world, replay, run again).
 */
export class Sandbox {
  private eventsIn = 0;
  /** The queue the hybrid worker takes commands from (voice-commands-pwsh in a graph deployment with powershell tenants). */
  private workerQueue: string = queueNames.voiceCommands;
  private tables: MemoryTableService | undefined;
  private tableFaultControl: TableFaultControl | undefined;
  /** The Graph of each further tenant (a sandbox with several tenants), in the order of inputs.extraTenants. */
  private extraGraphs: GraphSimulator[] = [];
  /**
   * What the operator commands (`dialtone status|plan|numbers|dlq`) read, as a deployment's CLI
   * would: the home tenant's directory (the person resolver's), and plan's dependencies with
   * every tenant's directory and Teams read.
   */
  operator!: { directory: Directory; plan: PlanDeps };
  /** HR lines Service Bus refused when the sandbox (as the HR producer) sent them. */
  private readonly refused: RefusedInput[] = [];
  /** What Service Bus answered the sandbox's HR sends: throttling met, sends tried again. */
  private readonly hrSend: HrSendFigures = { faults: {}, retries: 0, refused: 0 };
  private connects: CertificateConnect[] = [];
  private durations: FunctionDurations | undefined;

  private constructor(
    readonly inputs: SandboxInputs,
    readonly options: SandboxOptions,
    readonly clock: SimClock,
    readonly scheduler: SimScheduler,
    readonly bus: MemoryBus,
    readonly graph: GraphSimulator,
    readonly inventory: NumberInventory,
    readonly records: ProvisioningRecords,
    readonly storageKind: string,
    readonly host: SandboxFunctionsHost,
    readonly teams: TeamsSimulator | undefined,
    private readonly worker: SandboxWorker | undefined,
    private readonly workerLoops: number,
    private readonly cleanups: (() => Promise<void>)[],
    readonly logger: ReturnType<typeof createMemoryLogger>,
    readonly sent: { queue: string; message: OutgoingMessage }[],
    readonly latency: LatencyModel,
  ) {}

  /** The Graph of one tenant of the sandbox: `graph` for the first (or only) tenant, else that further tenant's own. */
  graphOf(tenantId: string): GraphSimulator {
    const id = tenantId.toLowerCase();
    if (id === this.inputs.tenant.tenantId.toLowerCase()) return this.graph;
    const i = (this.inputs.extraTenants ?? []).findIndex((t) => t.tenantId.toLowerCase() === id);
    if (i < 0 || !this.extraGraphs[i]) throw new Error(`tenant ${tenantId} is not a tenant of this sandbox`);
    return this.extraGraphs[i]!;
  }

  /** The workers' own counters (pool, consumer, bulk path), for the bench and tests. */
  workerStats(): ReturnType<SandboxWorker['workers'][number]['stats']>[] {
    return this.worker?.workers.map((w) => w.stats()) ?? [];
  }

  static async start(inputs: SandboxInputs, options: SandboxOptions = {}): Promise<Sandbox> {
    const clock = new SimClock(options.state ? new Date(options.state.clock.startedAt) : sandboxStart(inputs.eventLines));
    if (options.state) clock.advanceTo(options.state.clock.now);
    const scheduler = new SimScheduler(clock);
    const latency = options.latency ?? fieldLatencyModel;
    const logger = createMemoryLogger('info', options.onLog);
    const bus = new MemoryBus(clock, sandboxQueues);
    if (options.state) bus.restore(options.state.bus);
    const cleanups: (() => Promise<void>)[] = [];
    try {
      const sent: { queue: string; message: OutgoingMessage }[] = [];
      const sender = (queue: string): BusSender => {
        const inner = bus.createSender(queue);
        return {
          sendMessages: async (messages) => {
            await inner.sendMessages(messages);
            const list = isBatch(messages) ? messages.messages() : Array.isArray(messages) ? messages : [messages as OutgoingMessage];
            for (const m of list) sent.push({ queue, message: m });
          },
          createMessageBatch: (batchOptions) => inner.createMessageBatch(batchOptions),
          scheduleMessages: (messages, at) => inner.scheduleMessages(messages, at),
          close: () => inner.close(),
        };
      };
      const multi = (inputs.extraTenants?.length ?? 0) > 0;
      // The registry of a deployment serving these tenants (none with one tenant: the implicit one, as before).
      const backendOf = (tenantId: string) => Object.entries(options.tenantBackends ?? {}).find(([id]) => id.toLowerCase() === tenantId.toLowerCase())?.[1];
      const sandboxTenants = multi
        ? effectiveTenants([inputs.tenant, ...(inputs.extraTenants ?? [])].map((t) => sandboxTenantEntry(t, clock.now(), backendOf(t.tenantId), options.tenantApps?.[t.tenantId.toLowerCase()]?.applicationId)), implicitTenant({ tenantId: undefined }))
        : undefined;
      const webhook = createGraphWebhookHandler(async () => ({
        clientState: SANDBOX_CLIENT_STATE,
        // With production's retry policy for the webhook's client, on the sandbox clock: Graph
        // judges how long the answer took.
        sender: withSdkSendRetry(sender(queueNames.userChanges), webhookSendRetry, (ms) => scheduler.sleep(ms, 'graphNotifications:send-retry')),
        clock,
        logger,
        ...(options.telemetry ? { telemetry: options.telemetry } : {}),
        // As production's webhook: a notification naming a registered tenant is that tenant's change.
        ...(sandboxTenants ? { tenants: async () => sandboxTenants } : {}),
      }));
      const graphBackend = options.teamsBackend === 'graph';
      // The Teams tenant exists first: Graph serves it too (/admin/teams), to the graph backend and
      // to plan's readiness read with either backend.
      const teamsFirst =
        options.worker !== false
          ? await startTeamsSimulator({
              ...options.teams,
              tenant: inputs.tenant,
              ...(inputs.extraTenants ? { extraTenants: inputs.extraTenants } : {}),
              clock,
              simulatedTime: { model: latency, sleep: (ms, key) => scheduler.sleepFor('teams', ms, key) },
              ...(options.state?.teams !== undefined ? { state: options.state.teams, startedAtMs: clock.startedAt } : {}),
              // Several tenants kept with --state: each further tenant's Teams tenant continues too.
              ...(options.state?.tenants ? { extraStates: Object.fromEntries(Object.entries(options.state.tenants).map(([id, t]) => [id, t.teams])) } : {}),
            })
          : undefined;
      if (teamsFirst) cleanups.push(() => teamsFirst.close());
      const savedSubscriptions = GraphSubscriptionsStateSchema.safeParse((options.state?.graph as { subscriptions?: unknown } | undefined)?.subscriptions);
      const graph = await startGraphSimulator({
        tenant: inputs.tenant,
        ...(multi ? { tokenTenant: inputs.tenant.tenantId } : {}),
        ...(savedSubscriptions.success ? { subscriptions: savedSubscriptions.data } : {}),
        ...(options.entra ? { entra: options.entra } : {}),
        clock,
        startMs: clock.startedAt,
        ...(teamsFirst ? { teams: { tenant: teamsFirst.tenant } } : {}),
        ...(options.graphFaults ? { faults: options.graphFaults, seed: options.graphFaultSeed ?? 7 } : {}),
        notifications: {
          transport: webhookTransport(webhook),
          timers: { now: () => clock.nowMs(), at: (at, key, fn) => void scheduler.at(at, key, fn) },
          tenantId: inputs.tenant.tenantId,
        },
      });
      cleanups.push(() => graph.close());
      // Several tenants: each is its own Graph (its directory, subscriptions and /admin/teams over its
      // own Teams tenant), reached with a token naming it; the first tenant's Graph is `graph`.
      const extraGraphs: GraphSimulator[] = [];
      for (const [i, extra] of (inputs.extraTenants ?? []).entries()) {
        const keptSubscriptions = GraphSubscriptionsStateSchema.safeParse((options.state?.tenants?.[extra.tenantId.toLowerCase()]?.graph as { subscriptions?: unknown } | undefined)?.subscriptions);
        const sim = await startGraphSimulator({
          tenant: extra,
          tokenTenant: extra.tenantId,
          ...(keptSubscriptions.success ? { subscriptions: keptSubscriptions.data } : {}),
          ...(options.tenantApps?.[extra.tenantId.toLowerCase()] ? { entra: options.tenantApps[extra.tenantId.toLowerCase()]!.entra } : {}),
          clock,
          startMs: clock.startedAt,
          ...(teamsFirst?.tenants[i + 1] ? { teams: { tenant: teamsFirst.tenants[i + 1]! } } : {}),
          ...(options.graphFaults ? { faults: options.graphFaults, seed: (options.graphFaultSeed ?? 7) + i + 1 } : {}),
          notifications: {
            transport: webhookTransport(webhook),
            timers: { now: () => clock.nowMs(), at: (at, key, fn) => void scheduler.at(at, `${extra.tenantId}:${key}`, fn) },
            tenantId: extra.tenantId,
          },
        });
        cleanups.push(() => sim.close());
        extraGraphs.push(sim);
      }
      const graphFetch = simulatedGraphFetch((ms, key) => scheduler.sleep(ms, key), latency.graphRequestMs);
      const clientOf = (sim: GraphSimulator, tenantId: string) => ({ baseUrl: sim.baseUrl, accessToken: async () => (multi ? sandboxGraphToken(tenantId) : 'sandbox-token'), fetch: graphFetch });
      const graphClient = clientOf(graph, inputs.tenant.tenantId);
      const tenantGraphs = new Map([[inputs.tenant.tenantId.toLowerCase(), graphClient], ...(inputs.extraTenants ?? []).map((t, i) => [t.tenantId.toLowerCase(), clientOf(extraGraphs[i]!, t.tenantId)] as const)]);
      // A graph deployment with a powershell tenant keeps the hybrid worker for it, on voice-commands-pwsh.
      const pwshTenants = graphBackend && (sandboxTenants ?? []).some((t) => t.teamsBackend === 'powershell');
      const workerQueue = pwshTenants ? queueNames.voiceCommandsPowerShell : queueNames.voiceCommands;
      const route = sandboxTenants
        ? tenantCommandRoutes({
            tenants: async () => sandboxTenants,
            deployment: { backend: graphBackend ? 'graph' : 'powershell', commandsQueue: queueNames.voiceCommands, pwshQueue: pwshTenants ? queueNames.voiceCommandsPowerShell : undefined },
          })
        : undefined;
      const graphFor = <T>(make: (client: typeof graphClient) => T) => {
        const made = new Map([...tenantGraphs].map(([id, client]) => [id, make(client)] as const));
        const home = made.get(inputs.tenant.tenantId.toLowerCase())!;
        return multi ? perTenant(async (tenantId) => (tenantId === undefined ? home : made.get(tenantId.toLowerCase()) ?? unknownTenant(tenantId))) : home;
      };
      const directory = createGraphDirectory(graphClient);
      const directories = graphFor((client) => createGraphDirectory(client));
      const teamsAdmins = graphFor((client) => createGraphTeamsAdmin(client));

      const storage = await openStorage(options.state ? 'memory' : (options.storage ?? 'auto'), cleanups, options.state?.tables, inputs.tenant.tenantId);
      // Several tenants: registered in the sandbox's own registry table too (as `dialtone tenants add`
      // would), so the operator commands of a kept sandbox (--sandbox DIR --tenant-id T) know them.
      if (sandboxTenants && storage.service) {
        const registry = createMemoryTenantRegistry(storage.service);
        for (const file of [inputs.tenant, ...(inputs.extraTenants ?? [])]) {
          if (!(await registry.get(file.tenantId))) await registry.add(sandboxTenantEntry(file, clock.now(), backendOf(file.tenantId), options.tenantApps?.[file.tenantId.toLowerCase()]?.applicationId), clock.now());
        }
      }
      if (inputs.pools.length > 0) {
        // Several tenants: a pool of the numbers file that names its tenant is imported into that tenant's inventory.
        const byTenant = new Map<string | undefined, typeof inputs.pools>();
        for (const pool of inputs.pools) byTenant.set(pool.tenantId?.toLowerCase(), [...(byTenant.get(pool.tenantId?.toLowerCase()) ?? []), pool]);
        for (const [tenantId, pools] of byTenant) {
          await (tenantId === undefined ? storage.inventory : storage.inventory.forTenant(tenantId)).importPools(pools, { now: clock.now(), correlationId: 'sandbox-import' });
        }
      }
      // The CallingLineIdentity catalogue is what the simulated tenant holds now (the tenant file's
      // policies, plus what `dialtone tenant apply` created), as the deployed catalogue file is an
      // export of Get-CsCallingLineIdentity.
      const teamsRef: { sim?: TeamsSimulator } = {};
      const savedRouting = TeamsTenantStateSchema.safeParse(options.state?.teams);
      const offlineCatalog = createStaticPolicyCatalog(
        savedRouting.success && savedRouting.data.voiceRouting !== undefined
          ? savedRouting.data.voiceRouting.callingLineIdentities.map((c) => ({ identity: `Tag:${c.name}`, description: c.description }))
          : (inputs.tenant.policies?.CallingLineIdentity ?? []).map((p) => ({ identity: p.identity, description: p.description ?? null })),
      );
      const catalog: PolicyCatalog = {
        callingLineIdentities: async () => teamsRef.sim?.tenant.callingLineIdentityCatalog() ?? offlineCatalog.callingLineIdentities(),
      };
      // Several tenants: each tenant's CallingLineIdentity policies are its own Teams tenant's.
      const catalogs = multi
        ? perTenant<PolicyCatalog>(async (tenantId) => {
            const sim = teamsRef.sim?.tenants.find((t) => t.tenantId.toLowerCase() === tenantId?.toLowerCase()) ?? teamsRef.sim?.tenant;
            return { callingLineIdentities: async () => sim?.callingLineIdentityCatalog() ?? offlineCatalog.callingLineIdentities() };
          })
        : catalog;
      const stageDepsWith = (fnClock: Clock) => ({ clock: fnClock, logger, sender, retryPolicy: { ...defaultRetryPolicy, ...options.retryPolicy }, ...(options.telemetry ? { telemetry: options.telemetry } : {}) });
      // Each Function App instance gets its own handlers; with clock skew, its own clock.
      const hostedFunctions = (fnClock: Clock): HostedFunction[] => [
        {
          name: 'correlate',
          queue: queueNames.hrEvents,
          sessions: false,
          handler: createCorrelateHandler({ ...stageDepsWith(fnClock), directory: directories, records: storage.records, strategies: correlationStrategies, ...(sandboxTenants ? { tenants: sandboxTenants } : {}) }),
        },
        {
          name: 'plan',
          queue: queueNames.userChanges,
          sessions: true,
          handler: createPlanHandler({
            ...stageDepsWith(fnClock),
            directory: directories,
            records: storage.records,
            inventory: storage.inventory,
            catalog: catalogs,
            policy: sandboxPolicies(inputs),
            snapshotMaxAgeMs: 5 * 60_000,
            reservationTtlMs: 24 * 60 * 60_000,
            // Wait for Teams provisioning after licensing, as production does (DIALTONE_TEAMS_READINESS=graph).
            ...(teamsFirst && options.teamsReadiness !== false ? { teams: teamsAdmins } : {}),
            ...(route ? { route } : {}),
          }),
        },
        {
          name: 'record',
          queue: queueNames.voiceResults,
          sessions: false,
          handler: createRecordHandler({ ...stageDepsWith(fnClock), records: storage.records, inventory: storage.inventory }),
        },
        ...(teamsFirst && graphBackend
          ? [
              {
                name: 'graphVoice',
                queue: queueNames.voiceCommands,
                sessions: true,
                handler: createGraphVoiceHandler({
                  ...stageDepsWith(fnClock),
                  admin: teamsAdmins,
                  policyIds: new PolicyIdCache(),
                  unsupportedPolicyTypes: new Set<string>(),
                  fallbackQueue: pwshTenants ? queueNames.voiceCommandsPowerShell : null,
                  pollAfterMs: 5_000,
                  ...(route ? { route } : {}),
                  records: storage.records,
                }),
              },
            ]
          : []),
      ];
      const instanceCount = options.instances ?? 1;
      const skews = options.functionClockSkewsMs ?? [];
      const perInstance = Array.from({ length: instanceCount }, (_, i) => hostedFunctions(skewedClock(clock, skews[i] ?? 0)));
      const functions = perInstance[0]!.map((fn, k) => ({ ...fn, instanceHandlers: perInstance.map((list) => list[k]!.handler) }));
      // Every invocation (queue and timer Functions) timed in sandbox time against host.json's functionTimeout.
      const durations = new FunctionDurations(readFunctionTimeoutMs());
      const host = new SandboxFunctionsHost(
        bus,
        functions,
        {
          scheduler,
          concurrency: options.hostConcurrency ?? readHostConcurrency(),
          instances: instanceCount,
          seed: options.seed ?? 1,
          startJitterMs: options.startJitterMs ?? 0,
          durations,
        },
      );

      // The timer Functions, on the sandbox clock at their production schedules.
      const subscriptions = createGraphSubscriptions(graphClient);
      const everyTenant = sandboxTenants ? async () => sandboxTenants : undefined;
      everyOccurrence(scheduler, 'graphSubscription', timerSchedules.graphSubscription, durations, async () => {
        const deps = {
          subscriptions,
          clock,
          logger,
          notificationUrl: SANDBOX_NOTIFICATION_URL,
          clientState: SANDBOX_CLIENT_STATE,
          // A retried call waits on the sandbox clock, never in real time.
          sleeper: { sleep: (ms: number) => scheduler.sleep(ms, 'timer:graphSubscription:retry') },
        };
        if (everyTenant) await maintainEveryTenantSubscription(deps, { tenants: everyTenant, graph: graphFor((client) => createGraphSubscriptions(client)) as PerTenantOf<typeof subscriptions> });
        else await maintainGraphSubscription(deps);
      }, logger);
      everyOccurrence(scheduler, 'graphResync', timerSchedules.graphResync, durations, async () => {
        const deps = {
          delta: directory,
          records: storage.records,
          state: storage.syncState,
          sender: sender(queueNames.userChanges),
          clock,
          logger,
          // A retried call waits on the sandbox clock, never in real time.
          sleeper: { sleep: (ms: number) => scheduler.sleep(ms, 'timer:graphResync:retry') },
        };
        if (everyTenant) await resyncEveryTenant(deps, { tenants: everyTenant, defaultTenantId: inputs.tenant.tenantId.toLowerCase(), graph: directories as PerTenantOf<typeof directory> });
        else await resyncDirectory(deps);
      }, logger);

      const connects: CertificateConnect[] = [];
      if (teamsFirst && options.entraCertificateCheck) {
        // Each Teams tenant's sign-in is checked against its own Entra (its own Graph's app registrations).
        for (const [i, sim] of teamsFirst.tenants.entries()) {
          const entraOf = i === 0 ? graph : extraGraphs[i - 1];
          if (!entraOf) continue;
          const tenantId = sim.tenantId.toLowerCase();
          sim.certificateTrust = (applicationId, thumbprint) => {
            const app = entraOf.exportEntra().applications.find((a) => a.appId.toLowerCase() === applicationId.toLowerCase());
            const trusted = app?.keyCredentials.some((k) => sameThumbprint(k.thumbprint, thumbprint)) ?? false;
            connects.push({ atMs: clock.nowMs(), tenantId, applicationId, thumbprint, trusted });
            return trusted;
          };
        }
      }
      let teams: TeamsSimulator | undefined;
      let worker: SandboxWorker | undefined;
      const workerCount = options.workerCount ?? 1;
      if (teamsFirst) {
        teams = teamsFirst;
        teamsRef.sim = teamsFirst;
      }
      if (teamsFirst && (!graphBackend || pwshTenants)) {
        const sim = teamsFirst;
        const limit = options.tenantSessionLimit ?? 4;
        const w = await startSandboxWorker({
          bus,
          clock,
          logger,
          teams: sim,
          tenantId: inputs.tenant.tenantId,
          ...(inputs.extraTenants ? { extraTenants: inputs.extraTenants.map((t) => t.tenantId.toLowerCase()) } : {}),
          ...(options.tenantApps ? { tenantApplicationIds: Object.fromEntries(Object.entries(options.tenantApps).map(([id, app]) => [id.toLowerCase(), app.applicationId])) } : {}),
          count: workerCount,
          bulkTimers: simulatedTimers(scheduler, { prefix: 'worker-bulk' }),
          waitTimers: simulatedTimers(scheduler, { prefix: 'worker-wait' }),
          certificateTimers: simulatedTimers(scheduler, { daemon: true, prefix: 'worker-certificate' }),
          // The idle reaper ticks as a daemon: idle sessions alone never keep a run going.
          poolTimers: simulatedTimers(scheduler, { daemon: true, prefix: 'worker-pool' }),
          restartWait: (ms) => scheduler.sleep(ms, 'worker-restart'),
          // A Key Vault 429 at a worker's start is waited out the same way: on this clock inside the
          // tracked restart (which gives its hold back while it waits), nothing at the sandbox's own start.
          startWait: (ms, key) => scheduler.sleep(ms, key),
          ...(options.workerApplicationId ? { applicationId: options.workerApplicationId } : {}),
          ...(limit > 0 ? { tenantSessionLimit: limit } : {}),
          ...(options.workerTuning || pwshTenants ? { tuning: { ...options.workerTuning, ...(pwshTenants ? { commandsQueue: workerQueue } : {}) } } : {}),
          ...(options.telemetry ? { telemetry: options.telemetry } : {}),
          ...(options.workerCertificates ? { certificates: options.workerCertificates } : {}),
          ...(options.tenantCertificates ? { tenantCertificates: options.tenantCertificates } : {}),
          ...(options.workerReports ? { reports: { reports: options.workerReports.reports ?? tableReports(storage.service), ...(options.workerReports.intervalMs === undefined ? {} : { intervalMs: options.workerReports.intervalMs }) } } : {}),
          ...(options.workerClockSkewMs !== undefined ? { clockSkewMs: options.workerClockSkewMs } : {}),
        });
        worker = w;
        cleanups.push(() => w.stop());
      }
      const bulkUsers = options.workerTuning?.bulk?.users ?? 0;
      const workerLoops = worker ? workerCount * (bulkUsers > 0 ? bulkUsers : (options.workerTuning?.concurrentSessions ?? 4)) : 0;

      const sandbox = new Sandbox(inputs, options, clock, scheduler, bus, graph, storage.inventory, storage.records, storage.kind, host, teams, worker, workerLoops, cleanups, logger, sent, latency);
      sandbox.workerQueue = workerQueue;
      sandbox.tables = storage.service;
      sandbox.tableFaultControl = storage.faults;
      sandbox.connects = connects;
      sandbox.extraGraphs = extraGraphs;
      sandbox.durations = durations;
      sandbox.operator = {
        directory,
        plan: {
          directory: directories,
          records: storage.records,
          inventory: storage.inventory,
          catalog: catalogs,
          policy: inputs.policy,
          clock,
          snapshotMaxAgeMs: 0,
          reservationTtlMs: 0,
          ...(teamsFirst ? { teams: teamsAdmins } : {}),
        },
      };
      sandbox.eventsIn = options.state?.eventsIn ?? 0;
      return sandbox;
    } catch (error) {
      for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
      throw error;
    }
  }

  /**
   * Puts HR event lines on hr-events, each at its occurredAt on the simulated clock, as an HR
   * producer on @azure/service-bus does: a send answered with a retryable error (ServiceBusy,
   * ServiceTimeout) is sent again, up to HR_SEND_ATTEMPTS tries. A line Service Bus refuses for
   * good (over 256 KB, an id over 128 characters, QuotaExceeded, still busy after every try)
   * never enters the pipeline: it is kept as a refused input and reported with the dead letters,
   * naming the line.
   */
  async enqueueEvents(lines: string[]): Promise<void> {
    const first = this.eventsIn;
    this.eventsIn += lines.length;
    this.refused.push(...(await enqueueEvents(this.bus, this.clock, lines, first, this.hrSend, this.logger)));
  }

  /** Service Bus's throttling met by the HR sends so far (by code), the sends tried again and the lines refused. */
  hrSendFigures(): HrSendFigures {
    return { faults: { ...this.hrSend.faults }, retries: this.hrSend.retries, refused: this.hrSend.refused };
  }

  /** Each Function's invocations so far, their longest in sandbox time and how many outlasted host.json's functionTimeout. */
  functionDurations(): { timeoutMs: number; byFunction: Record<string, FunctionDuration> } {
    return { timeoutMs: this.durations?.timeoutMs ?? 0, byFunction: this.durations?.summary() ?? {} };
  }

  /** The in-memory tables; undefined on Azurite. */
  tableService(): MemoryTableService | undefined {
    return this.tables;
  }

  /** Where chaos runs set and count Table faults: the in-memory twin, or the fault proxy in front of Azurite. */
  tableFaults(): TableFaultControl | undefined {
    return this.tableFaultControl;
  }

  /** The hybrid workers, when they run (chaos runs kill and restart them). */
  workers(): SandboxWorker | undefined {
    return this.worker;
  }

  /** Every Connect-MicrosoftTeams Entra checked (`entraCertificateCheck`), in order: who, with which thumbprint, trusted or refused. */
  certificateConnects(): readonly CertificateConnect[] {
    return this.connects;
  }

  /** HR lines refused at send, so far. */
  refusedInputs(): readonly RefusedInput[] {
    return this.refused;
  }

  /** Runs every Function and the worker until nothing is queued, in flight or scheduled. */
  async runUntilQuiet(): Promise<void> {
    await this.drive(undefined);
  }

  /**
   * Runs for `ms` of sandbox time from now: the work, and the timer Functions (subscription
   * renewal, delta resync) that fall in it, even when nothing else is left to do.
   */
  async runFor(ms: number): Promise<void> {
    await this.drive(this.clock.nowMs() + ms);
  }

  async report(): Promise<SandboxReport> {
    return buildReport({
      inputs: this.inputs,
      eventsIn: this.eventsIn,
      bus: this.bus,
      clock: this.clock,
      inventory: this.inventory,
      records: this.records,
      graph: this.graph,
      extraGraphs: this.extraGraphs,
      teams: this.teams,
      sent: this.sent,
      workerRan: this.worker !== undefined,
      simulatedMs: this.scheduler.lastWorkAt() - this.clock.startedAt,
      refused: this.refused,
    });
  }

  /** Everything `--state DIR` keeps; only for in-memory storage. */
  exportState(): SandboxState {
    if (!this.tables) throw new Error('the sandbox state can only be kept with in-memory storage');
    return {
      clock: { startedAt: this.clock.startedAt, now: this.clock.nowMs() },
      bus: this.bus.snapshot(),
      // Partitions the run did not write keep their chunk files (sandbox/host/state.ts).
      tables: this.tables.snapshotForStorage(),
      teams: this.teams?.tenant.exportState(),
      graph: { subscriptions: this.graph.exportSubscriptions() },
      // Several tenants: each further tenant's Teams tenant and Graph subscriptions, by tenant id.
      ...((this.inputs.extraTenants?.length ?? 0) > 0
        ? {
            tenants: Object.fromEntries(
              (this.inputs.extraTenants ?? []).map((t, i) => [
                t.tenantId.toLowerCase(),
                { teams: this.teams?.tenants[i + 1]?.exportState(), graph: { subscriptions: this.extraGraphs[i]?.exportSubscriptions() } },
              ]),
            ),
          }
        : {}),
      // What `dialtone setup` made (Entra objects, Key Vault metadata) is not the run's: kept as it was.
      ...(this.options.state?.setup !== undefined ? { setup: this.options.state.setup } : {}),
      eventsIn: this.eventsIn,
    };
  }

  async stop(): Promise<void> {
    for (const cleanup of this.cleanups.reverse()) await cleanup().catch(() => undefined);
    this.cleanups.length = 0;
    await this.bus.close();
  }

  /**
   * The discrete-event loop: let everything runnable run until quiet (every Function
   * invocation, the worker's sessions and the notification deliveries wait on sandbox time or
   * are done), then move the clock to the next timer, scheduled message or directory change.
   */
  private async drive(until: number | undefined): Promise<void> {
    const changes = [this.inputs.tenant, ...(this.inputs.extraTenants ?? [])].flatMap((t) => (t.directoryChanges ?? []).map((c) => this.clock.startedAt + c.atMs));
    const advanceGraphs = (now: Date) => {
      this.graph.advanceTo(now);
      for (const g of this.extraGraphs) g.advanceTo(now);
    };
    let reportedAt = 0;
    for (;;) {
      await this.settle();
      const failure = this.scheduler.failures()[0];
      if (failure) {
        const reason = failure.error instanceof Error ? failure.error.message : String(failure.error);
        throw new Error(`A sandbox timer (${failure.key}) failed: ${reason}`);
      }
      if (this.options.onProgress && Date.now() - reportedAt > 250) {
        reportedAt = Date.now();
        this.options.onProgress({ handled: this.host.handledMessages(), queued: this.bus.availableCount(), simulatedMs: this.clock.nowMs() - this.clock.startedAt });
      }
      const now = this.clock.nowMs();
      const due = [this.bus.nextDueAt(), this.scheduler.nextDue(false), ...changes.filter((c) => c > now)].filter(
        (t): t is number => t !== undefined,
      );
      const work = due.length === 0 ? undefined : Math.min(...due);
      const limit = until === undefined ? work : Math.min(work ?? until, until);
      if (limit === undefined) return;
      // Timers first (daemon timers too, when they fall before the next work or the end).
      if (this.scheduler.fireNext(limit)) {
        advanceGraphs(this.clock.now());
        continue;
      }
      this.clock.advanceTo(limit);
      advanceGraphs(this.clock.now());
      if (work !== undefined && limit === work) {
        this.scheduler.noteWork();
        continue;
      }
      await this.settle();
      return;
    }
  }

  /** Waits until nothing can run in real time (see SimScheduler); throws after a real-time stall. */
  private async settle(): Promise<void> {
    const stallTimeoutMs = this.options.stallTimeoutMs ?? 120_000;
    let lastProgress = Date.now();
    let quietTurns = 0;
    for (;;) {
      const started = await this.host.dispatch();
      if (started > 0) this.scheduler.noteWork();
      if (started > 0 || this.scheduler.busy() > 0 || this.workerBusy()) {
        quietTurns = 0;
        if (Date.now() - lastProgress > stallTimeoutMs) {
          throw new Error(`The sandbox made no progress for ${stallTimeoutMs} ms of real time with its clock held: ${this.clockHolders(started)}`);
        }
        // Progress is a change of work or timers, or bus activity; a wait that timed out is none.
        const changed = await Promise.race([this.scheduler.changed(20), this.bus.waitForActivity(20)]);
        if (changed || started > 0) lastProgress = Date.now();
        continue;
      }
      await nextTurn();
      if (++quietTurns >= 2) return;
    }
  }

  /**
   * The worker has work under way in real time: a cmdlet or connect on its way to or back from the
   * simulator (not waiting on a cmdlet's sandbox time), a pwsh session starting, or a session to
   * take. A worker that only waits — a cmdlet retry's backoff, a lock renewal, a tenant session slot held by the
   * other worker, a hung cmdlet's deadline (all on this clock, WorkerDeps.waitTimers), a free
   * session of its own pool — is not busy: holding the clock for it would hold every other
   * session's cmdlet with it (test/integration/sandbox-worker-waits.test.ts).
   */
  /** What holds the clock, for the stall error: each part of the quiet check, with its counts. */
  private clockHolders(started: number): string {
    const at = `sandbox time +${((this.clock.nowMs() - this.clock.startedAt) / 3_600_000).toFixed(3)} h`;
    const labels = this.scheduler.busyLabels();
    const shown = labels.slice(0, 8).map(([label, n]) => `${label} x${n}`).join(', ');
    const parts = [
      `scheduler: ${this.scheduler.busy()} tracked flow(s) running${labels.length > 0 ? ` (${shown}${labels.length > 8 ? `, +${labels.length - 8} more` : ''})` : ''}`,
      `functions host: ${this.host.running()} invocation(s) in flight, ${started} started on this turn`,
      `bus: ${this.bus.availableCount()} message(s) available, ${this.bus.inFlightCount()} locked`,
    ];
    if (this.worker) {
      const teamsSleeping = this.scheduler.sleeping('teams');
      const hung = this.teams?.hungProcesses() ?? 0;
      const pending = this.worker.pendingWork();
      const free = this.worker.heldSessions() < this.workerLoops;
      const acceptable = this.bus.hasAcceptableSession(this.workerQueue);
      parts.push(
        `worker: pendingWork ${pending} vs ${teamsSleeping} Teams cmdlet(s) sleeping on the clock + ${hung} hung process(es)` +
          `${pending > teamsSleeping + hung ? ' (busy: work under way in real time)' : ''}; ` +
          `heldSessions ${this.worker.heldSessions()} of ${this.workerLoops} loops, ${this.workerQueue} has ${acceptable ? 'a' : 'no'} session to accept` +
          `${free && acceptable ? ' (busy: a free loop should take it)' : ''}`,
      );
    }
    return `${at}; ${parts.join('; ')}.`;
  }

  private workerBusy(): boolean {
    if (!this.worker) return false;
    // A hung cmdlet waits for the worker's deadline, which is on this clock (WorkerDeps.waitTimers).
    if (this.worker.pendingWork() > this.scheduler.sleeping('teams') + (this.teams?.hungProcesses() ?? 0)) return true;
    return this.worker.heldSessions() < this.workerLoops && this.bus.hasAcceptableSession(this.workerQueue);
  }
}

/** The workers' reports in the sandbox's own `sessionslots` table. */
function tableReports(service: MemoryTableService | undefined): WorkerReports {
  if (!service) throw new Error('the workers report into the sandbox\'s sessionslots table only with in-memory storage: give workerReports.reports');
  return createEntityWorkerReports(service.table('sessionslots'));
}

/** A tenant file as the registry row of a deployment that serves it (the sandbox with several tenants). */
/**
 * The voice policy of each tenant: its tenant file's own (`voicePolicy`), else the run's --policy.
 * A message naming no tenant is the first tenant's.
 */
function sandboxPolicies(inputs: SandboxInputs): VoicePolicy | PerTenantOf<VoicePolicy> {
  const own = inputs.tenantPolicies;
  if (!own) return inputs.policy;
  const first = inputs.tenant.tenantId.toLowerCase();
  return perTenant(async (tenantId) => own[tenantId?.toLowerCase() ?? first]?.policy ?? inputs.policy);
}

/** A sandbox tenant as the registry knows it (`sandbox run` with several tenant files registers each). */
export function sandboxTenantEntry(tenant: SandboxTenantFile, now: Date, teamsBackend?: 'powershell' | 'graph', applicationId = '00000000-0000-0000-0000-0000000d1a17'): Tenant {
  return {
    tenantId: tenant.tenantId.toLowerCase(),
    displayName: tenant.displayName ?? tenant.tenantId,
    applicationId,
    // Each tenant's own certificate in the (simulated) Key Vault, as a partner deployment has.
    certificateName: `sandbox-teams-${tenant.tenantId.toLowerCase().replace(/[^0-9a-z-]/g, '')}`.slice(0, 127),
    pools: [],
    upnDomains: [],
    sessionLimit: 4,
    ...(teamsBackend ? { teamsBackend } : {}),
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
  };
}

type PerTenantOf<T> = ReturnType<typeof perTenant<T>>;

function unknownTenant(tenantId: string): never {
  throw new DialtoneError('ConfigInvalid', `tenant ${tenantId} is not a tenant of this sandbox (give its file with --tenant)`);
}

/** A clock `skewMs` off the sandbox clock (the clock itself when 0). */
function skewedClock(clock: SimClock, skewMs: number): Clock {
  return skewMs === 0 ? clock : { now: () => new Date(clock.nowMs() + skewMs) };
}

/**
 * Timers on the sandbox clock, for the worker's bulk path (its windows and batch-operation polls)
 * and its waits (WorkerDeps.waitTimers), and, as daemon timers that never keep a run going by
 * themselves, its certificate reload and reports and its pools' idle reaper (WorkerDeps.poolTimers).
 */
function simulatedTimers(scheduler: SimScheduler, o: { daemon?: boolean; prefix?: string } = {}): Timers {
  let seq = 0;
  const prefix = o.prefix ?? 'worker-bulk';
  return {
    setTimeout: (callback, ms) => scheduler.at(scheduler.clock.nowMs() + Math.max(0, ms), `${prefix}:${String(++seq).padStart(9, '0')}`, callback, { daemon: o.daemon ?? false }),
    clearTimeout: (handle) => (handle as TimerHandle | undefined)?.cancel(),
    now: () => scheduler.clock.nowMs(),
  };
}

/** Runs `fn` as a timer Function at every occurrence of an NCRONTAB schedule, on the sandbox clock. */
function everyOccurrence(scheduler: SimScheduler, name: string, schedule: string, durations: FunctionDurations, fn: () => Promise<void>, logger?: Logger): void {
  const parsed = parseNcrontab(schedule);
  // The Functions host logs a failed timer invocation and retries it under the timer's retry
  // policy (the same timerRetry the Function registers), then waits for the next occurrence.
  const attempt = async (retry: number): Promise<void> => {
    try {
      await durations.time(name, () => scheduler.clock.nowMs(), fn);
    } catch (error: unknown) {
      logger?.error('timer function failed', { function: name, attempt: retry + 1, reason: error instanceof Error ? error.message : String(error) });
      if (retry < timerRetry.maxRetryCount) {
        scheduler.at(scheduler.clock.now().getTime() + timerRetryDelayMs(retry + 1), `timer:${name}:retry`, () => attempt(retry + 1), { daemon: true });
      }
    }
  };
  const arm = (after: Date): void => {
    const at = nextOccurrence(parsed, after).getTime();
    scheduler.at(
      at,
      `timer:${name}`,
      async () => {
        arm(new Date(at));
        await attempt(0);
      },
      { daemon: true },
    );
  };
  arm(scheduler.clock.now());
}

/** Graph's POSTs to the notification URL, routed to the real webhook handler as the Functions host would. */
function webhookTransport(handler: ReturnType<typeof createGraphWebhookHandler>): WebhookTransport {
  const expected = new URL(SANDBOX_NOTIFICATION_URL);
  return {
    post: async (url, body) => {
      const target = new URL(url);
      if (target.origin !== expected.origin || target.pathname !== expected.pathname) return { status: 404, body: 'Not Found', contentType: 'text/plain' };
      // authLevel 'function': without the function key the host answers 401 before the code runs.
      if (target.searchParams.get('code') !== expected.searchParams.get('code')) return { status: 401, body: '', contentType: undefined };
      const query: Record<string, string> = {};
      for (const [k, v] of target.searchParams) query[k] = v;
      const answer = await handler(
        new HttpRequest({ method: 'POST', url, query, headers: { 'content-type': 'application/json' }, body: { string: body } }),
      );
      const headers = (answer.headers ?? {}) as Record<string, string>;
      return { status: answer.status ?? 200, body: typeof answer.body === 'string' ? answer.body : '', contentType: headers['content-type'] };
    },
  };
}

/** `dialtone sandbox run`: start, play the events, run until quiet, report, stop. */
export async function runSandbox(inputs: SandboxInputs, options: SandboxOptions & { keepState?: boolean } = {}): Promise<SandboxRun> {
  const sandbox = await Sandbox.start(inputs, options);
  try {
    await sandbox.enqueueEvents(inputs.eventLines);
    await sandbox.runUntilQuiet();
    const report = await sandbox.report();
    return { report, logLines: sandbox.logger.lines, ...(options.keepState ? { state: sandbox.exportState() } : {}) };
  } finally {
    await sandbox.stop();
  }
}

/** One Connect-MicrosoftTeams as the simulated Entra judged its certificate. */
export interface CertificateConnect {
  atMs: number;
  /** The tenant signed in to (lower case). */
  tenantId: string;
  applicationId: string;
  thumbprint: string;
  trusted: boolean;
}

/** An HR line the bus refused when it was sent: it never reached hr-events. */
export interface RefusedInput {
  /** 1-based, counted over every line this sandbox was given. */
  line: number;
  eventId: string | undefined;
  code: string;
  message: string;
  /** Sends tried before it was given up (more than one only for a retryable answer). */
  attempts?: number;
}

/** What Service Bus answered the sandbox's HR sends. */
export interface HrSendFigures {
  /** Throttling answers met (ServiceBusy, ServiceTimeout, QuotaExceeded), by code, every try counted. */
  faults: Record<string, number>;
  /** Sends tried again after a retryable answer. */
  retries: number;
  /** Lines given up as refused inputs. */
  refused: number;
}

/**
 * Tries of one HR line's send, the first included, as the SDK's default retry options give a
 * producer (maxRetries 3) plus one more of the producer's own. No wait between them: the sandbox's
 * clock stands still while it enqueues, and the line is scheduled for its occurredAt either way.
 */
export const HR_SEND_ATTEMPTS = 5;

const THROTTLING_CODES = new Set(['ServiceBusy', 'ServiceTimeout', 'QuotaExceeded']);

async function enqueueEvents(bus: MemoryBus, clock: SimClock, lines: string[], before: number, figures: HrSendFigures, logger: Logger): Promise<RefusedInput[]> {
  const sender = bus.createSender(queueNames.hrEvents);
  const refused: RefusedInput[] = [];
  for (const [index, line] of lines.entries()) {
    const number = before + index + 1;
    const parsed = safeJson(line) as { eventId?: unknown; occurredAt?: unknown; tenantId?: unknown } | undefined;
    const eventId = typeof parsed?.eventId === 'string' && parsed.eventId.trim() !== '' ? parsed.eventId : undefined;
    const tenantId = typeof parsed?.tenantId === 'string' && parsed.tenantId.trim() !== '' ? parsed.tenantId.trim().toLowerCase() : undefined;
    const message: OutgoingMessage = {
      body: parsed ?? line,
      // As docs/MULTI-TENANT.md asks of HR producers: an event that names its tenant has a message id
      // naming it too, so two tenants' events with the same eventId are not duplicates to hr-events.
      messageId: eventId === undefined ? `events-line-${number}` : tenantId === undefined ? eventId : tenantScopedId(tenantId, eventId),
      contentType: 'application/json',
      applicationProperties: { 'dialtone-source-line': number },
      ...(eventId ? { correlationId: eventId } : {}),
    };
    const at = Date.parse(String(parsed?.occurredAt));
    // The HR timeline plays out on the simulated clock: each event arrives when it happened.
    for (let attempt = 1; ; attempt++) {
      try {
        await sender.scheduleMessages(message, new Date(Number.isFinite(at) ? Math.max(at, clock.nowMs()) : clock.nowMs()));
        break;
      } catch (error) {
        const code = typeof (error as { code?: unknown }).code === 'string' ? (error as { code: string }).code : 'SendFailed';
        if (THROTTLING_CODES.has(code)) figures.faults[code] = (figures.faults[code] ?? 0) + 1;
        // The SDK's `retryable` (ServiceBusy, ServiceTimeout): a throttled send changed nothing, and
        // the same message id makes a send that did land a duplicate hr-events drops.
        if ((error as { retryable?: unknown }).retryable === true && attempt < HR_SEND_ATTEMPTS) {
          figures.retries += 1;
          logger.warn('HR line sent again', { line: number, code, attempt });
          continue;
        }
        figures.refused += 1;
        refused.push({ line: number, eventId: eventId?.slice(0, 128), code, message: error instanceof Error ? error.message : String(error), attempts: attempt });
        break;
      }
    }
  }
  return refused;
}

async function openStorage(
  mode: 'auto' | 'azurite' | 'memory',
  cleanups: (() => Promise<void>)[],
  snapshot?: SandboxState['tables'],
  /** The tenant file's tenant: owner of the inventory's partitions from before tenants. */
  defaultTenantId?: string,
): Promise<{ inventory: NumberInventory; records: ProvisioningRecords; syncState: SyncState; kind: string; service?: MemoryTableService; faults?: TableFaultControl }> {
  if (mode === 'memory' || (mode === 'auto' && !(await isAzuriteAvailable()))) {
    const service = createMemoryTableService(snapshot);
    // The twin is the service; the stages reach it as they reach Table Storage, through the
    // client's retry policy (the SDK's on Azurite and in production), which meets its 503s first.
    const client = { ...service, table: (name: string) => withTableClientRetry(service.table(name)) };
    return {
      inventory: createMemoryNumberInventory({ service: client, defaultTenantId }),
      records: createMemoryProvisioningRecords({ service: client }),
      syncState: entitySyncState(client.table('dialtonesync')),
      kind: 'memory',
      // The tenant registry and the worker reports are Table clients too.
      service: client,
      faults: service,
    };
  }
  const azurite = await startAzurite({ inMemory: true, silent: true });
  cleanups.push(() => azurite.stop());
  // Every request goes through the fault proxy (a pass-through until a chaos run sets faults).
  const upstream = new URL(azurite.tableEndpoint);
  const proxy = await startTableFaultProxy({ host: upstream.hostname, port: Number(upstream.port) }, azuriteConnectionString);
  cleanups.push(() => proxy.stop());
  // The SDK's own retry policy meets the proxy's 503s and timeouts and retries them, as against
  // the service, but after 20 ms rather than 1 s: a retry's real-time wait holds the sandbox clock.
  const connection = { connectionString: proxy.connectionString, retry: { retryDelayInMs: 20, maxRetryDelayInMs: 500 } };
  const suffix = Math.random().toString(36).slice(2, 8);
  const tableNames = { numbers: `numbers${suffix}`, numberHistory: `numberhistory${suffix}`, provisioning: `provisioning${suffix}` };
  return {
    inventory: createTableNumberInventory({ ...connection, tableNames }, { defaultTenantId }),
    records: createTableProvisioningRecords({ ...connection, tableNames }),
    syncState: entitySyncState(azureEntityTable(createTableClient(connection, `dialtonesync${suffix}`))),
    faults: proxy,
    kind: 'azurite',
  };
}

/** `<tenant id>:<eventId>`, or with a digest of the event id where that would exceed Service Bus's 128 characters. */
function tenantScopedId(tenantId: string, eventId: string): string {
  const id = `${tenantId}:${eventId}`;
  return id.length <= 128 ? id : `${tenantId}:${deterministicId('e', eventId)}`;
}

function safeJson(line: string): unknown {
  try {
    return JSON.parse(line) as unknown;
  } catch {
    return undefined;
  }
}
