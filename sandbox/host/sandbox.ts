import { queueNames, type UserChange } from '../../shared/contracts/messages.js';
import { createGraphDirectory } from '../../shared/adapters/graph-directory.js';
import { createStaticPolicyCatalog } from '../../shared/adapters/file-policy-catalog.js';
import { createMemoryNumberInventory } from '../../shared/adapters/memory-number-inventory.js';
import { createMemoryTableService, type MemoryTableService } from '../../shared/adapters/memory-table-client.js';
import { createMemoryProvisioningRecords } from '../../shared/adapters/memory-provisioning-records.js';
import { createTableNumberInventory } from '../../shared/adapters/table-number-inventory.js';
import { createTableProvisioningRecords } from '../../shared/adapters/table-provisioning-records.js';
import { correlationStrategies } from '../../shared/domain/correlation.js';
import { defaultRetryPolicy, type RetryPolicy } from '../../shared/domain/settlement.js';
import { createCorrelateHandler, createPlanHandler, createRecordHandler } from '../../shared/handlers/stages.js';
import { createMemoryLogger } from '../../shared/logging/logger.js';
import type { BusSender, OutgoingMessage } from '../../shared/ports/bus.js';
import type { NumberInventory } from '../../shared/ports/number-inventory.js';
import type { ProvisioningRecords } from '../../shared/ports/provisioning-records.js';
import { isAzuriteAvailable, startAzurite } from '../azurite.js';
import { isBatch, MemoryBus } from '../bus/memory-bus.js';
import { deployedQueues } from '../bus/queues.js';
import { SimClock } from '../clock.js';
import { startGraphSimulator, type GraphFaults, type GraphSimulator } from '../graph-sim/index.js';
import { startTeamsSimulator, TeamsTenantStateSchema, type TeamsSimulator } from '../teams-sim/index.js';
import type { PolicyCatalog } from '../../shared/ports/policy-catalog.js';
import { SandboxFunctionsHost } from './functions-host.js';
import type { SandboxInputs } from './inputs.js';
import type { SandboxState } from './state.js';
import { buildReport, type SandboxReport } from './report.js';
import { startSandboxWorker, type SandboxWorker } from './worker.js';

export interface SandboxOptions {
  /** Table Storage through Azurite when the package is installed (default), or in memory. */
  storage?: 'auto' | 'azurite' | 'memory';
  /** Run the hybrid worker against the Teams simulator (default true). */
  worker?: boolean;
  workerCount?: number;
  /** Worker pool tuning (sessions, session age, timeouts) for benchmarks and chaos runs. */
  workerTuning?: Parameters<typeof startSandboxWorker>[0]['tuning'];
  retryPolicy?: Partial<RetryPolicy>;
  /** Continue from a state saved by an earlier run (`--state DIR`); implies in-memory storage. */
  state?: SandboxState;
  /** Throttling and outages of the simulated Graph (seeded), for chaos runs. */
  graphFaults?: GraphFaults;
  /** Give up when nothing progresses for this long in real time. */
  stallTimeoutMs?: number;
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

/**
 * The real handlers of every stage and the real worker in one process against the in-memory
 * bus, the Graph simulator over HTTP and the Teams simulator behind the pwsh protocol. Tests
 * drive it step by step (run until quiet, change the world, replay, run again).
 */
export class Sandbox {
  private eventsIn = 0;
  private tables: MemoryTableService | undefined;

  private constructor(
    readonly inputs: SandboxInputs,
    readonly options: SandboxOptions,
    readonly clock: SimClock,
    readonly bus: MemoryBus,
    readonly graph: GraphSimulator,
    readonly inventory: NumberInventory,
    readonly records: ProvisioningRecords,
    readonly storageKind: string,
    private readonly host: SandboxFunctionsHost,
    readonly teams: TeamsSimulator | undefined,
    private readonly worker: SandboxWorker | undefined,
    private readonly cleanups: (() => Promise<void>)[],
    readonly logger: ReturnType<typeof createMemoryLogger>,
    readonly sent: { queue: string; message: OutgoingMessage }[],
  ) {}

  static async start(inputs: SandboxInputs, options: SandboxOptions = {}): Promise<Sandbox> {
    const clock = new SimClock(options.state ? new Date(options.state.clock.startedAt) : sandboxStart(inputs.eventLines));
    if (options.state) clock.advanceTo(options.state.clock.now);
    const logger = createMemoryLogger('info', options.onLog);
    const bus = new MemoryBus(clock, sandboxQueues);
    if (options.state) bus.restore(options.state.bus);
    const cleanups: (() => Promise<void>)[] = [];
    try {
      const graph = await startGraphSimulator({
        tenant: inputs.tenant,
        clock,
        startMs: clock.startedAt,
        ...(options.graphFaults ? { faults: options.graphFaults, seed: 7 } : {}),
      });
      cleanups.push(() => graph.close());
      const directory = createGraphDirectory({ baseUrl: graph.baseUrl, accessToken: async () => 'sandbox-token' });

      const storage = await openStorage(options.state ? 'memory' : (options.storage ?? 'auto'), cleanups, options.state?.tables);
      if (inputs.pools.length > 0) {
        await storage.inventory.importPools(inputs.pools, { now: clock.now(), correlationId: 'sandbox-import' });
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
      const stageDeps = { clock, logger, sender, retryPolicy: { ...defaultRetryPolicy, ...options.retryPolicy } };
      const host = new SandboxFunctionsHost(bus, [
        {
          name: 'correlate',
          queue: queueNames.hrEvents,
          sessions: false,
          handler: createCorrelateHandler({ ...stageDeps, directory, records: storage.records, strategies: correlationStrategies }),
        },
        {
          name: 'plan',
          queue: queueNames.userChanges,
          sessions: true,
          handler: createPlanHandler({
            ...stageDeps,
            directory,
            records: storage.records,
            inventory: storage.inventory,
            catalog,
            policy: inputs.policy,
            snapshotMaxAgeMs: 5 * 60_000,
            reservationTtlMs: 24 * 60 * 60_000,
          }),
        },
        {
          name: 'record',
          queue: queueNames.voiceResults,
          sessions: false,
          handler: createRecordHandler({ ...stageDeps, records: storage.records, inventory: storage.inventory }),
        },
      ]);

      let teams: TeamsSimulator | undefined;
      let worker: SandboxWorker | undefined;
      if (options.worker !== false) {
        const sim = await startTeamsSimulator({
          ...options.teams,
          tenant: inputs.tenant,
          clock,
          ...(options.state?.teams !== undefined ? { state: options.state.teams, startedAtMs: clock.startedAt } : {}),
        });
        teams = sim;
        teamsRef.sim = sim;
        cleanups.push(() => sim.close());
        const w = await startSandboxWorker({ bus, clock, logger, teams: sim, tenantId: inputs.tenant.tenantId, count: options.workerCount ?? 1, ...(options.workerTuning ? { tuning: options.workerTuning } : {}) });
        worker = w;
        cleanups.push(() => w.stop());
      }

      graph.onChange((change) => {
        if (!change.notify) return;
        const at = clock.now().toISOString();
        const body: UserChange = {
          userId: change.userId,
          source: 'graph',
          changeType: change.changeType,
          eventId: `graph-${change.userId}-${at}`,
          correlationId: `graph-${change.userId}-${at}`,
          occurredAt: at,
        };
        void bus
          .createSender(queueNames.userChanges)
          .sendMessages({ body, messageId: body.eventId, sessionId: body.userId, correlationId: body.correlationId });
      });

      const sandbox = new Sandbox(inputs, options, clock, bus, graph, storage.inventory, storage.records, storage.kind, host, teams, worker, cleanups, logger, sent);
      sandbox.tables = storage.service;
      sandbox.eventsIn = options.state?.eventsIn ?? 0;
      return sandbox;
    } catch (error) {
      for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
      throw error;
    }
  }

  /** Puts HR event lines on hr-events, each at its occurredAt on the simulated clock. */
  enqueueEvents(lines: string[]): void {
    this.eventsIn += lines.length;
    enqueueEvents(this.bus, this.clock, lines);
  }

  /** Runs every stage and the worker until nothing is queued, in flight or scheduled. */
  async runUntilQuiet(): Promise<void> {
    await drive(this.bus, this.clock, this.host, this.graph, this.inputs, this.options, this.worker);
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
      teams: this.teams,
      sent: this.sent,
      workerRan: this.worker !== undefined,
    });
  }

  /** Everything `--state DIR` keeps; only for in-memory storage. */
  exportState(): SandboxState {
    if (!this.tables) throw new Error('the sandbox state can only be kept with in-memory storage');
    return {
      version: 1,
      clock: { startedAt: this.clock.startedAt, now: this.clock.nowMs() },
      bus: this.bus.snapshot(),
      tables: this.tables.snapshot(),
      teams: this.teams?.tenant.exportState(),
      eventsIn: this.eventsIn,
    };
  }

  async stop(): Promise<void> {
    for (const cleanup of this.cleanups.reverse()) await cleanup().catch(() => undefined);
    this.cleanups.length = 0;
    await this.bus.close();
  }
}

/** `dialtone sandbox run`: start, play the events, run until quiet, report, stop. */
export async function runSandbox(inputs: SandboxInputs, options: SandboxOptions & { keepState?: boolean } = {}): Promise<SandboxRun> {
  const sandbox = await Sandbox.start(inputs, options);
  try {
    sandbox.enqueueEvents(inputs.eventLines);
    await sandbox.runUntilQuiet();
    const report = await sandbox.report();
    return { report, logLines: sandbox.logger.lines, ...(options.keepState ? { state: sandbox.exportState() } : {}) };
  } finally {
    await sandbox.stop();
  }
}

function enqueueEvents(bus: MemoryBus, clock: SimClock, lines: string[]): void {
  const sender = bus.createSender(queueNames.hrEvents);
  lines.forEach((line, index) => {
    const parsed = safeJson(line) as { eventId?: unknown; occurredAt?: unknown } | undefined;
    const eventId = typeof parsed?.eventId === 'string' && parsed.eventId.trim() !== '' ? parsed.eventId : undefined;
    const message: OutgoingMessage = {
      body: parsed ?? line,
      messageId: eventId ?? `events-line-${index + 1}`,
      contentType: 'application/json',
      applicationProperties: { 'dialtone-source-line': index + 1 },
      ...(eventId ? { correlationId: eventId } : {}),
    };
    const at = Date.parse(String(parsed?.occurredAt));
    // The HR timeline plays out on the simulated clock: each event arrives when it happened.
    void sender.scheduleMessages(message, new Date(Number.isFinite(at) ? Math.max(at, clock.nowMs()) : clock.nowMs()));
  });
}

async function drive(
  bus: MemoryBus,
  clock: SimClock,
  host: SandboxFunctionsHost,
  graph: GraphSimulator,
  inputs: SandboxInputs,
  options: SandboxOptions,
  worker: SandboxWorker | undefined,
): Promise<void> {
  const stallTimeoutMs = options.stallTimeoutMs ?? 120_000;
  const changes = (inputs.tenant.directoryChanges ?? []).map((c) => clock.startedAt + c.atMs);
  const watched = worker ? undefined : [queueNames.hrEvents, queueNames.userChanges, queueNames.voiceResults];
  let lastProgress = Date.now();
  let total = 0;
  const report = () => options.onProgress?.({ handled: total, queued: bus.availableCount(), simulatedMs: clock.nowMs() - clock.startedAt });
  for (;;) {
    const handled = await host.pump();
    if (handled > 0) {
      total += handled;
      report();
      lastProgress = Date.now();
      continue;
    }
    const busy = watched
      ? watched.some((q) => bus.availableCount(q) > 0 || bus.inFlightCount(q) > 0)
      : bus.availableCount() > 0 || bus.inFlightCount() > 0 || (worker?.busy() ?? false);
    if (busy) {
      if (Date.now() - lastProgress > stallTimeoutMs) {
        throw new Error(`The sandbox made no progress for ${stallTimeoutMs} ms with work still queued.`);
      }
      await bus.waitForActivity(25);
      continue;
    }
    const now = clock.nowMs();
    const due = [bus.nextDueAt(), ...changes.filter((c) => c > now)].filter((t): t is number => t !== undefined);
    if (due.length === 0) return;
    clock.advanceTo(Math.min(...due));
    graph.advanceTo(clock.now());
    report();
    lastProgress = Date.now();
  }
}

async function openStorage(
  mode: 'auto' | 'azurite' | 'memory',
  cleanups: (() => Promise<void>)[],
  snapshot?: SandboxState['tables'],
): Promise<{ inventory: NumberInventory; records: ProvisioningRecords; kind: string; service?: MemoryTableService }> {
  if (mode === 'memory' || (mode === 'auto' && !(await isAzuriteAvailable()))) {
    const service = createMemoryTableService(snapshot);
    return {
      inventory: createMemoryNumberInventory({ service }),
      records: createMemoryProvisioningRecords({ service }),
      kind: 'memory',
      service,
    };
  }
  const azurite = await startAzurite({ inMemory: true, silent: true });
  cleanups.push(() => azurite.stop());
  const suffix = Math.random().toString(36).slice(2, 8);
  const tableNames = { numbers: `numbers${suffix}`, numberHistory: `numberhistory${suffix}`, provisioning: `provisioning${suffix}` };
  return {
    inventory: createTableNumberInventory({ connectionString: azurite.connectionString, tableNames }),
    records: createTableProvisioningRecords({ connectionString: azurite.connectionString, tableNames }),
    kind: 'azurite',
  };
}

function safeJson(line: string): unknown {
  try {
    return JSON.parse(line) as unknown;
  } catch {
    return undefined;
  }
}
