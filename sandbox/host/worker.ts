import type { Clock } from '../../shared/ports/clock.js';
import { isDialtoneError } from '../../shared/domain/errors.js';
import type { Logger } from '../../shared/ports/logger.js';
import type { Telemetry } from '../../shared/ports/telemetry.js';
import type { CertificateSource } from '../../worker/certificate.js';
import { ephemeralCertificateSource } from '../../worker/ephemeral-certificate.js';
import { createWorker, type Worker, type WorkerTuning } from '../../worker/worker.js';
import type { Timers } from '../../worker/timers.js';
import { createEntitySessionSlots } from '../../shared/adapters/entity-session-slots.js';
import { createMemoryTableService } from '../../shared/adapters/memory-table-client.js';
import { systemClock } from '../../shared/ports/clock.js';
import type { BusClient, BusSessionReceiver } from '../../shared/ports/bus.js';
import type { MemoryBus } from '../bus/memory-bus.js';
import type { SimClock } from '../clock.js';
import type { TeamsSimulator } from '../teams-sim/index.js';
import type { WorkerReports } from '../../shared/ports/worker-reports.js';

export interface SandboxWorker {
  busy(): boolean;
  /** Cmdlets sent and not answered, and sessions starting, over all workers. */
  pendingWork(): number;
  /** voice-commands sessions the workers hold now (accepted and not yet closed). */
  heldSessions(): number;
  stop(): Promise<void>;
  workers: Worker[];
  /**
   * Kills worker `index` as a process dies (chaos runs): from now on nothing it does reaches the
   * bus (no result, no complete, no abandon: its locks expire), its pwsh processes are killed
   * mid-cmdlet, and a new worker process takes its place, as systemd restarts the unit.
   */
  kill(index: number): Promise<void>;
  /** Starts that failed (the certificate could not be loaded) before a worker came up, as systemd would retry them. */
  failedStarts(): number;
  kills(): number;
}

/** The sandbox's app registration: the simulator checks only the tenant id and that a certificate came. */
const SANDBOX_APPLICATION_ID = '00000000-0000-0000-0000-0000000d1a17';

/** How often the sandbox's "systemd" starts a worker that refuses to start (Restart=on-failure), RestartSec apart. */
const MAX_STARTS = 120;
const RESTART_SEC_MS = 10_000;

/**
 * Runs `count` real hybrid workers (competing session consumers) against the in-memory bus,
 * each driving pwsh stand-ins of the Teams simulator, authenticated with a throw-away
 * certificate made in memory.
 */
export async function startSandboxWorker(options: {
  bus: MemoryBus;
  clock: SimClock;
  logger: Logger;
  teams: TeamsSimulator;
  tenantId: string;
  /** Further tenants the workers serve (a sandbox with several tenants), each with its own (ephemeral) certificate. */
  extraTenants?: readonly string[];
  /** The app each further tenant is connected to as (its registry entry's applicationId), by lower-case tenant id; default the sandbox's fixed one. */
  tenantApplicationIds?: Readonly<Record<string, string>>;
  count: number;
  tuning?: Partial<Omit<WorkerTuning, 'tenantId' | 'applicationId'>>;
  telemetry?: Telemetry;
  /** Where each worker's certificate comes from (default: one ephemeral certificate); chaos runs make Key Vault fail. */
  certificates?: (index: number) => CertificateSource;
  /** Where a further tenant's certificate comes from (default: an ephemeral one each); tests break one tenant's Key Vault. */
  tenantCertificates?: (tenantId: string) => CertificateSource | undefined;
  /** The worker host's clock runs this far from the Functions' clock (chaos: ±5 min skew). */
  clockSkewMs?: number;
  /** What the bulk path's windows and polls wait on: the sandbox clock. */
  bulkTimers?: Timers;
  /** What the workers' backoffs and lock renewals wait on: the sandbox clock (WorkerDeps.waitTimers). */
  waitTimers?: Timers;
  /** What the certificate reload and report heartbeat wait on: the sandbox clock (daemon timers). */
  certificateTimers?: Timers;
  /** What the pools' idle reaper and session age run on: the sandbox clock (daemon timers, WorkerDeps.poolTimers). */
  poolTimers?: Timers;
  /** The app registration the workers connect as (default: the sandbox's fixed one; `dialtone setup`'s app when given). */
  applicationId?: string;
  /**
   * Waits before a failed start is tried again (systemd's RestartSec=10 in
   * worker/deploy/dialtone-worker.service); the sandbox waits on its clock.
   */
  restartWait?: (ms: number) => Promise<void>;
  /**
   * What a starting worker waits on when Key Vault throttles its certificate read (429, Retry-After;
   * WorkerDeps.startWait), keyed by the worker: the sandbox waits on its clock inside the tracked
   * restart, as for restartWait (default: real time, as production).
   */
  startWait?: (ms: number, key: string) => Promise<void>;
  /**
   * The tenant-wide session limit shared by all the workers, held as leases in a table as in
   * production (shared/adapters/entity-session-slots.ts). Leases run on real time: the pool
   * renews them on real time, and they only bound how many sessions exist at once.
   */
  tenantSessionLimit?: number;
  /** Where the workers report the certificate they use (`dialtone cert rotate` reads it), and how often. */
  reports?: { reports: WorkerReports; intervalMs?: number };
}): Promise<SandboxWorker> {
  const workers: Worker[] = [];
  const slots =
    options.tenantSessionLimit === undefined
      ? undefined
      : createEntitySessionSlots({ table: createMemoryTableService().table('sessionslots'), clock: systemClock, limit: options.tenantSessionLimit, leaseMs: 60_000 });
  const starts = new Map<number, number>();
  const held = { sessions: 0 };
  const dying: Promise<void>[] = [];
  let failedStarts = 0;
  let kills = 0;
  const defaultCertificates = ephemeralCertificateSource({ now: options.clock.now(), validDays: 3650 });
  const perTenant = new Map<string, CertificateSource>();
  const extraCertificates = (tenantId: string): CertificateSource => {
    let source = perTenant.get(tenantId);
    if (!source) {
      source = options.tenantCertificates?.(tenantId) ?? ephemeralCertificateSource({ now: options.clock.now(), validDays: 3650 });
      perTenant.set(tenantId, source);
    }
    return source;
  };
  const skew = options.clockSkewMs ?? 0;
  const clock: Clock = skew === 0 ? options.clock : { now: () => new Date(options.clock.nowMs() + skew) };

  const startOne = async (i: number): Promise<{ worker: Worker; link: Link }> => {
    for (let attempt = 1; ; attempt++) {
      const link: Link = { dead: false };
      // A restarted process is a new holder (a new pid), as in production.
      const n = (starts.get(i) ?? 0) + 1;
      starts.set(i, n);
      const holderId = n === 1 ? `sandbox-worker-${i + 1}` : `sandbox-worker-${i + 1}-start${n}`;
      try {
        const worker = await createWorker({
          bus: countingSessions(options.bus, held, link),
          certificates: options.certificates?.(i) ?? defaultCertificates,
          ...(options.extraTenants && options.extraTenants.length > 0
            ? { tenants: options.extraTenants.map((tenantId) => ({ tenantId, applicationId: options.tenantApplicationIds?.[tenantId.toLowerCase()] ?? SANDBOX_APPLICATION_ID, certificates: extraCertificates(tenantId) })) }
            : {}),
          pwsh: options.teams.pwshCommand,
          settings: {
            tenantId: options.tenantId,
            applicationId: options.applicationId ?? SANDBOX_APPLICATION_ID,
            concurrentSessions: 4,
            maxSessions: 4,
            maxSessionsPerTenant: 4,
            certificateReloadMs: 0,
            backoffMs: [50, 200],
            busyBackoffMs: 100,
            ...options.tuning,
          },
          clock,
          logger: options.logger.child({ component: 'worker', worker: i + 1 }),
          ...(options.telemetry ? { telemetry: options.telemetry } : {}),
          idleWait: (ms, signal) => (signal.aborted ? Promise.resolve() : options.bus.waitForActivity(Math.min(ms, 50))),
          ...(options.bulkTimers ? { bulkTimers: options.bulkTimers } : {}),
          ...(options.waitTimers ? { waitTimers: options.waitTimers } : {}),
          ...(options.certificateTimers ? { certificateTimers: options.certificateTimers } : {}),
          ...(options.poolTimers ? { poolTimers: options.poolTimers } : {}),
          ...(options.startWait ? { startWait: { sleep: (ms: number) => options.startWait!(ms, `worker-${i + 1}:start:keyvault-429`) } } : {}),
          ...(slots ? { slots: { slots, holderId } } : {}),
          ...(options.reports ? { reports: { reports: options.reports.reports, workerId: holderId, ...(options.reports.intervalMs === undefined ? {} : { intervalMs: options.reports.intervalMs }) } } : {}),
        });
        worker.start();
        return { worker, link };
      } catch (error) {
        // worker/main.ts logs why and exits 1 when the worker refuses to start; systemd starts it again.
        failedStarts += 1;
        options.logger.error('worker refused to start', { worker: i + 1, code: isDialtoneError(error) ? error.code : 'Unexpected', reason: error instanceof Error ? error.message : String(error) });
        if (attempt >= MAX_STARTS) throw error;
        await (options.restartWait ? options.restartWait(RESTART_SEC_MS) : new Promise((resolve) => setTimeout(resolve, 10)));
        // Outside sandbox time (the sandbox's own start) the wait costs nothing: a real pause keeps it from spinning.
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    }
  };

  const links: Link[] = [];
  for (let i = 0; i < options.count; i++) {
    const { worker, link } = await startOne(i);
    workers.push(worker);
    links.push(link);
  }
  return {
    workers,
    busy: () => workers.some((w) => w.busy()),
    pendingWork: () => workers.reduce((n, w) => n + w.pendingWork(), 0),
    heldSessions: () => held.sessions,
    failedStarts: () => failedStarts,
    kills: () => kills,
    kill: async (index) => {
      const victim = workers[index];
      const link = links[index];
      if (!victim || !link) return;
      kills += 1;
      link.dead = true;
      // Its pwsh children die with it; what it still tries to tell the bus is lost.
      dying.push(victim.stop().catch(() => undefined));
      const next = await startOne(index);
      workers[index] = next.worker;
      links[index] = next.link;
    },
    stop: async () => {
      await Promise.all([...workers.map((w) => w.stop()), ...dying]);
    },
  };
}

/** A worker process's connection: dead once the process was killed. */
interface Link {
  dead: boolean;
}

function killed(): Error {
  return new Error('the worker process was killed: its AMQP connection is gone');
}

/** The bus as the workers see it, counting the sessions they hold, for the sandbox's quiet check. */
function countingSessions(bus: MemoryBus, held: { sessions: number }, link: Link): BusClient {
  const alive = <A extends unknown[], R>(fn: (...args: A) => Promise<R>) => async (...args: A): Promise<R> => {
    if (link.dead) throw killed();
    return fn(...args);
  };
  return {
    createSender: (queue) => {
      const sender = bus.createSender(queue);
      return {
        sendMessages: alive((m: Parameters<typeof sender.sendMessages>[0]) => sender.sendMessages(m)),
        createMessageBatch: (o) => sender.createMessageBatch(o),
        scheduleMessages: alive((m: Parameters<typeof sender.scheduleMessages>[0], at: Date) => sender.scheduleMessages(m, at)),
        close: () => sender.close(),
      };
    },
    createReceiver: (queue, options) => bus.createReceiver(queue, options),
    acceptNextSession: async (queue, options) => {
      if (link.dead) throw killed();
      const receiver = await bus.acceptNextSession(queue, options);
      held.sessions += 1;
      let open = true;
      const wrapped: BusSessionReceiver = {
        sessionId: receiver.sessionId,
        receiveMessages: alive((max: number, o?: Parameters<BusSessionReceiver['receiveMessages']>[1]) => receiver.receiveMessages(max, o)),
        peekMessages: (max, o) => receiver.peekMessages(max, o),
        completeMessage: alive((m: Parameters<BusSessionReceiver['completeMessage']>[0]) => receiver.completeMessage(m)),
        abandonMessage: alive((m: Parameters<BusSessionReceiver['abandonMessage']>[0], p?: Parameters<BusSessionReceiver['abandonMessage']>[1]) =>
          receiver.abandonMessage(m, p),
        ),
        deadLetterMessage: alive((m: Parameters<BusSessionReceiver['deadLetterMessage']>[0], o?: Parameters<BusSessionReceiver['deadLetterMessage']>[1]) =>
          receiver.deadLetterMessage(m, o),
        ),
        renewSessionLock: alive(() => receiver.renewSessionLock()),
        getSessionState: alive(() => receiver.getSessionState()),
        setSessionState: alive((s: Parameters<BusSessionReceiver['setSessionState']>[0]) => receiver.setSessionState(s)),
        close: async () => {
          if (open) {
            open = false;
            held.sessions -= 1;
          }
          // A killed process closes nothing: its session lock runs out on the broker.
          if (!link.dead) await receiver.close();
        },
      };
      return wrapped;
    },
    close: () => bus.close(),
  };
}
