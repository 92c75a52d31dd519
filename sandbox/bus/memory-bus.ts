import { randomUUID } from 'node:crypto';
import type {
  AcceptSessionOptions,
  ApplicationProperties,
  BusClient,
  BusReceiver,
  BusSender,
  BusSessionReceiver,
  DeadLetterOptions,
  OutgoingMessage,
  ReceivedMessage,
  ReceiveOptions,
  ReceiverOptions,
} from '../../shared/ports/bus.js';
import type { SimClock } from '../clock.js';
import { BusError } from './bus-error.js';

export interface MemoryQueueOptions {
  name: string;
  requiresSession: boolean;
  maxDeliveryCount?: number;
  duplicateDetectionWindowMs?: number;
  lockDurationMs?: number;
  requiresDuplicateDetection?: boolean;
  /** A message without its own timeToLive (or with a longer one) expires after this. */
  defaultMessageTimeToLiveMs?: number;
  deadLetteringOnMessageExpiration?: boolean;
}

interface StoredMessage {
  seq: number;
  message: OutgoingMessage;
  enqueuedAt: number;
  availableAt: number;
  expiresAt: number;
  deliveryCount: number;
  lockToken: string | null;
  lockedUntil: number;
  deadLetter?: { reason: string; description: string; source: string; properties: ApplicationProperties };
}

interface QueueState {
  options: Required<MemoryQueueOptions>;
  active: StoredMessage[];
  deadLetters: StoredMessage[];
  seenIds: Map<string, number>;
  /** sessionId → lock held until (sandbox ms) and the receiver's token. */
  sessionLocks: Map<string, { token: string; until: number }>;
  sessionState: Map<string, unknown>;
}

const LOCK_TOKEN = Symbol('lockToken');
type Delivered = ReceivedMessage & { [LOCK_TOKEN]?: string };

/**
 * An in-memory Service Bus that keeps the semantics Dialtone relies on: peek-lock with
 * delivery counts, max delivery count → dead-letter with reason, sessions with one receiver
 * per session, scheduled messages, duplicate detection within a window, TTL expiry, and a
 * plain (non-session) dead-letter subqueue. Time is the sandbox's simulated clock.
 */
export class MemoryBus implements BusClient {
  private readonly queues = new Map<string, QueueState>();
  private seq = 0;
  private waiters: (() => void)[] = [];
  private closed = false;

  constructor(
    private readonly clock: SimClock,
    queues: MemoryQueueOptions[],
  ) {
    for (const q of queues) {
      this.queues.set(q.name, {
        options: {
          maxDeliveryCount: 10,
          duplicateDetectionWindowMs: 10 * 60_000,
          lockDurationMs: 60_000,
          requiresDuplicateDetection: true,
          defaultMessageTimeToLiveMs: Number.POSITIVE_INFINITY,
          deadLetteringOnMessageExpiration: true,
          ...q,
        },
        active: [],
        deadLetters: [],
        seenIds: new Map(),
        sessionLocks: new Map(),
        sessionState: new Map(),
      });
    }
  }

  createSender(queueName: string): BusSender {
    const queue = this.queue(queueName);
    return {
      sendMessages: async (messages) => {
        for (const m of toArray(messages)) this.enqueue(queue, m, this.clock.nowMs());
      },
      scheduleMessages: async (messages, at) => {
        const ids: number[] = [];
        for (const m of toArray(messages)) {
          const stored = this.enqueue(queue, m, Math.max(at.getTime(), this.clock.nowMs()));
          ids.push(stored?.seq ?? -1);
        }
        return ids;
      },
      close: async () => undefined,
    };
  }

  createReceiver(queueName: string, options: ReceiverOptions = {}): BusReceiver {
    const queue = this.queue(queueName);
    const deadLetter = options.subQueueType === 'deadLetter';
    if (queue.options.requiresSession && !deadLetter) {
      throw new BusError('InvalidOperation', `Queue '${queueName}' requires sessions: use acceptNextSession.`);
    }
    const list = (): StoredMessage[] => (deadLetter ? queue.deadLetters : queue.active);
    const deleteOnReceive = options.receiveMode === 'receiveAndDelete';
    const receiver: BusReceiver = {
      receiveMessages: async (max, receiveOptions) =>
        this.receive(queue, list, () => true, max, receiveOptions, deleteOnReceive, !deadLetter),
      peekMessages: async (max, peekOptions) => {
        const from = Number(peekOptions?.fromSequenceNumber ?? 0);
        return list()
          .filter((s) => s.seq >= from)
          .slice(0, max)
          .map((s) => this.view(s));
      },
      completeMessage: async (m) => this.settle(queue, list(), m, 'complete'),
      abandonMessage: async (m, props) => this.settle(queue, list(), m, 'abandon', props),
      deadLetterMessage: async (m, opts) => {
        if (deadLetter) throw new BusError('InvalidOperation', 'A dead-lettered message cannot be dead-lettered again.');
        this.settle(queue, list(), m, 'deadletter', undefined, opts);
      },
      renewMessageLock: async (m) => this.renew(list(), m, queue.options.lockDurationMs),
      close: async () => undefined,
    };
    return receiver;
  }

  async acceptNextSession(queueName: string, _options?: AcceptSessionOptions): Promise<BusSessionReceiver> {
    const queue = this.queue(queueName);
    if (!queue.options.requiresSession) {
      throw new BusError('InvalidOperation', `Queue '${queueName}' is not session-enabled.`);
    }
    this.expireLocks(queue);
    const now = this.clock.nowMs();
    const candidate = queue.active.find(
      (s) => s.availableAt <= now && s.lockToken === null && !this.sessionLocked(queue, s.message.sessionId ?? '', now),
    );
    if (!candidate) {
      throw new BusError('ServiceTimeout', `No unlocked session with messages is available on '${queueName}'.`);
    }
    const sessionId = candidate.message.sessionId ?? '';
    const token = randomUUID();
    queue.sessionLocks.set(sessionId, { token, until: now + queue.options.lockDurationMs });
    const holds = (): boolean => queue.sessionLocks.get(sessionId)?.token === token;
    const guard = (): void => {
      if (!holds()) throw new BusError('SessionLockLost', `The lock on session '${sessionId}' was lost.`);
    };
    const list = (): StoredMessage[] => queue.active;
    return {
      sessionId,
      receiveMessages: async (max, options) => {
        guard();
        return this.receive(queue, list, (s) => s.message.sessionId === sessionId, max, options, false, true, true);
      },
      peekMessages: async (max) =>
        queue.active
          .filter((s) => s.message.sessionId === sessionId)
          .slice(0, max)
          .map((s) => this.view(s)),
      completeMessage: async (m) => {
        guard();
        this.settle(queue, list(), m, 'complete');
      },
      abandonMessage: async (m, props) => {
        guard();
        this.settle(queue, list(), m, 'abandon', props);
      },
      deadLetterMessage: async (m, opts) => {
        guard();
        this.settle(queue, list(), m, 'deadletter', undefined, opts);
      },
      renewSessionLock: async () => {
        guard();
        const until = this.clock.nowMs() + queue.options.lockDurationMs;
        queue.sessionLocks.set(sessionId, { token, until });
        for (const s of queue.active) if (s.message.sessionId === sessionId && s.lockToken) s.lockedUntil = until;
        return new Date(until);
      },
      getSessionState: async () => queue.sessionState.get(sessionId),
      setSessionState: async (state) => {
        guard();
        queue.sessionState.set(sessionId, state);
      },
      close: async () => {
        if (!holds()) return;
        queue.sessionLocks.delete(sessionId);
        // Messages received but not settled go back, as when the session link closes.
        for (const s of queue.active) {
          if (s.message.sessionId === sessionId && s.lockToken) this.release(queue, s);
        }
        this.notify();
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.notify();
  }

  // ---- inspection, used by the sandbox driver, the CLI and tests ----

  /** Messages available now in any queue (not locked, not scheduled for later). */
  availableCount(queueName?: string): number {
    const now = this.clock.nowMs();
    let n = 0;
    for (const q of this.selected(queueName)) {
      this.expireLocks(q);
      n += q.active.filter((s) => s.availableAt <= now && s.lockToken === null).length;
    }
    return n;
  }

  /** Messages locked by a receiver right now. */
  inFlightCount(queueName?: string): number {
    let n = 0;
    for (const q of this.selected(queueName)) n += q.active.filter((s) => s.lockToken !== null).length;
    return n;
  }

  /** The earliest future moment at which something becomes available (scheduled message or lock expiry). */
  nextDueAt(): number | undefined {
    const now = this.clock.nowMs();
    let next: number | undefined;
    for (const q of this.queues.values()) {
      for (const s of q.active) {
        const due = s.lockToken !== null ? s.lockedUntil : s.availableAt;
        if (due > now && (next === undefined || due < next)) next = due;
      }
    }
    return next;
  }

  deadLetterMessages(queueName?: string): (ReceivedMessage & { queue: string })[] {
    const out: (ReceivedMessage & { queue: string })[] = [];
    for (const q of this.selected(queueName)) for (const s of q.deadLetters) out.push({ ...this.view(s), queue: q.options.name });
    return out;
  }

  queueNames(): string[] {
    return [...this.queues.keys()];
  }

  /** Resolves when something is sent or released, or after `ms` real milliseconds. */
  waitForActivity(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const waiters = this.waiters;
      function done(): void {
        clearTimeout(timer);
        const i = waiters.indexOf(done);
        if (i >= 0) waiters.splice(i, 1);
        resolve();
      }
      this.waiters.push(done);
    });
  }

  /** Serialisable state for `sandbox run --state DIR`. */
  snapshot(): unknown {
    return {
      seq: this.seq,
      queues: [...this.queues.values()].map((q) => ({
        name: q.options.name,
        active: q.active.map((s) => ({ ...s, lockToken: null, lockedUntil: 0 })),
        deadLetters: q.deadLetters,
        seenIds: [...q.seenIds.entries()],
      })),
    };
  }

  restore(snapshot: unknown): void {
    const data = snapshot as {
      seq: number;
      queues: { name: string; active: StoredMessage[]; deadLetters: StoredMessage[]; seenIds: [string, number][] }[];
    };
    this.seq = data.seq;
    for (const saved of data.queues) {
      const q = this.queues.get(saved.name);
      if (!q) continue;
      // JSON has no Infinity: a message without TTL comes back with expiresAt null.
      const revive = (m: StoredMessage): StoredMessage => ({ ...m, expiresAt: m.expiresAt ?? Number.POSITIVE_INFINITY, lockToken: null, lockedUntil: 0 });
      q.active = saved.active.map(revive);
      q.deadLetters = saved.deadLetters.map(revive);
      q.seenIds = new Map(saved.seenIds);
    }
  }

  // ---- internals ----

  private queue(name: string): QueueState {
    const q = this.queues.get(name);
    if (!q) throw new BusError('MessagingEntityNotFound', `Queue '${name}' does not exist.`);
    return q;
  }

  private selected(name?: string): QueueState[] {
    return name === undefined ? [...this.queues.values()] : [this.queue(name)];
  }

  private enqueue(queue: QueueState, message: OutgoingMessage, availableAt: number): StoredMessage | undefined {
    if (queue.options.requiresSession && !message.sessionId) {
      throw new BusError(
        'InvalidOperation',
        `Queue '${queue.options.name}' is session-enabled: the message must carry a sessionId.`,
      );
    }
    if (message.messageId !== undefined && message.messageId.length > 128) {
      throw new BusError('InvalidOperation', 'messageId is longer than 128 characters.');
    }
    const now = this.clock.nowMs();
    const messageId = message.messageId ?? randomUUID();
    if (queue.options.requiresDuplicateDetection) {
      const seenAt = queue.seenIds.get(messageId);
      if (seenAt !== undefined && now - seenAt < queue.options.duplicateDetectionWindowMs) return undefined;
      queue.seenIds.set(messageId, now);
    }
    // Service Bus: the smaller of the message's and the queue's time to live, from the enqueue time.
    const ttl = Math.min(message.timeToLive ?? Number.POSITIVE_INFINITY, queue.options.defaultMessageTimeToLiveMs);
    const stored: StoredMessage = {
      seq: ++this.seq,
      message: structuredClone({ ...message, messageId }),
      enqueuedAt: now,
      availableAt,
      expiresAt: availableAt + ttl,
      deliveryCount: 0,
      lockToken: null,
      lockedUntil: 0,
    };
    queue.active.push(stored);
    this.notify();
    return stored;
  }

  private receive(
    queue: QueueState,
    list: () => StoredMessage[],
    filter: (s: StoredMessage) => boolean,
    max: number,
    _options: ReceiveOptions | undefined,
    deleteOnReceive: boolean,
    countDelivery: boolean,
    fifoSession = false,
  ): ReceivedMessage[] {
    this.expireLocks(queue);
    const now = this.clock.nowMs();
    const out: ReceivedMessage[] = [];
    for (const s of [...list()]) {
      if (out.length >= max) break;
      if (!filter(s)) continue;
      if (s.availableAt > now) {
        if (fifoSession) continue;
        continue;
      }
      if (s.lockToken !== null) continue;
      if (!s.deadLetter && !fifoSession && queue.options.requiresSession) continue;
      if (!s.deadLetter && s.expiresAt <= now) {
        this.moveToDeadLetter(queue, s, 'TTLExpiredException', 'The message expired before it was received.', 'expiry');
        continue;
      }
      if (countDelivery) s.deliveryCount += 1;
      if (deleteOnReceive) {
        const i = list().indexOf(s);
        list().splice(i, 1);
        out.push(this.view(s));
        continue;
      }
      s.lockToken = randomUUID();
      s.lockedUntil = now + queue.options.lockDurationMs;
      const view: Delivered = this.view(s);
      view[LOCK_TOKEN] = s.lockToken;
      out.push(view);
    }
    return out;
  }

  private settle(
    queue: QueueState,
    list: StoredMessage[],
    message: ReceivedMessage,
    action: 'complete' | 'abandon' | 'deadletter',
    propertiesToModify?: ApplicationProperties,
    deadLetterOptions?: DeadLetterOptions & ApplicationProperties,
  ): void {
    const token = (message as Delivered)[LOCK_TOKEN];
    const stored = list.find((s) => s.lockToken !== null && s.lockToken === token);
    if (!token || !stored) {
      throw new BusError('MessageLockLost', `The lock on message '${message.messageId ?? '?'}' was lost or the message was already settled.`);
    }
    if (action === 'complete') {
      list.splice(list.indexOf(stored), 1);
    } else if (action === 'abandon') {
      if (propertiesToModify) {
        stored.message.applicationProperties = { ...stored.message.applicationProperties, ...propertiesToModify };
      }
      this.release(queue, stored);
    } else {
      const { deadLetterReason, deadLetterErrorDescription, ...props } = deadLetterOptions ?? {
        deadLetterReason: '',
        deadLetterErrorDescription: '',
      };
      this.moveToDeadLetter(queue, stored, deadLetterReason, deadLetterErrorDescription, 'application', props);
    }
    this.notify();
  }

  /** Lock ended without completion: back to the queue, or to the dead letters past max deliveries. */
  private release(queue: QueueState, stored: StoredMessage): void {
    stored.lockToken = null;
    stored.lockedUntil = 0;
    if (stored.deadLetter) return;
    if (stored.deliveryCount >= queue.options.maxDeliveryCount) {
      this.moveToDeadLetter(
        queue,
        stored,
        'MaxDeliveryCountExceeded',
        `Message could not be consumed after ${queue.options.maxDeliveryCount} delivery attempts.`,
        'broker',
      );
    }
  }

  private moveToDeadLetter(
    queue: QueueState,
    stored: StoredMessage,
    reason: string,
    description: string,
    source: string,
    properties: ApplicationProperties = {},
  ): void {
    const i = queue.active.indexOf(stored);
    if (i >= 0) queue.active.splice(i, 1);
    stored.lockToken = null;
    stored.lockedUntil = 0;
    stored.deadLetter = { reason, description, source, properties };
    queue.deadLetters.push(stored);
  }

  private renew(list: StoredMessage[], message: ReceivedMessage, lockDurationMs: number): Date {
    const token = (message as Delivered)[LOCK_TOKEN];
    const stored = list.find((s) => s.lockToken !== null && s.lockToken === token);
    if (!stored) throw new BusError('MessageLockLost', 'The message lock was lost.');
    stored.lockedUntil = this.clock.nowMs() + lockDurationMs;
    return new Date(stored.lockedUntil);
  }

  private expireLocks(queue: QueueState): void {
    const now = this.clock.nowMs();
    for (const [sessionId, lock] of queue.sessionLocks) if (lock.until <= now) queue.sessionLocks.delete(sessionId);
    for (const s of [...queue.active]) {
      if (s.lockToken !== null && s.lockedUntil <= now) {
        if (queue.options.requiresSession && queue.sessionLocks.has(s.message.sessionId ?? '')) continue;
        this.release(queue, s);
      }
    }
  }

  private sessionLocked(queue: QueueState, sessionId: string, now: number): boolean {
    const lock = queue.sessionLocks.get(sessionId);
    return lock !== undefined && lock.until > now;
  }

  private view(s: StoredMessage): ReceivedMessage {
    const m = structuredClone(s.message);
    return {
      ...m,
      deliveryCount: s.deliveryCount,
      enqueuedTimeUtc: new Date(s.enqueuedAt),
      sequenceNumber: s.seq,
      lockedUntilUtc: s.lockToken ? new Date(s.lockedUntil) : undefined,
      ...(s.deadLetter
        ? {
            deadLetterReason: s.deadLetter.reason,
            deadLetterErrorDescription: s.deadLetter.description,
            deadLetterSource: s.deadLetter.source,
            applicationProperties: { ...m.applicationProperties, ...s.deadLetter.properties },
          }
        : {}),
    };
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

function toArray<T>(value: T | T[]): T[] {
  return Array.isArray(value) ? value : [value];
}
