import type { Logger } from '../../shared/ports/logger.js';
import type { Telemetry } from '../../shared/ports/telemetry.js';
import { ephemeralCertificateSource } from '../../worker/ephemeral-certificate.js';
import { createWorker, type Worker, type WorkerTuning } from '../../worker/worker.js';
import type { Timers } from '../../worker/timers.js';
import { createEntitySessionSlots } from '../../shared/adapters/entity-session-slots.js';
import { createMemoryTableService } from '../../shared/adapters/memory-table-client.js';
import { systemClock } from '../../shared/ports/clock.js';
import type { BusClient } from '../../shared/ports/bus.js';
import type { MemoryBus } from '../bus/memory-bus.js';
import type { SimClock } from '../clock.js';
import type { TeamsSimulator } from '../teams-sim/index.js';

export interface SandboxWorker {
  busy(): boolean;
  /** Cmdlets sent and not answered, and sessions starting, over all workers. */
  pendingWork(): number;
  /** voice-commands sessions the workers hold now (accepted and not yet closed). */
  heldSessions(): number;
  stop(): Promise<void>;
  workers: Worker[];
}

/** The sandbox's app registration: the simulator checks only the tenant id and that a certificate came. */
const SANDBOX_APPLICATION_ID = '00000000-0000-0000-0000-0000000d1a17';

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
  count: number;
  tuning?: Partial<Omit<WorkerTuning, 'tenantId' | 'applicationId'>>;
  telemetry?: Telemetry;
  /** What the bulk path's windows and polls wait on: the sandbox clock. */
  bulkTimers?: Timers;
  /**
   * The tenant-wide session limit shared by all the workers, held as leases in a table as in
   * production (shared/adapters/entity-session-slots.ts). Leases run on real time: the pool
   * renews them on real time, and they only bound how many sessions exist at once.
   */
  tenantSessionLimit?: number;
}): Promise<SandboxWorker> {
  const workers: Worker[] = [];
  const slots =
    options.tenantSessionLimit === undefined
      ? undefined
      : createEntitySessionSlots({ table: createMemoryTableService().table('sessionslots'), clock: systemClock, limit: options.tenantSessionLimit, leaseMs: 60_000 });
  const held = { sessions: 0 };
  const bus = countingSessions(options.bus, held);
  for (let i = 0; i < options.count; i++) {
    const worker = await createWorker({
      bus,
      certificates: ephemeralCertificateSource({ now: options.clock.now(), validDays: 3650 }),
      pwsh: options.teams.pwshCommand,
      settings: {
        tenantId: options.tenantId,
        applicationId: SANDBOX_APPLICATION_ID,
        concurrentSessions: 4,
        maxSessions: 4,
        maxSessionsPerTenant: 4,
        certificateReloadMs: 0,
        backoffMs: [50, 200],
        busyBackoffMs: 100,
        ...options.tuning,
      },
      clock: options.clock,
      logger: options.logger.child({ component: 'worker', worker: i + 1 }),
      ...(options.telemetry ? { telemetry: options.telemetry } : {}),
      idleWait: (ms, signal) => (signal.aborted ? Promise.resolve() : options.bus.waitForActivity(Math.min(ms, 50))),
      ...(options.bulkTimers ? { bulkTimers: options.bulkTimers } : {}),
      ...(slots ? { slots: { slots, holderId: `sandbox-worker-${i + 1}` } } : {}),
    });
    worker.start();
    workers.push(worker);
  }
  return {
    workers,
    busy: () => workers.some((w) => w.busy()),
    pendingWork: () => workers.reduce((n, w) => n + w.pendingWork(), 0),
    heldSessions: () => held.sessions,
    stop: async () => {
      await Promise.all(workers.map((w) => w.stop()));
    },
  };
}

/** The bus as the workers see it, counting the sessions they hold, for the sandbox's quiet check. */
function countingSessions(bus: MemoryBus, held: { sessions: number }): BusClient {
  return {
    createSender: (queue) => bus.createSender(queue),
    createReceiver: (queue, options) => bus.createReceiver(queue, options),
    acceptNextSession: async (queue, options) => {
      const receiver = await bus.acceptNextSession(queue, options);
      held.sessions += 1;
      let open = true;
      return {
        ...receiver,
        sessionId: receiver.sessionId,
        close: async () => {
          if (open) {
            open = false;
            held.sessions -= 1;
          }
          await receiver.close();
        },
      };
    },
    close: () => bus.close(),
  };
}
