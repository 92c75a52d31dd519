import { classifyCmdletError } from '../shared/domain/error-classification.js';
import { DialtoneError } from '../shared/domain/errors.js';
import type { Logger } from '../shared/ports/logger.js';
import type { SessionSlot, SessionSlots } from '../shared/ports/session-slots.js';
import { supportedModuleVersions } from '../shared/teams/module-cmdlets.js';
import { moduleVersionSupported } from './module-compat.js';
import { PwshProcess, type Credentials, type PwshCommand } from './pwsh-process.js';
import type { AcquireOptions, SessionLease, SessionProvider, TeamsSession } from './session.js';
import { realTimers, type Timers } from './timers.js';

export interface PoolOptions {
  command: PwshCommand;
  /** The credentials for a tenant; called for every new connect so a rotated certificate is picked up. */
  credentials(tenantId: string): Promise<Credentials>;
  maxSessions: number;
  maxSessionsPerTenant: number;
  /**
   * A tenant's own session limit (the registry's `sessionLimit`), below maxSessionsPerTenant; it is
   * also the tenant's limit in the shared slots. Undefined = maxSessionsPerTenant (and the slots' limit).
   */
  sessionLimit?: (tenantId: string) => number | undefined;
  idleTimeoutMs: number;
  maxSessionAgeMs: number;
  connectTimeoutMs: number;
  readyTimeoutMs?: number;
  /** Time a retiring process gets after Exit before it is killed. */
  exitGraceMs?: number;
  /** How often the idle reaper looks; defaults to a quarter of the idle timeout (at most 30 s). */
  reapIntervalMs?: number;
  logger: Logger;
  timers?: Timers;
  /**
   * What a wait for a tenant session slot held elsewhere waits on, and what cmdlet and connect
   * deadlines are measured on (default `timers`; the sandbox's clock there, on which its cmdlets
   * take their time). Process start and exit stay on `timers`.
   */
  waitTimers?: Timers;
  /**
   * What the idle reaper ticks on and what a session's idle time and age are measured on (default
   * `timers`; the sandbox's clock there, as daemon timers, so production's 10-minute idle timeout
   * costs 10 sandbox minutes and no real ones).
   */
  poolTimers?: Timers;
  /**
   * The tenant-wide session limit shared with every other worker (Table Storage leases). Without
   * it only this pool's own limits apply. Each live session holds one slot until its process exits.
   */
  slots?: SessionSlots;
  /** This worker's name in the slot leases. */
  holderId?: string;
  /** How long to wait before asking for a slot again when all are held elsewhere (default 1 s). */
  slotRetryMs?: number;
}

export interface PoolStats {
  live: number;
  busy: number;
  peakBusy: number;
  peakLive: number;
  created: number;
  replaced: number;
  retired: number;
  connects: number;
}

interface Entry {
  tenantId: string;
  proc: PwshProcess;
  busy: boolean;
  retire: boolean;
  slot?: SessionSlot;
  /** When its process was started, on poolTimers (the session's age). */
  startedAt: number;
  /** When it was last lent out or given back, on poolTimers (its idle time). */
  lastUsedAt: number;
}

/**
 * Warm Teams PowerShell sessions per tenant: connect once, reuse for many commands. The global and
 * per-tenant limits count live processes (starting, idle or busy), so the pool never runs more
 * pwsh than configured — a retiring process counts until it has really exited.
 */
export class SessionPool implements SessionProvider {
  private readonly entries = new Set<Entry>();
  private readonly starting = new Map<string, number>();
  private waiters: (() => void)[] = [];
  /** Waiters served first (AcquireOptions.priority). */
  private priorityWaiters: (() => void)[] = [];
  /** Cmdlets sent to a session and not answered yet, connects included. */
  private callsInFlight = 0;
  private readonly counters = { peakBusy: 0, peakLive: 0, created: 0, replaced: 0, retired: 0, connects: 0 };
  private readonly closing = new Set<Promise<void>>();
  private readonly spawning = new Set<Promise<Entry | undefined>>();
  /** Sessions warm() started that no acquire has claimed yet, per tenant, oldest first. */
  private readonly warming = new Map<string, Promise<Entry | undefined>[]>();
  private renewer: unknown;
  /** Spawns still waiting for a tenant slot: they count against this pool's limits, but are no session yet. */
  private askingForSlot = 0;
  private draining = false;
  private reaper: unknown;
  private readonly timers: Timers;
  /** The idle reaper's ticks, idle time and session age (PoolOptions.poolTimers). */
  private readonly lifetime: Timers;

  constructor(private readonly options: PoolOptions) {
    this.timers = options.timers ?? realTimers;
    this.lifetime = options.poolTimers ?? this.timers;
    this.scheduleReap();
    if (options.slots) this.scheduleRenew(options.slots);
  }

  stats(): PoolStats {
    return {
      live: this.liveCount() - this.askingForSlot,
      busy: [...this.entries].filter((e) => e.busy).length,
      ...this.counters,
    };
  }

  /** Process ids of live sessions (tests check they are really gone after drain). */
  pids(): number[] {
    return [...this.entries].map((e) => e.proc.pid).filter((pid): pid is number => pid !== undefined);
  }

  /**
   * Work this pool has under way in real time: cmdlets sent and not yet answered, sessions
   * starting, and processes on their way out (the sandbox's quiet check compares it with the
   * cmdlets waiting on its clock, a hung one included until its process is gone).
   */
  pendingWork(): number {
    let starting = 0;
    for (const n of this.starting.values()) starting += n;
    return this.callsInFlight + starting + this.closing.size;
  }

  load(tenantId: string): { sessions: number; waiting: number } {
    return { sessions: Math.max(1, Math.min(this.tenantLimit(tenantId), this.options.maxSessions)), waiting: this.waiters.length + this.priorityWaiters.length };
  }

  warm(tenantId: string, sessions: number): void {
    const want = Math.min(sessions, this.tenantLimit(tenantId));
    while (!this.draining && this.tenantLive(tenantId) < want && this.liveCount() < this.options.maxSessions) {
      const spawning = this.startSpawn(tenantId);
      const unclaimed = this.warming.get(tenantId) ?? [];
      unclaimed.push(spawning);
      this.warming.set(tenantId, unclaimed);
      // Nobody claimed it before it connected: it becomes an idle session like any other.
      const settle = (entry: Entry | undefined): void => {
        const at = unclaimed.indexOf(spawning);
        if (at < 0) return;
        unclaimed.splice(at, 1);
        if (entry === undefined) return;
        entry.busy = false;
        entry.lastUsedAt = this.lifetime.now();
        if (this.draining) this.close(entry, 'shutdown');
        this.wake();
      };
      void spawning.then(settle, (error: unknown) => {
        settle(undefined);
        this.options.logger.warn('starting a session ahead of a burst failed; the next acquire starts its own', { tenantId, error: String(error) });
      });
    }
  }

  async acquire(tenantId: string, options: AcquireOptions = {}): Promise<SessionLease> {
    for (;;) {
      if (this.draining) throw shuttingDown();
      const idle = this.takeIdle(tenantId);
      if (idle) return this.lease(idle);
      // A session warm() is starting goes to this acquire rather than a new one being started.
      const warming = this.warming.get(tenantId)?.shift();
      if (warming) {
        const entry = await warming.catch(() => undefined);
        if (entry) return this.lease(entry);
        continue;
      }
      if (this.tenantLive(tenantId) < this.tenantLimit(tenantId)) {
        if (this.liveCount() < this.options.maxSessions) {
          const entry = await this.startSpawn(tenantId);
          if (entry) return this.lease(entry);
          await this.waitForSlot();
          continue;
        }
        const victim = [...this.entries].find((e) => !e.busy && e.tenantId !== tenantId);
        if (victim) {
          this.close(victim, 'making room for another tenant');
          continue;
        }
      }
      await new Promise<void>((resolve) => (options.priority ? this.priorityWaiters : this.waiters).push(resolve));
    }
  }

  /** New sessions get new credentials; the current ones (of one tenant, when given) retire after their command. */
  retireAll(reason: string, tenantId?: string): void {
    for (const entry of [...this.entries]) {
      if (tenantId !== undefined && entry.tenantId !== tenantId) continue;
      entry.retire = true;
      if (!entry.busy) this.close(entry, reason);
    }
  }

  /** Closes sessions idle longer than the idle timeout or older than the maximum age. */
  reap(): void {
    const now = this.lifetime.now();
    for (const entry of [...this.entries]) {
      if (entry.busy) continue;
      if (now - entry.lastUsedAt >= this.options.idleTimeoutMs) this.close(entry, 'idle');
      else if (now - entry.startedAt >= this.options.maxSessionAgeMs) this.close(entry, 'maximum age');
    }
  }

  /** Shutdown: no new leases; waits for busy sessions to come back (or `graceMs`), then closes all. */
  async drain(graceMs = 0): Promise<void> {
    this.draining = true;
    this.lifetime.clearTimeout(this.reaper);
    this.timers.clearTimeout(this.renewer);
    for (const waiter of [...this.priorityWaiters.splice(0), ...this.waiters.splice(0)]) waiter();
    const deadline = this.timers.now() + graceMs;
    while ([...this.entries].some((e) => e.busy) && this.timers.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = this.timers.setTimeout(resolve, Math.max(1, deadline - this.timers.now()));
        this.waiters.push(() => {
          this.timers.clearTimeout(timer);
          resolve();
        });
      });
    }
    await Promise.allSettled([...this.spawning]);
    for (const entry of [...this.entries]) this.close(entry, 'shutdown');
    await Promise.all([...this.closing]);
  }

  private takeIdle(tenantId: string): Entry | undefined {
    const now = this.lifetime.now();
    for (const entry of this.entries) {
      if (entry.tenantId !== tenantId || entry.busy || entry.retire) continue;
      if (entry.proc.broken) {
        this.remove(entry, true);
        continue;
      }
      if (now - entry.startedAt >= this.options.maxSessionAgeMs) {
        this.close(entry, 'maximum age');
        continue;
      }
      entry.busy = true;
      entry.lastUsedAt = now;
      this.trackPeaks();
      return entry;
    }
    return undefined;
  }

  private startSpawn(tenantId: string): Promise<Entry | undefined> {
    const spawning = this.spawn(tenantId);
    this.spawning.add(spawning);
    void spawning.then(
      () => this.spawning.delete(spawning),
      () => this.spawning.delete(spawning),
    );
    return spawning;
  }

  /** A new connected session, or undefined when the tenant's shared session limit is reached. */
  private async spawn(tenantId: string): Promise<Entry | undefined> {
    this.starting.set(tenantId, (this.starting.get(tenantId) ?? 0) + 1);
    this.trackPeaks();
    let proc: PwshProcess | undefined;
    let slot: SessionSlot | undefined;
    try {
      if (this.options.slots) {
        this.askingForSlot += 1;
        try {
          slot = await this.options.slots.tryAcquire(tenantId, this.options.holderId ?? 'worker', this.options.sessionLimit?.(tenantId));
        } finally {
          this.askingForSlot -= 1;
        }
        if (!slot) return undefined;
      }
      const startedAt = this.lifetime.now();
      proc = await PwshProcess.start(this.options.command, {
        readyTimeoutMs: this.options.readyTimeoutMs ?? this.options.connectTimeoutMs,
        logger: this.options.logger,
        timers: this.timers,
        ...(this.options.waitTimers ? { deadlineTimers: this.options.waitTimers } : {}),
      });
      this.counters.created += 1;
      const credentials = await this.options.credentials(tenantId);
      this.counters.connects += 1;
      const outcome = await proc.connect(credentials, { timeoutMs: this.options.connectTimeoutMs });
      if (!outcome.ok) {
        const classification = classifyCmdletError(outcome.error);
        // A connect refused for good (Entra refuses the app's certificate, no consent) is the
        // tenant's credentials, not the person's command: CertificateInvalid, so the consumer
        // pauses the tenant instead of dead-lettering each of its commands.
        throw new DialtoneError(
          classification.class === 'transient' ? classification.code : 'CertificateInvalid',
          classification.class === 'transient'
            ? `Connect-MicrosoftTeams failed: ${outcome.error.message}`
            : `tenant ${tenantId}: Connect-MicrosoftTeams refused the tenant's app or certificate: ${outcome.error.message} Check the certificate registered on the app and its admin consent (dialtone doctor).`,
          { transient: classification.class === 'transient', details: { tenantId } },
        );
      }
      if (this.draining) throw shuttingDown();
      const entry: Entry = { tenantId, proc, busy: true, retire: false, startedAt, lastUsedAt: this.lifetime.now(), ...(slot ? { slot } : {}) };
      this.entries.add(entry);
      const moduleVersion = proc.ready?.module?.version;
      this.options.logger.info('pwsh session connected', { tenantId, session: proc.serial, pid: proc.pid, pwsh: proc.ready?.pwsh, module: moduleVersion });
      if (moduleVersion !== undefined && !moduleVersionSupported(moduleVersion)) {
        this.options.logger.warn('MicrosoftTeams module outside the tested range', { module: moduleVersion, supported: supportedModuleVersions });
      }
      return entry;
    } catch (error) {
      if (proc) {
        proc.kill();
        this.track(proc.waitExit().finally(() => this.releaseSlot(slot)));
      } else {
        this.releaseSlot(slot);
      }
      throw error;
    } finally {
      this.starting.set(tenantId, (this.starting.get(tenantId) ?? 1) - 1);
      this.trackPeaks();
      this.wake();
    }
  }

  private lease(entry: Entry): SessionLease {
    let returned = false;
    const giveBack = (discardReason?: string): void => {
      if (returned) return;
      returned = true;
      entry.busy = false;
      entry.lastUsedAt = this.lifetime.now();
      if (discardReason !== undefined || entry.proc.broken) {
        if (!entry.proc.broken) entry.proc.markBroken('crash', discardReason ?? 'discarded');
        this.remove(entry, true);
      } else if (entry.retire || this.draining || this.lifetime.now() - entry.startedAt >= this.options.maxSessionAgeMs) {
        this.close(entry, entry.retire ? 'credentials rotated' : 'maximum age');
      }
      this.wake();
    };
    const proc = entry.proc;
    const session: TeamsSession = {
      get module() {
        return proc.module;
      },
      call: async (cmdlet, parameters, callOptions) => {
        this.callsInFlight += 1;
        try {
          return await proc.call(cmdlet, parameters, callOptions);
        } finally {
          this.callsInFlight -= 1;
        }
      },
    };
    return {
      session,
      reconnect: async () => {
        const credentials = await this.options.credentials(entry.tenantId);
        this.counters.connects += 1;
        // A reconnect is a cmdlet on its way too (pendingWork: "connects included").
        this.callsInFlight += 1;
        const outcome = await entry.proc.connect(credentials, { timeoutMs: this.options.connectTimeoutMs }).finally(() => (this.callsInFlight -= 1));
        if (!outcome.ok) {
          throw new DialtoneError('SessionBroken', `Connect-MicrosoftTeams failed: ${outcome.error.message}`, { transient: true });
        }
      },
      release: () => giveBack(),
      discard: (reason) => giveBack(reason),
    };
  }

  private close(entry: Entry, reason: string): void {
    if (!this.entries.delete(entry)) return;
    this.counters.retired += 1;
    this.options.logger.info('pwsh session closed', {
      tenantId: entry.tenantId,
      session: entry.proc.serial,
      reason,
      commandsRun: entry.proc.commandsRun,
    });
    this.track(entry.proc.exit(this.options.exitGraceMs ?? 5_000).finally(() => this.releaseSlot(entry.slot)));
  }

  private track(exit: Promise<void>): void {
    this.closing.add(exit);
    void exit.finally(() => {
      this.closing.delete(exit);
      this.wake();
    });
  }

  private remove(entry: Entry, replaced: boolean): void {
    if (!this.entries.delete(entry)) return;
    if (replaced) this.counters.replaced += 1;
    entry.proc.kill();
    this.track(entry.proc.waitExit().finally(() => this.releaseSlot(entry.slot)));
  }

  /** A session's slot goes back once its process has really exited (until then Teams counts it). */
  private releaseSlot(slot: SessionSlot | undefined): void {
    if (!slot) return;
    slot.release().then(
      () => this.wake(),
      (error: unknown) => this.options.logger.warn('session slot release failed; it lapses on its own', { tenantId: slot.tenantId, slot: slot.slot, error: String(error) }),
    );
  }

  /** Waits for a local session to end or for the retry interval, then asks for a slot again. */
  private waitForSlot(): Promise<void> {
    return new Promise<void>((resolve) => {
      const timers = this.options.waitTimers ?? this.timers;
      const timer = timers.setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve();
      }, this.options.slotRetryMs ?? 1_000);
      const done = (): void => {
        timers.clearTimeout(timer);
        resolve();
      };
      this.waiters.push(done);
    });
  }

  /** Renews every held slot at a third of the lease; a lost slot retires its session. */
  private scheduleRenew(slots: SessionSlots): void {
    this.renewer = this.timers.setTimeout(() => {
      if (this.draining) return;
      void Promise.all(
        [...this.entries].map(async (entry) => {
          if (!entry.slot) return;
          const kept = await entry.slot.renew().catch(() => true);
          if (kept) return;
          this.options.logger.warn('session slot lost; retiring the session', { tenantId: entry.tenantId, session: entry.proc.serial });
          entry.retire = true;
          if (!entry.busy) this.close(entry, 'session slot lost');
        }),
      ).finally(() => this.scheduleRenew(slots));
    }, Math.max(1, Math.floor(slots.leaseMs / 3)));
  }

  private liveCount(): number {
    let starting = 0;
    for (const n of this.starting.values()) starting += n;
    return this.entries.size + starting + this.closing.size;
  }

  private tenantLimit(tenantId: string): number {
    const own = this.options.sessionLimit?.(tenantId);
    return own === undefined ? this.options.maxSessionsPerTenant : Math.min(own, this.options.maxSessionsPerTenant);
  }

  private tenantLive(tenantId: string): number {
    return [...this.entries].filter((e) => e.tenantId === tenantId).length + (this.starting.get(tenantId) ?? 0);
  }

  private trackPeaks(): void {
    const busy = [...this.entries].filter((e) => e.busy).length;
    this.counters.peakBusy = Math.max(this.counters.peakBusy, busy);
    this.counters.peakLive = Math.max(this.counters.peakLive, this.liveCount() - this.askingForSlot);
  }

  private wake(): void {
    // Priority waiters resume first, so they take the free session before ordinary ones.
    const waiters = [...this.priorityWaiters, ...this.waiters];
    this.priorityWaiters = [];
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }

  private scheduleReap(): void {
    const interval = this.options.reapIntervalMs ?? Math.min(30_000, Math.max(1_000, this.options.idleTimeoutMs / 4));
    this.reaper = this.lifetime.setTimeout(() => {
      if (this.draining) return;
      this.reap();
      this.scheduleReap();
    }, interval);
  }
}

function shuttingDown(): DialtoneError {
  return new DialtoneError('SessionBroken', 'The session pool is shutting down.', { transient: true });
}
