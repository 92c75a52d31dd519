import { describeZodError, queueNames, VoiceCommandSchema, type VoiceCommand, type VoiceResult } from '../shared/contracts/messages.js';
import { toDialtoneError } from '../shared/domain/errors.js';
import { idText, type BusClient, type BusSessionReceiver, type OutgoingMessage, type ReceivedMessage } from '../shared/ports/bus.js';
import type { Logger } from '../shared/ports/logger.js';
import { busErrorAction } from './bus-errors.js';
import { realTimers, sleep, type Timers } from './timers.js';
import { decodeBody } from '../shared/domain/message-body.js';
import type { Telemetry } from '../shared/ports/telemetry.js';
import { noopTelemetry } from '../shared/telemetry/noop.js';
import { recordCommand, recordInvalidCommand, resultTraceProperties, startApplySpan } from './consumer-telemetry.js';
import { deferredCopyId } from '../shared/domain/ids.js';
import { brokerScheduleAtMs } from '../shared/domain/broker-time.js';
import {
  DEFERRALS,
  DEFERRED_SINCE,
  decideDeferral,
  pauseMs,
  priorDeferrals,
  tenantOutageOf,
  type DeferralPolicy,
  type TenantOutage,
} from '../shared/domain/tenant-outage.js';

export interface ConsumerOptions {
  bus: BusClient;
  apply(command: VoiceCommand, signal: AbortSignal): Promise<VoiceResult>;
  logger: Logger;
  concurrentSessions: number;
  /** The queue's max delivery count: the last delivery publishes a transient failure instead of abandoning. */
  maxDeliveryCount: number;
  /** Shorter than the queue's lock duration (Service Bus default 60 s). */
  lockRenewalIntervalMs?: number;
  /** How long receiveMessages waits on an open session before the session is let go. */
  receiveWaitMs?: number;
  /** Wait when no session is available; the sandbox passes its bus's activity signal. */
  idleWait?: (ms: number, signal: AbortSignal) => Promise<unknown>;
  idleWaitMs?: number;
  busyBackoffMs?: number;
  timers?: Timers;
  /**
   * What the session lock renewals wait on (default `timers`): the sandbox passes its clock, on
   * which the commands they guard take their time. The backoff after a throttled accept stays on
   * `timers`: a loop about to accept is work the sandbox waits for in real time.
   */
  waitTimers?: Timers;
  commandsQueue?: string;
  resultsQueue?: string;
  /** Spans and metrics (shared/telemetry); none when absent. */
  telemetry?: Telemetry;
  /** The worker's clock, for the finishedAt of a result it did not run. */
  now?: () => Date;
  /**
   * Loops that may wait for a new session at once (default: all). With many loops (the bulk
   * path keeps hundreds of people in flight) only these few poll the broker; the others wait
   * for a turn instead of each polling on its own.
   */
  acceptors?: number;
  /**
   * Tenant outages (throttled, unavailable, certificate refused): the tenant is paused and its
   * commands are set aside on the bus until it is expected back, instead of holding a shared
   * receiver (shared/domain/tenant-outage.ts). Absent: abandoned for redelivery as other transients.
   */
  deferral?: DeferralPolicy;
  /** The tenant of a command that names none (the worker's DIALTONE_TENANT_ID). */
  defaultTenantId?: string;
}

/** A tenant this worker does not send work to until `untilMs` (its clock), after `strikes` outages in a row. */
export interface TenantPause {
  untilMs: number;
  strikes: number;
  code: TenantOutage['code'];
  message: string;
}

/** What the worker knows of the session it holds: the newest plan version applied for the person (session state). */
interface SessionMemo {
  loaded: boolean;
  newestApplied?: number;
}

/** How many people's newest applied plan version one worker remembers. */
const REMEMBERED_PEOPLE = 10_000;

export interface ConsumerStats {
  sessions: number;
  commands: number;
  results: number;
  deadLettered: number;
  abandoned: number;
  /** Commands set aside on the bus while their tenant could not be served. */
  deferred: number;
}

interface InFlight {
  receiver: BusSessionReceiver;
  message: ReceivedMessage;
  controller: AbortController;
  settled: boolean;
}

/**
 * Takes voice-commands one session (one user) at a time per loop, FIFO within the session,
 * applies each command, publishes its result and only then completes it: a crash in between
 * republishes the same result id, which duplicate detection drops.
 */
export class VoiceCommandConsumer {
  private readonly loops: Promise<void>[] = [];
  private readonly inFlight = new Set<InFlight>();
  private readonly stopping = new AbortController();
  private readonly counters: ConsumerStats = { sessions: 0, commands: 0, results: 0, deadLettered: 0, abandoned: 0, deferred: 0 };
  private readonly timers: Timers;
  private readonly waitTimers: Timers;
  private readonly commandsQueue: string;
  private readonly resultsQueue: string;
  private readonly telemetry: Telemetry;
  private readonly sender;
  private commandsSender: ReturnType<BusClient['createSender']> | undefined;
  /** Tenants this worker sends no work to for now (lower-case tenant id). */
  private readonly pauses = new Map<string, TenantPause>();
  /** Per person, the newest plan version this worker applied: an older command is not run. */
  private readonly newestApplied = new Map<string, number>();
  private acceptTurns: number;
  private readonly turnWaiters: (() => void)[] = [];

  constructor(private readonly options: ConsumerOptions) {
    this.timers = options.timers ?? realTimers;
    this.waitTimers = options.waitTimers ?? this.timers;
    this.commandsQueue = options.commandsQueue ?? queueNames.voiceCommands;
    this.resultsQueue = options.resultsQueue ?? queueNames.voiceResults;
    this.telemetry = options.telemetry ?? noopTelemetry;
    this.sender = options.bus.createSender(this.resultsQueue);
    this.acceptTurns = Math.max(1, options.acceptors ?? options.concurrentSessions);
  }

  start(): void {
    for (let i = 0; i < this.options.concurrentSessions; i += 1) this.loops.push(this.loop(i));
  }

  busy(): boolean {
    return this.inFlight.size > 0;
  }

  stats(): ConsumerStats {
    return { ...this.counters };
  }

  /** The tenants paused now, for logs and tests. */
  pausedTenants(): ReadonlyMap<string, TenantPause> {
    const now = this.nowMs();
    return new Map([...this.pauses].filter(([, p]) => p.untilMs > now));
  }

  private nowMs(): number {
    return (this.options.now ?? (() => new Date()))().getTime();
  }

  /**
   * Stops taking sessions, lets in-flight commands finish within `graceMs`, abandons the rest and
   * then calls `afterGrace` (the worker drains its pwsh pool there).
   */
  async stop(graceMs: number, afterGrace?: () => Promise<void>): Promise<void> {
    this.stopping.abort();
    for (const waiter of this.turnWaiters.splice(0)) waiter();
    const graceOver = new AbortController();
    const finished = Promise.all(this.loops).then(() => true);
    const timedOut = sleep(this.timers, graceMs, graceOver.signal).then(() => false);
    const inTime = await Promise.race([finished, timedOut]);
    // A pending grace timer would keep the process alive for the whole period after a clean stop.
    graceOver.abort();
    if (!inTime) {
      for (const entry of [...this.inFlight]) await this.abandonInFlight(entry, 'shutdown grace period ended');
      // What still runs is abandoned already; ending its sessions lets the loops return.
      await afterGrace?.();
      await Promise.all(this.loops);
    }
    await this.sender.close().catch(() => undefined);
    await this.commandsSender?.close().catch(() => undefined);
  }

  private async loop(index: number): Promise<void> {
    const signal = this.stopping.signal;
    while (!signal.aborted) {
      const receiver = await this.acceptWithTurn(index, signal);
      if (receiver === undefined) continue;
      this.counters.sessions += 1;
      try {
        await this.drainSession(receiver, signal);
      } catch (error) {
        const e = toDialtoneError(error);
        this.options.logger.warn('voice-commands session ended with an error', { sessionId: receiver.sessionId, code: busErrorAction(error), reason: e.message });
      } finally {
        await receiver.close().catch(() => undefined);
      }
    }
  }

  /** Takes a turn, waits for a session while holding it (idle waits too), gives the turn back. */
  private async acceptWithTurn(index: number, signal: AbortSignal): Promise<BusSessionReceiver | undefined> {
    if (this.acceptTurns > 0) this.acceptTurns -= 1;
    else {
      await new Promise<void>((resolve) => this.turnWaiters.push(resolve));
      if (signal.aborted) {
        this.passTurn();
        return undefined;
      }
    }
    try {
      while (!signal.aborted) {
        try {
          return await this.options.bus.acceptNextSession(this.commandsQueue, { maxAutoLockRenewalDurationInMs: 0 });
        } catch (error) {
          await this.onAcceptError(error, index, signal);
        }
      }
      return undefined;
    } finally {
      this.passTurn();
    }
  }

  private passTurn(): void {
    const next = this.turnWaiters.shift();
    if (next) next();
    else this.acceptTurns += 1;
  }

  private async onAcceptError(error: unknown, index: number, signal: AbortSignal): Promise<void> {
    const action = busErrorAction(error);
    const idleMs = this.options.idleWaitMs ?? 1_000;
    if (action === 'noSession') {
      await (this.options.idleWait ? this.options.idleWait(idleMs, signal) : sleep(this.timers, idleMs, signal));
      return;
    }
    const waitMs = action === 'busy' ? (this.options.busyBackoffMs ?? 10_000) : idleMs * 5;
    this.options.logger.warn('accepting a voice-commands session failed', {
      loop: index,
      action,
      reason: error instanceof Error ? error.message : String(error),
    });
    await sleep(this.timers, waitMs, signal);
  }

  private async drainSession(receiver: BusSessionReceiver, signal: AbortSignal): Promise<void> {
    const memo: SessionMemo = { loaded: false };
    while (!signal.aborted) {
      const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: this.options.receiveWaitMs ?? 1_000 });
      if (!message) return;
      await this.handle(receiver, message, memo);
    }
  }

  private async handle(receiver: BusSessionReceiver, message: ReceivedMessage, memo: SessionMemo): Promise<void> {
    const parsed = VoiceCommandSchema.safeParse(decodeBody(message.body));
    const log = this.options.logger.child({ sessionId: receiver.sessionId, messageId: idText(message.messageId), correlationId: idText(message.correlationId) });
    if (!parsed.success) {
      const description = describeZodError(parsed.error);
      log.warn('voice command dead-lettered: invalid message', { reason: description });
      await receiver.deadLetterMessage(message, { deadLetterReason: 'InvalidMessage', deadLetterErrorDescription: description.slice(0, 1024) });
      this.counters.deadLettered += 1;
      recordInvalidCommand(this.telemetry, this.commandsQueue);
      return;
    }
    const command = parsed.data;
    const newer = Math.max(this.newestApplied.get(command.userId) ?? 0, command.version === undefined ? 0 : await this.sessionNewest(receiver, memo));
    if (command.version !== undefined && newer > 0 && command.version < newer) {
      await this.skipSuperseded(receiver, message, command, newer, log);
      return;
    }
    const tenant = (command.tenantId ?? this.options.defaultTenantId ?? '').toLowerCase();
    const pause = this.pauses.get(tenant);
    if (this.options.deferral && pause !== undefined && pause.untilMs > this.nowMs()) {
      // The tenant cannot be served now: its command waits on the bus, not in a shared receiver.
      try {
        await this.setAside(receiver, message, command, tenant, pause, log);
      } catch (error) {
        log.warn('setting a command of a paused tenant aside failed; the broker will redeliver it', { reason: toDialtoneError(error).message });
        await receiver.abandonMessage(message).catch(() => undefined);
        this.counters.abandoned += 1;
      }
      return;
    }
    const span = startApplySpan(this.telemetry, message, command, this.commandsQueue);
    const entry: InFlight = { receiver, message, controller: new AbortController(), settled: false };
    this.inFlight.add(entry);
    const renewal = this.renewWhileRunning(entry, log);
    try {
      this.counters.commands += 1;
      const result = await this.options.apply(command, entry.controller.signal);
      // Nothing is published or settled before a renewal on its way is answered: if it finds the
      // lock gone, another worker may already hold the person and this attempt is not the truth.
      // (An attempt abandoned already, at shutdown or a kill, has nothing left to wait for.)
      if (entry.settled) return;
      await renewal.answered();
      if (entry.settled) return;
      if (entry.controller.signal.aborted) {
        // The lock was lost mid-command: another worker owns this user now. What this attempt saw
        // is not the truth to publish; the redelivered command reads Teams afresh.
        log.warn('voice command attempt aborted after its lock was lost; its result is not published', { status: result.status });
        this.counters.abandoned += 1;
        return;
      }
      const outage = this.options.deferral ? tenantOutageOf(result) : undefined;
      if (outage !== undefined) {
        recordCommand(this.telemetry, span, result, false, this.resultsQueue);
        const paused = this.pauseTenant(tenant, outage, log);
        await this.setAside(receiver, message, command, tenant, paused, log);
        entry.settled = true;
        return;
      }
      if (result.status !== 'failed') this.pauses.delete(tenant);
      const traceProperties = resultTraceProperties(span);
      const deliveries = message.deliveryCount ?? 1;
      const lastDelivery = deliveries >= this.options.maxDeliveryCount && !this.stopping.signal.aborted;
      if (result.status === 'failed' && result.error?.class === 'transient' && !lastDelivery) {
        log.info('voice command abandoned for redelivery', { deliveryCount: deliveries, code: result.error.code, reason: result.error.message });
        recordCommand(this.telemetry, span, result, false, this.resultsQueue);
        await this.abandonInFlight(entry, result.error.message);
        return;
      }
      await this.sender.sendMessages({
        body: command.version !== undefined ? { ...result, version: command.version } : result,
        // A replayed command (dialtone dlq replay) must produce a result the broker does not drop
        // as a duplicate of the first one, so the replay counter is part of the result id.
        messageId: `${command.commandId}:result${replaySuffix(message.applicationProperties)}`,
        correlationId: command.correlationId,
        contentType: 'application/json',
        subject: result.status,
        ...(traceProperties ? { applicationProperties: traceProperties } : {}),
      });
      this.counters.results += 1;
      recordCommand(this.telemetry, span, result, true, this.resultsQueue);
      if ((result.status === 'applied' || result.status === 'noop') && command.version !== undefined) {
        this.rememberApplied(command.userId, command.version);
        await this.rememberInSession(receiver, memo, command.version, log);
      }
      entry.settled = true;
      await receiver.completeMessage(message);
    } catch (error) {
      log.error('voice command could not be settled; the broker will redeliver it', { reason: toDialtoneError(error).message });
      await this.abandonInFlight(entry, 'settlement failed');
    } finally {
      span.end();
      renewal.stop();
      this.inFlight.delete(entry);
    }
  }

  /**
   * A command older than one this worker already applied for the person (a replay, a resubmitted
   * dead letter) is not run: running it would undo newer facts. Its result says so, for the record.
   */
  private async skipSuperseded(receiver: BusSessionReceiver, message: ReceivedMessage, command: VoiceCommand, newer: number, log: Logger): Promise<void> {
    log.warn('voice command superseded: not run', { commandId: command.commandId, version: command.version, newestApplied: newer });
    await this.publishNotRun(receiver, message, command, { status: 'superseded', attempts: 1 });
  }

  /** The result of a command this worker does not run (superseded, or given up), published before the command is completed. */
  private async publishNotRun(receiver: BusSessionReceiver, message: ReceivedMessage, command: VoiceCommand, outcome: Pick<VoiceResult, 'status' | 'attempts' | 'error'>): Promise<void> {
    const result: VoiceResult = {
      commandId: command.commandId,
      userId: command.userId,
      userPrincipalName: command.userPrincipalName,
      correlationId: command.correlationId,
      eventId: command.eventId,
      occurredAt: command.occurredAt,
      finishedAt: new Date(this.nowMs()).toISOString(),
      status: outcome.status,
      desired: command.desired,
      allocation: command.allocation,
      releases: command.releases,
      ...(command.tenantId !== undefined ? { tenantId: command.tenantId } : {}),
      ...(command.version !== undefined ? { version: command.version } : {}),
      steps: [],
      actual: null,
      attempts: outcome.attempts,
      ...(outcome.error !== undefined ? { error: outcome.error } : {}),
    };
    await this.sender.sendMessages({
      body: result,
      messageId: `${command.commandId}:result${replaySuffix(message.applicationProperties)}`,
      correlationId: command.correlationId,
      contentType: 'application/json',
      subject: result.status,
    });
    this.counters.results += 1;
    await receiver.completeMessage(message);
  }

  /** The newest plan version applied for the session's person, as the session state holds it (read once per session). */
  private async sessionNewest(receiver: BusSessionReceiver, memo: SessionMemo): Promise<number> {
    if (!memo.loaded) {
      memo.loaded = true;
      const newest = newestFromState(await receiver.getSessionState().catch(() => undefined));
      if (newest !== undefined) memo.newestApplied = newest;
    }
    return memo.newestApplied ?? 0;
  }

  /**
   * The session state keeps the newest applied version for every worker: a command set aside
   * (or redelivered) that comes back after a newer one was applied elsewhere is superseded there too.
   */
  private async rememberInSession(receiver: BusSessionReceiver, memo: SessionMemo, version: number, log: Logger): Promise<void> {
    if ((memo.newestApplied ?? 0) >= version) return;
    try {
      await receiver.setSessionState({ newestAppliedVersion: version });
      memo.newestApplied = version;
    } catch (error) {
      // The result is published already; record's version check still keeps the newest truth.
      log.warn('could not keep the applied version in the session state', { version, reason: toDialtoneError(error).message });
    }
  }

  /** A tenant outage: no work for the tenant until the pause ends (doubling while it lasts). */
  private pauseTenant(tenant: string, outage: TenantOutage, log: Logger): TenantPause {
    const policy = this.options.deferral!;
    const now = this.nowMs();
    const current = this.pauses.get(tenant);
    if (current !== undefined && current.untilMs > now) return current;
    const strikes = (current?.strikes ?? 0) + 1;
    const pause: TenantPause = { untilMs: now + pauseMs(strikes, outage.retryAfterMs, policy), strikes, code: outage.code, message: outage.message };
    this.pauses.set(tenant, pause);
    log.warn('tenant paused: its commands are set aside until it is expected back', {
      tenantId: tenant,
      code: outage.code,
      reason: outage.message,
      strikes,
      until: new Date(pause.untilMs).toISOString(),
    });
    return pause;
  }

  /**
   * Sets a command of a paused tenant aside: a copy with the same body and session id, scheduled for
   * when the tenant is expected back (carrying how often and since when it waits), then the original
   * is completed. A crash in between schedules the same copy id again, which duplicate detection
   * drops. Once the command's window is over it is given up with a result saying why and what to do.
   */
  private async setAside(receiver: BusSessionReceiver, message: ReceivedMessage, command: VoiceCommand, tenant: string, pause: TenantPause, log: Logger): Promise<void> {
    const decision = decideDeferral({
      prior: priorDeferrals(message.applicationProperties),
      nowMs: this.nowMs(),
      pausedUntilMs: pause.untilMs,
      tenantId: tenant,
      outage: pause,
      policy: this.options.deferral!,
    });
    if (decision.kind === 'giveUp') {
      log.warn('voice command given up: its tenant could not be served within the window', { tenantId: tenant, code: pause.code, deferrals: decision.deferrals });
      await this.publishGivenUp(receiver, message, command, pause, decision.reason);
      return;
    }
    const originalId = String(message.applicationProperties?.['dialtone-original-id'] ?? idText(message.messageId) ?? command.commandId);
    const copy: OutgoingMessage = {
      body: message.body,
      messageId: deferredCopyId(originalId, decision.deferrals),
      sessionId: receiver.sessionId,
      ...(message.correlationId !== undefined ? { correlationId: idText(message.correlationId) } : {}),
      ...(message.subject !== undefined ? { subject: message.subject } : {}),
      contentType: message.contentType ?? 'application/json',
      applicationProperties: {
        ...message.applicationProperties,
        'dialtone-original-id': originalId,
        [DEFERRALS]: decision.deferrals,
        [DEFERRED_SINCE]: new Date(decision.sinceMs).toISOString(),
      },
    };
    this.commandsSender ??= this.options.bus.createSender(this.commandsQueue);
    const hostNowMs = this.nowMs();
    await this.commandsSender.scheduleMessages(copy, new Date(brokerScheduleAtMs(decision.atMs, hostNowMs, message.enqueuedTimeUtc?.getTime())));
    await receiver.completeMessage(message);
    this.counters.deferred += 1;
    log.info('voice command set aside until its tenant is expected back', { tenantId: tenant, code: pause.code, deferral: decision.deferrals, until: new Date(decision.atMs).toISOString() });
  }

  /** The window is over: a failed result (record rolls back the reservation and dead-letters it with the reason). */
  private async publishGivenUp(receiver: BusSessionReceiver, message: ReceivedMessage, command: VoiceCommand, pause: TenantPause, reason: string): Promise<void> {
    await this.publishNotRun(receiver, message, command, {
      status: 'failed',
      attempts: Math.max(1, priorDeferrals(message.applicationProperties).deferrals),
      error: { class: pause.code === 'CertificateInvalid' ? 'permanent' : 'transient', code: pause.code, message: reason },
    });
  }

  private rememberApplied(userId: string, version: number): void {
    if ((this.newestApplied.get(userId) ?? 0) >= version) return;
    this.newestApplied.delete(userId);
    this.newestApplied.set(userId, version);
    if (this.newestApplied.size > REMEMBERED_PEOPLE) {
      const oldest = this.newestApplied.keys().next().value;
      if (oldest !== undefined) this.newestApplied.delete(oldest);
    }
  }

  private async abandonInFlight(entry: InFlight, reason: string): Promise<void> {
    if (entry.settled) return;
    entry.settled = true;
    entry.controller.abort();
    this.counters.abandoned += 1;
    try {
      await entry.receiver.abandonMessage(entry.message);
    } catch (error) {
      this.options.logger.warn('abandon failed; the lock will expire instead', { messageId: idText(entry.message.messageId), reason, error: toDialtoneError(error).message });
    }
  }

  /**
   * PowerShell can outlast a lock: renew the session lock until the command is settled.
   * `answered()` stops renewing and waits for a renewal still on its way: a renewal that reaches
   * the broker late (after the lock expired there) is answered SessionLockLost, and the attempt
   * must learn that before it publishes or settles anything as the lock's holder. `stop()` ends
   * it all (an answer after that is ignored).
   */
  private renewWhileRunning(entry: InFlight, log: Logger): { answered(): Promise<void>; stop(): void } {
    const interval = this.options.lockRenewalIntervalMs ?? 20_000;
    let handle: unknown;
    let renewing = true;
    let done = false;
    let onItsWay: Promise<void> | undefined;
    const tick = (): void => {
      handle = this.waitTimers.setTimeout(() => {
        if (done || !renewing) return;
        onItsWay = entry.receiver.renewSessionLock().then(
          () => {
            onItsWay = undefined;
            if (renewing && !done) tick();
          },
          (error: unknown) => {
            onItsWay = undefined;
            if (done) return;
            log.warn('session lock renewal failed', { reason: toDialtoneError(error).message });
            if (busErrorAction(error) === 'lockLost') entry.controller.abort();
            else if (renewing) tick();
          },
        );
      }, interval);
    };
    tick();
    return {
      answered: async () => {
        renewing = false;
        this.waitTimers.clearTimeout(handle);
        await onItsWay;
      },
      stop: () => {
        done = true;
        this.waitTimers.clearTimeout(handle);
      },
    };
  }
}

function newestFromState(state: unknown): number | undefined {
  let value = state;
  if (typeof value === 'string' || Buffer.isBuffer(value)) {
    try {
      value = JSON.parse(value.toString()) as unknown;
    } catch {
      return undefined;
    }
  }
  const newest = (value as { newestAppliedVersion?: unknown } | null | undefined)?.newestAppliedVersion;
  return typeof newest === 'number' && Number.isInteger(newest) && newest > 0 ? newest : undefined;
}

function replaySuffix(properties: Record<string, unknown> | undefined): string {
  const count = Number(properties?.['dialtone-replay-count'] ?? 0);
  return Number.isFinite(count) && count > 0 ? `:replay${count}` : '';
}
