import { createHash } from 'node:crypto';
import type { MessageActions, ReceivedMessage } from '../../shared/ports/bus.js';
import { idText } from '../../shared/ports/bus.js';
import type { MemoryBus } from '../bus/memory-bus.js';
import type { SimScheduler } from '../scheduler.js';
import { seededRandom } from '../../shared/domain/seeded-random.js';
import type { HostConcurrency } from './host-json.js';
import type { FunctionDurations } from './function-durations.js';

export interface HostedFunction {
  name: string;
  queue: string;
  sessions: boolean;
  handler: (messages: ReceivedMessage[], actions: MessageActions) => Promise<void>;
  /**
   * One handler per Function App instance, when the instances differ (each with its own clock,
   * as machines whose clocks are minutes apart); `handler` serves an instance not listed.
   */
  instanceHandlers?: HostedFunction['handler'][];
}

export interface FunctionsHostOptions {
  scheduler: SimScheduler;
  /** From host.json (readHostConcurrency). */
  concurrency: HostConcurrency;
  /** Function App instances competing for the same queues (`--instances N`). */
  instances?: number;
  /** Seeds which instance polls first and each invocation's start-up delay. */
  seed?: number;
  /** Upper bound of a seeded start-up delay per invocation, in sandbox ms (0: none). */
  startJitterMs?: number;
  /** Times every invocation in sandbox time, against host.json's functionTimeout. */
  durations?: FunctionDurations;
}

type Settler = {
  completeMessage(m: ReceivedMessage): Promise<void>;
  abandonMessage(m: ReceivedMessage): Promise<void>;
  deadLetterMessage(m: ReceivedMessage, o: { deadLetterReason: string; deadLetterErrorDescription: string }): Promise<void>;
};

/**
 * Plays the Azure Functions host for the sandbox, with the concurrency host.json gives it:
 * each of `instances` instances runs up to maxConcurrentCalls invocations of a plain-queue
 * Function and holds up to maxConcurrentSessions sessions of a session-queue Function, each
 * invocation with a batch of up to maxMessageBatchSize messages (`cardinality: 'many'`).
 * Instances compete for messages, so invocations overlap and finish out of order as in Azure;
 * which instance polls first and each invocation's start-up delay come from a seeded random
 * source, so a run is repeatable for a seed.
 *
 * The handlers get the messages and an actions object, as the SDK-type binding does; what a
 * handler leaves unsettled is abandoned, which is what the real host's lock expiry would do.
 * Invocations run as tracked work of the scheduler: the driver moves the clock only when they
 * all wait on sandbox time.
 */
export class SandboxFunctionsHost {
  private readonly invocations = new Map<string, number>();
  private readonly inFlight = new Map<string, number>();
  private readonly random: () => number;
  private readonly instances: number;
  private firstInstance = 0;
  private handled = 0;
  private readonly brokerErrors = new Map<string, number>();

  constructor(
    private readonly bus: MemoryBus,
    private readonly functions: HostedFunction[],
    private readonly options: FunctionsHostOptions,
  ) {
    this.random = seededRandom(options.seed ?? 1);
    this.instances = Math.max(1, options.instances ?? 1);
  }

  /** Starts as many invocations as the instances have room for; returns how many started. */
  async dispatch(): Promise<number> {
    let started = 0;
    for (const fn of this.functions) {
      // Which instance polls first moves on a seeded draw after every start (never on an idle
      // poll: how often the sandbox polls depends on real time, and the run must not).
      for (let k = 0; k < this.instances; k++) {
        const instance = (this.firstInstance + k) % this.instances;
        const n = fn.sessions ? await this.startSessions(fn, instance) : await this.startBatches(fn, instance);
        started += n;
        for (let i = 0; i < n; i++) this.firstInstance = Math.floor(this.random() * this.instances);
      }
    }
    return started;
  }

  /** Invocations running now, over every instance. */
  running(): number {
    let n = 0;
    for (const v of this.inFlight.values()) n += v;
    return n;
  }

  /** Messages handed to the Functions so far. */
  handledMessages(): number {
    return this.handled;
  }

  invocationCounts(): Record<string, number> {
    return Object.fromEntries(this.invocations);
  }

  /**
   * Broker errors the host met outside the handlers (a receive or session accept that the bus
   * refused, a session link that failed), by code: the real host logs them and polls again.
   */
  hostErrors(): Record<string, number> {
    return Object.fromEntries(this.brokerErrors);
  }

  private noteError(error: unknown): void {
    const code = typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string' ? (error as { code: string }).code : 'Error';
    this.brokerErrors.set(code, (this.brokerErrors.get(code) ?? 0) + 1);
  }

  private slotKey(fn: HostedFunction, instance: number): string {
    return `${fn.name}#${instance}`;
  }

  private async startBatches(fn: HostedFunction, instance: number): Promise<number> {
    const key = this.slotKey(fn, instance);
    const limit = this.options.concurrency.maxConcurrentCalls;
    let started = 0;
    while ((this.inFlight.get(key) ?? 0) < limit && this.bus.availableCount(fn.queue) > 0) {
      const receiver = this.bus.createReceiver(fn.queue);
      let messages: ReceivedMessage[];
      try {
        messages = await receiver.receiveMessages(this.options.concurrency.maxMessageBatchSize);
      } catch (error) {
        // A throttled receive: the host polls again on its next turn.
        this.noteError(error);
        await receiver.close().catch(() => undefined);
        break;
      }
      if (messages.length === 0) break;
      started += 1;
      this.hold(key, +1);
      this.options.scheduler
        .track(async () => {
          try {
            await this.invoke(fn, messages, receiver, instance);
          } finally {
            this.hold(key, -1);
            await receiver.close();
          }
        }, `function ${fn.name}`)
        .catch((error: unknown) => this.noteError(error));
    }
    return started;
  }

  private async startSessions(fn: HostedFunction, instance: number): Promise<number> {
    const key = this.slotKey(fn, instance);
    const limit = this.options.concurrency.maxConcurrentSessions;
    let started = 0;
    while ((this.inFlight.get(key) ?? 0) < limit && this.bus.availableCount(fn.queue) > 0) {
      let session;
      try {
        session = await this.bus.acceptNextSession(fn.queue);
      } catch (error) {
        if ((error as { code?: unknown }).code !== 'ServiceTimeout') this.noteError(error);
        break;
      }
      let first: ReceivedMessage[];
      try {
        first = await session.receiveMessages(this.options.concurrency.maxMessageBatchSize);
      } catch (error) {
        this.noteError(error);
        await session.close().catch(() => undefined);
        break;
      }
      if (first.length === 0) {
        await session.close();
        break;
      }
      started += 1;
      this.hold(key, +1);
      const held = session;
      this.options.scheduler
        .track(async () => {
          try {
            // The instance keeps the session while it has messages (sessionIdleTimeout), FIFO.
            let messages = first;
            while (messages.length > 0) {
              await this.invoke(fn, messages, held, instance);
              messages = await held.receiveMessages(this.options.concurrency.maxMessageBatchSize);
            }
          } finally {
            this.hold(key, -1);
            // Closing releases what is still locked; a failed close leaves it to the lock's expiry.
            await held.close().catch(() => undefined);
          }
        }, `function ${fn.name}`)
        .catch((error: unknown) => this.noteError(error));
    }
    return started;
  }

  private hold(key: string, delta: number): void {
    this.inFlight.set(key, (this.inFlight.get(key) ?? 0) + delta);
  }

  private async invoke(fn: HostedFunction, messages: ReceivedMessage[], receiver: Settler, instance: number): Promise<void> {
    this.invocations.set(fn.name, (this.invocations.get(fn.name) ?? 0) + 1);
    this.handled += messages.length;
    const jitter = this.options.startJitterMs ?? 0;
    if (jitter > 0) {
      // Drawn from the message, not from a shared sequence: invocations start in real-time order.
      const first = messages[0];
      const key = `${fn.name}:${idText(first?.messageId) ?? ''}:${first?.deliveryCount ?? 0}`;
      const draw = createHash('sha256').update(`${this.options.seed ?? 1}|${key}`).digest().readUInt32BE(0) / 2 ** 32;
      await this.options.scheduler.sleep(Math.floor(draw * jitter), key);
    }
    const settled = new Set<ReceivedMessage>();
    const actions: MessageActions = {
      complete: async (m) => {
        await receiver.completeMessage(m);
        settled.add(m);
      },
      abandon: async (m) => {
        await receiver.abandonMessage(m);
        settled.add(m);
      },
      deadletter: async (m, _props, reason, description) => {
        await receiver.deadLetterMessage(m, {
          deadLetterReason: reason ?? 'Unspecified',
          deadLetterErrorDescription: description ?? '',
        });
        settled.add(m);
      },
    };
    try {
      const handler = fn.instanceHandlers?.[instance] ?? fn.handler;
      const durations = this.options.durations;
      if (durations) await durations.time(fn.name, () => this.options.scheduler.clock.nowMs(), () => handler(messages, actions));
      else await handler(messages, actions);
    } catch {
      // The Functions host logs a failed invocation; the unsettled messages are abandoned below.
    } finally {
      for (const m of messages) if (!settled.has(m)) await receiver.abandonMessage(m).catch(() => undefined);
    }
  }
}
