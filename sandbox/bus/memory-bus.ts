import { randomUUID } from 'node:crypto';
import type {
  AcceptSessionOptions,
  ApplicationProperties,
  BusClient,
  BusMessageBatch,
  BusReceiver,
  BusSender,
  BusSessionReceiver,
  CreateMessageBatchOptions,
  DeadLetterOptions,
  OutgoingMessage,
  ReceivedMessage,
  ReceiverOptions,
} from '../../shared/ports/bus.js';
import type { SimClock } from '../clock.js';
import { BusError } from './bus-error.js';
import { BusFaultPlan, type BusFaults, type BusOperation } from './bus-faults.js';
import { MinHeap, SequenceIndex } from './heap.js';
import {
  BATCH_ENVELOPE_BYTES,
  batchedBytes,
  headerBytes,
  MAX_HEADER_BYTES,
  MAX_ID_LENGTH,
  MAX_MESSAGE_BYTES,
  MAX_PROPERTY_BYTES,
  messageBytes,
  propertyBytes,
} from './message-size.js';

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

type Where = 'scheduled' | 'ready' | 'locked' | 'gone';

interface StoredMessage {
  seq: number;
  message: OutgoingMessage;
  size: number;
  enqueuedAt: number;
  availableAt: number;
  expiresAt: number;
  deliveryCount: number;
  lockToken: string | null;
  lockedUntil: number;
  /** Present on a message in the dead-letter subqueue. */
  deadLetter?: { reason: string; description: string };
  where: Where;
  /** Bumped on every move: heap entries of an older version are stale and skipped. */
  version: number;
}

interface Entry {
  key: number;
  seq: number;
  version: number;
  message: StoredMessage;
}

const byKeyThenSeq = <T extends { key: number; seq: number }>(a: T, b: T): boolean => a.key < b.key || (a.key === b.key && a.seq < b.seq);

interface SessionState {
  id: string;
  ready: MinHeap<Entry>;
  readyCount: number;
  locked: Set<StoredMessage>;
  index: SequenceIndex;
  lock?: { token: string; until: number };
  state?: unknown;
}

/** The queue itself or its dead-letter subqueue: what one receiver reads. */
class Entity {
  readonly bySeq = new Map<number, StoredMessage>();
  readonly index = new SequenceIndex((seq) => this.bySeq.has(seq));
  /** Ready messages in sequence order (plain queues and every dead-letter subqueue). */
  readonly ready = new MinHeap<Entry>(byKeyThenSeq);
  readonly scheduled = new MinHeap<Entry>(byKeyThenSeq);
  readonly locks = new MinHeap<Entry>(byKeyThenSeq);
  readonly expiries = new MinHeap<Entry>(byKeyThenSeq);
  readonly byToken = new Map<string, StoredMessage>();
  readyCount = 0;
  lockedCount = 0;
  /** The SDK's management link remembers the last peeked sequence number per entity. */
  lastPeeked = 0;

  constructor(readonly path: string) {}
}

interface QueueState {
  options: Required<MemoryQueueOptions>;
  main: Entity;
  dlq: Entity;
  sessions: Map<string, SessionState>;
  /** Sessions that may have ready messages, by the sequence number of their head at the time. */
  availableSessions: MinHeap<{ key: number; seq: number; session: SessionState }>;
  sessionLocks: MinHeap<{ key: number; seq: number; session: SessionState; token: string }>;
  seenIds: Map<string, number>;
  seenOrder: { id: string; at: number }[];
  seenHead: number;
}

const LOCK_TOKEN = Symbol('lockToken');
type Delivered = ReceivedMessage & { [LOCK_TOKEN]?: string };

const TTL_DESCRIPTION = 'The message expired and was dead lettered.';

/** What the SDK checks when a message is added to a batch or sent: the ids (plain Errors, its words). */
export function checkMessageIds(message: OutgoingMessage): void {
  if (message.sessionId !== undefined && message.sessionId.length > MAX_ID_LENGTH) {
    throw new Error(`Length of 'sessionId' property on the message cannot be greater than ${MAX_ID_LENGTH} characters.`);
  }
  if (message.messageId !== undefined && message.messageId.length > MAX_ID_LENGTH) {
    throw new Error(`Length of 'messageId' property on the message cannot be greater than ${MAX_ID_LENGTH} characters.`);
  }
  if (message.correlationId !== undefined && message.correlationId.length > MAX_ID_LENGTH) {
    throw new Error(`Length of 'correlationId' property on the message cannot be greater than ${MAX_ID_LENGTH} characters.`);
  }
}

/** Every check Service Bus and the SDK make on a message that is sent; returns its size. */
export function checkOutgoingMessage(message: OutgoingMessage, queue: { name: string; requiresSession: boolean }): number {
  checkMessageIds(message);
  if (queue.requiresSession && !message.sessionId) {
    throw new BusError('InvalidOperation', `Queue '${queue.name}' is session-enabled: the message must carry a sessionId.`);
  }
  for (const [key, value] of Object.entries(message.applicationProperties ?? {})) {
    if (propertyBytes(key, value) > MAX_PROPERTY_BYTES) {
      throw new BusError('MessageSizeExceeded', `The application property '${key}' is larger than ${MAX_PROPERTY_BYTES} bytes.`);
    }
  }
  const headers = headerBytes(message);
  if (headers > MAX_HEADER_BYTES) {
    throw new BusError('MessageSizeExceeded', `The message headers (${headers} bytes) are larger than ${MAX_HEADER_BYTES} bytes.`);
  }
  const size = messageBytes(message);
  if (size > MAX_MESSAGE_BYTES) {
    throw new BusError(
      'MessageSizeExceeded',
      `The received message (delivery-id:0, size:${size} bytes) exceeds the limit (${MAX_MESSAGE_BYTES} bytes) currently allowed on the link.`,
    );
  }
  return size;
}

/** `sendMessages(array)` sends one batch: Service Bus refuses the array when it does not fit. */
export function checkArrayFitsOneBatch(sizes: number[]): void {
  if (sizes.length < 2) return;
  const total = sizes.reduce((sum, size) => sum + batchedBytes(size), BATCH_ENVELOPE_BYTES);
  if (total > MAX_MESSAGE_BYTES) {
    throw new BusError(
      'MessageSizeExceeded',
      'Messages were too big to fit in a single batch. Remove some messages and try again or create your own batch using createBatch(), which gives more fine-grained control.',
    );
  }
}

/** A batch as `createMessageBatch()` makes it; refuses a size above what the link allows. */
export function createMemoryBatch(
  queue: { name: string; requiresSession: boolean },
  options?: CreateMessageBatchOptions,
): MemoryMessageBatch {
  const max = options?.maxSizeInBytes ?? MAX_MESSAGE_BYTES;
  if (max > MAX_MESSAGE_BYTES) {
    throw new Error(`Max message size (${max} bytes) is greater than maximum message size (${MAX_MESSAGE_BYTES} bytes) on the AMQP sender link.`);
  }
  return new MemoryMessageBatch(max);
}

export function isBatch(value: unknown): value is MemoryMessageBatch {
  return value instanceof MemoryMessageBatch;
}

/**
 * A ServiceBusMessageBatch: ids are checked when a message is added (an Error, as the SDK
 * throws), the size is counted as it is added (false when it would not fit), and the broker's
 * own checks (sessions, property and header sizes) run when the batch is sent.
 */
export class MemoryMessageBatch implements BusMessageBatch {
  private readonly items: OutgoingMessage[] = [];
  private bytes = 0;

  constructor(readonly maxSizeInBytes: number) {}

  get count(): number {
    return this.items.length;
  }

  get sizeInBytes(): number {
    return this.bytes;
  }

  tryAddMessage(message: OutgoingMessage): boolean {
    checkMessageIds(message);
    const size = messageBytes(message);
    const next = (this.items.length === 0 ? BATCH_ENVELOPE_BYTES : this.bytes) + batchedBytes(size);
    if (next > this.maxSizeInBytes) return false;
    this.items.push(structuredClone(message));
    this.bytes = next;
    return true;
  }

  /** The messages added, for sendMessages. */
  messages(): readonly OutgoingMessage[] {
    return this.items;
  }
}

/**
 * An in-memory Service Bus that refuses what Service Bus refuses (Standard tier, @azure/service-bus
 * v7 behaviour): messages and batches over 256 KB (MessageSizeExceeded), a property over 32 KB or
 * headers over 64 KB, message / session / correlation ids over 128 characters; settling or renewing
 * after the lock expired (MessageLockLost, SessionLockLost for a session receiver). It keeps
 * peek-lock with delivery counts, MaxDeliveryCountExceeded, sessions with one receiver each,
 * scheduled messages, duplicate detection within the queue's window, the queue's default time to
 * live with dead-lettering on expiry (TTLExpiredException), a plain dead-letter subqueue whose
 * messages carry DeadLetterReason / DeadLetterErrorDescription as application properties, and a
 * peek that continues from the last peeked sequence number. Every operation is O(log n) in the
 * queue length (heaps with lazy deletion), so a sandbox with tens of thousands of messages does not
 * slow down. Time is the sandbox's simulated clock.
 */
export class MemoryBus implements BusClient {
  private readonly queues = new Map<string, QueueState>();
  private seq = 0;
  private waiters: (() => void)[] = [];
  private closed = false;
  private readonly faults: BusFaultPlan;
  /** Lock renewals on their way to the broker (lateRenewals): each arrives once its lock has expired. */
  private lateArrivals: { queue: QueueState; expired: () => boolean; arrive: () => void }[] = [];

  constructor(
    private readonly clock: SimClock,
    queues: MemoryQueueOptions[],
    options: { faults?: BusFaults } = {},
  ) {
    this.faults = new BusFaultPlan(options.faults);
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
        main: new Entity(q.name),
        dlq: new Entity(`${q.name}/$DeadLetterQueue`),
        sessions: new Map(),
        availableSessions: new MinHeap(byKeyThenSeq),
        sessionLocks: new MinHeap(byKeyThenSeq),
        seenIds: new Map(),
        seenOrder: [],
        seenHead: 0,
      });
    }
  }

  createSender(queueName: string): BusSender {
    const queue = this.queue(queueName);
    return {
      sendMessages: async (messages) => {
        this.fault('send', queueName);
        const list = isBatch(messages) ? [...messages.messages()] : toArray(messages as OutgoingMessage | OutgoingMessage[]);
        const sizes = list.map((m) => this.validate(queue, m));
        if (!isBatch(messages)) checkArrayFitsOneBatch(sizes);
        const now = this.clock.nowMs();
        list.forEach((m, i) => this.enqueue(queue, m, sizes[i] as number, now));
      },
      createMessageBatch: async (options?: CreateMessageBatchOptions) => createMemoryBatch(queue.options, options),
      scheduleMessages: async (messages, at) => {
        this.fault('schedule', queueName);
        const list = toArray(messages);
        const sizes = list.map((m) => this.validate(queue, m));
        const when = Math.max(at.getTime(), this.clock.nowMs());
        return list.map((m, i) => this.enqueue(queue, m, sizes[i] as number, when)?.seq ?? -1);
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
    const entity = deadLetter ? queue.dlq : queue.main;
    const deleteOnReceive = options.receiveMode === 'receiveAndDelete';
    return {
      receiveMessages: async (max) => {
        this.fault('receive', queueName);
        this.tick(queue);
        const out: ReceivedMessage[] = [];
        while (out.length < max) {
          const s = this.popReady(queue, entity.ready);
          if (!s) break;
          if (deleteOnReceive) {
            if (!deadLetter) s.deliveryCount += 1;
            out.push(this.view(s));
            this.remove(entity, s);
            continue;
          }
          out.push(this.lock(queue, entity, s, this.clock.nowMs() + queue.options.lockDurationMs, !deadLetter));
        }
        return out;
      },
      peekMessages: async (max, peekOptions) => {
        this.fault('peek', queueName);
        return this.peek(entity, entity.index, max, peekOptions?.fromSequenceNumber);
      },
      completeMessage: async (m) => {
        this.fault('complete', queueName);
        this.remove(entity, this.locked(queue, entity, m));
        this.notify();
      },
      abandonMessage: async (m, props) => {
        this.fault('abandon', queueName);
        const s = this.locked(queue, entity, m);
        if (props) s.message.applicationProperties = { ...s.message.applicationProperties, ...props };
        this.release(queue, entity, s);
        this.notify();
      },
      deadLetterMessage: async (m, opts) => {
        this.fault('deadLetter', queueName);
        if (deadLetter) throw new BusError('InvalidOperation', 'A dead-lettered message cannot be dead-lettered again.');
        const s = this.locked(queue, entity, m);
        this.deadLetterFromOptions(queue, s, opts);
        this.notify();
      },
      renewMessageLock: async (m) => {
        this.fault('renewLock', queueName);
        if (this.faults.lateRenewal(queueName)) {
          const token = (m as Delivered)[LOCK_TOKEN];
          await this.arrivesOnceExpired(queue, () => {
            const held = token ? entity.byToken.get(token) : undefined;
            return !held || held.where !== 'locked' || held.lockToken !== token || held.lockedUntil <= this.clock.nowMs();
          });
        }
        const s = this.locked(queue, entity, m);
        s.lockedUntil = this.clock.nowMs() + queue.options.lockDurationMs;
        s.version += 1;
        entity.locks.push(entry(s.lockedUntil, s));
        return new Date(s.lockedUntil);
      },
      close: async () => undefined,
    };
  }

  async acceptNextSession(queueName: string, _options?: AcceptSessionOptions): Promise<BusSessionReceiver> {
    const queue = this.queue(queueName);
    if (!queue.options.requiresSession) {
      throw new BusError('InvalidOperation', `Queue '${queueName}' is not session-enabled.`);
    }
    this.fault('acceptSession', queueName);
    this.tick(queue);
    const now = this.clock.nowMs();
    let session: SessionState | undefined;
    for (;;) {
      const candidate = queue.availableSessions.pop();
      if (!candidate) break;
      const s = candidate.session;
      if (s.lock === undefined && s.readyCount > 0) {
        session = s;
        break;
      }
    }
    if (!session) {
      throw new BusError('ServiceTimeout', `No unlocked session with messages is available on '${queueName}'.`);
    }
    const token = randomUUID();
    const sessionId = session.id;
    const held = session;
    held.lock = { token, until: now + queue.options.lockDurationMs };
    queue.sessionLocks.push({ key: held.lock.until, seq: ++this.seq, session: held, token });
    const holds = (): boolean => held.lock?.token === token;
    const guard = (): void => {
      this.tick(queue);
      if (!holds()) throw new BusError('SessionLockLost', `The session lock has expired on the session with id ${sessionId}`);
    };
    const entity = queue.main;
    const lockedHere = (m: ReceivedMessage): StoredMessage => {
      guard();
      const s = this.locked(queue, entity, m);
      if (s.message.sessionId !== sessionId) {
        throw new BusError('MessageLockLost', `The message '${String(m.messageId ?? '?')}' was not received by this session receiver.`);
      }
      return s;
    };
    return {
      sessionId,
      receiveMessages: async (max) => {
        this.fault('receive', queueName);
        guard();
        const out: ReceivedMessage[] = [];
        while (out.length < max) {
          const s = this.popReady(queue, held.ready);
          if (!s) break;
          held.readyCount -= 1;
          out.push(this.lock(queue, entity, s, (held.lock as { until: number }).until, true));
          held.locked.add(s);
        }
        return out;
      },
      peekMessages: async (max, peekOptions) => {
        this.fault('peek', queueName);
        return this.peek(entity, held.index, max, peekOptions?.fromSequenceNumber);
      },
      completeMessage: async (m) => {
        this.fault('complete', queueName);
        const s = lockedHere(m);
        held.locked.delete(s);
        this.remove(entity, s);
        this.notify();
      },
      abandonMessage: async (m, props) => {
        this.fault('abandon', queueName);
        const s = lockedHere(m);
        if (props) s.message.applicationProperties = { ...s.message.applicationProperties, ...props };
        held.locked.delete(s);
        this.release(queue, entity, s);
        this.notify();
      },
      deadLetterMessage: async (m, opts) => {
        this.fault('deadLetter', queueName);
        const s = lockedHere(m);
        held.locked.delete(s);
        this.deadLetterFromOptions(queue, s, opts);
        this.notify();
      },
      renewSessionLock: async () => {
        this.fault('renewLock', queueName);
        if (this.faults.lateRenewal(queueName)) await this.arrivesOnceExpired(queue, () => !holds());
        guard();
        const until = this.clock.nowMs() + queue.options.lockDurationMs;
        held.lock = { token, until };
        queue.sessionLocks.push({ key: until, seq: ++this.seq, session: held, token });
        for (const s of held.locked) {
          s.lockedUntil = until;
          s.version += 1;
          entity.locks.push(entry(until, s));
        }
        return new Date(until);
      },
      getSessionState: async () => {
        guard();
        return held.state;
      },
      setSessionState: async (state) => {
        guard();
        held.state = state;
      },
      close: async () => {
        this.tick(queue);
        if (!holds()) return;
        // Messages received but not settled go back, as when the session link closes.
        this.unlockSession(queue, held);
        this.notify();
      },
    };
  }

  /** Replaces the injected throttling (chaos runs); `undefined` turns it off. */
  setFaults(faults: BusFaults | undefined): void {
    this.faults.set(faults);
  }

  /**
   * Chaos: the broker loses the lock of one held session now, as after a network blip or a lock
   * renewal that never arrived. Its locked messages go back (the holder learns it at its next
   * settle or renewal: SessionLockLost) and another receiver can take the session while the
   * first one still works. `choose` picks among the sessions holding a locked message; returns
   * the session id, or undefined when none was held.
   */
  loseSessionLock(queueName: string, choose: (sessionIds: string[]) => string | undefined): string | undefined {
    const queue = this.queue(queueName);
    this.tick(queue);
    const held = [...queue.sessions.values()].filter((s) => s.lock !== undefined && s.locked.size > 0);
    const id = choose(held.map((s) => s.id).sort());
    const session = held.find((s) => s.id === id);
    if (!session) return undefined;
    this.unlockSession(queue, session);
    this.notify();
    return session.id;
  }

  /** Faults injected so far, by `code:operation` (e.g. `ServiceBusy:complete`). */
  faultCounts(): Record<string, number> {
    return this.faults.injected();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.notify();
  }

  // ---- inspection, used by the sandbox driver, the CLI and tests ----

  /** Messages available now in any queue (not locked, not scheduled for later). */
  availableCount(queueName?: string): number {
    let n = 0;
    for (const q of this.selected(queueName)) {
      this.tick(q);
      n += q.main.readyCount;
    }
    return n;
  }

  /** Messages locked by a receiver right now. */
  inFlightCount(queueName?: string): number {
    let n = 0;
    for (const q of this.selected(queueName)) {
      this.tick(q);
      n += q.main.lockedCount;
    }
    return n;
  }

  /** Whether acceptNextSession would find an unlocked session with a message available now. */
  hasAcceptableSession(queueName: string): boolean {
    const q = this.queue(queueName);
    this.tick(q);
    for (;;) {
      const top = q.availableSessions.peek();
      if (!top) return false;
      if (top.session.lock === undefined && top.session.readyCount > 0) return true;
      // Stale (locked or emptied since): acceptNextSession would drop it too; it is pushed again when free.
      q.availableSessions.pop();
    }
  }

  /** The earliest future moment at which something becomes available (scheduled message or lock expiry). */
  nextDueAt(): number | undefined {
    const now = this.clock.nowMs();
    let next: number | undefined;
    const consider = (at: number | undefined): void => {
      if (at !== undefined && at > now && (next === undefined || at < next)) next = at;
    };
    for (const q of this.queues.values()) {
      this.tick(q);
      consider(topKey(q.main.scheduled, (s) => s.where === 'scheduled'));
      consider(topKey(q.main.locks, (s) => s.where === 'locked'));
      consider(topKey(q.dlq.locks, (s) => s.where === 'locked'));
    }
    return next;
  }

  deadLetterMessages(queueName?: string): (ReceivedMessage & { queue: string })[] {
    const out: (ReceivedMessage & { queue: string })[] = [];
    for (const q of this.selected(queueName)) {
      this.tick(q);
      for (const seq of q.dlq.index.from(0, Number.MAX_SAFE_INTEGER)) {
        const s = q.dlq.bySeq.get(seq);
        if (s) out.push({ ...this.view(s), queue: q.options.name });
      }
    }
    return out;
  }

  queueNames(): string[] {
    return [...this.queues.keys()];
  }

  /** Resolves true when something is sent or released, false after `ms` real milliseconds with nothing (or once closed). */
  waitForActivity(ms: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(false), ms);
      const waiters = this.waiters;
      function finish(active: boolean): void {
        clearTimeout(timer);
        const i = waiters.indexOf(done);
        if (i >= 0) waiters.splice(i, 1);
        resolve(active);
      }
      function done(): void {
        finish(true);
      }
      this.waiters.push(done);
    });
  }

  /** Serialisable state for `sandbox run --state DIR`: locks are not kept (a new run redelivers). */
  snapshot(): unknown {
    const saved = (s: StoredMessage) => ({
      seq: s.seq,
      message: s.message,
      enqueuedAt: s.enqueuedAt,
      availableAt: s.availableAt,
      expiresAt: s.expiresAt,
      deliveryCount: s.deliveryCount,
      lockToken: null,
      lockedUntil: 0,
      ...(s.deadLetter ? { deadLetter: s.deadLetter } : {}),
    });
    return {
      seq: this.seq,
      queues: [...this.queues.values()].map((q) => ({
        name: q.options.name,
        active: [...q.main.bySeq.values()].sort((a, b) => a.seq - b.seq).map(saved),
        deadLetters: [...q.dlq.bySeq.values()].sort((a, b) => a.seq - b.seq).map(saved),
        seenIds: [...q.seenIds.entries()],
        sessionState: [...q.sessions.values()].filter((s) => s.state !== undefined).map((s) => [s.id, s.state]),
      })),
    };
  }

  restore(snapshot: unknown): void {
    type Saved = Omit<StoredMessage, 'size' | 'where' | 'version' | 'expiresAt'> & { expiresAt: number | null };
    const data = snapshot as {
      seq: number;
      queues: { name: string; active: Saved[]; deadLetters: Saved[]; seenIds: [string, number][]; sessionState?: [string, unknown][] }[];
    };
    this.seq = Math.max(this.seq, data.seq);
    const now = this.clock.nowMs();
    for (const saved of data.queues) {
      const q = this.queues.get(saved.name);
      if (!q) continue;
      // JSON has no Infinity: a message without TTL comes back with expiresAt null.
      const revive = (m: Saved): StoredMessage => ({
        ...m,
        size: messageBytes(m.message),
        expiresAt: m.expiresAt ?? Number.POSITIVE_INFINITY,
        lockToken: null,
        lockedUntil: 0,
        where: 'gone',
        version: 0,
      });
      for (const m of saved.active) {
        const s = revive(m);
        q.main.bySeq.set(s.seq, s);
        q.main.index.add(s.seq);
        if (q.options.requiresSession) this.session(q, s.message.sessionId ?? '').index.add(s.seq);
        if (s.availableAt > now) this.schedule(q, s);
        else this.makeReady(q, q.main, s);
      }
      for (const m of saved.deadLetters) {
        const s = revive(m);
        // A state written before dead letters carried their reason as properties.
        if (s.deadLetter) {
          s.message.applicationProperties = {
            DeadLetterReason: s.deadLetter.reason,
            DeadLetterErrorDescription: s.deadLetter.description,
            ...s.message.applicationProperties,
          };
        }
        s.expiresAt = Number.POSITIVE_INFINITY;
        q.dlq.bySeq.set(s.seq, s);
        q.dlq.index.add(s.seq);
        this.makeReady(q, q.dlq, s);
      }
      for (const [id, at] of saved.seenIds) this.remember(q, id, at);
      for (const [id, state] of saved.sessionState ?? []) this.session(q, id).state = state;
    }
  }

  // ---- internals ----

  private fault(operation: BusOperation, queue: string): void {
    this.faults.check(operation, queue);
  }

  private queue(name: string): QueueState {
    const q = this.queues.get(name);
    if (!q) throw new BusError('MessagingEntityNotFound', `Queue '${name}' does not exist.`);
    return q;
  }

  private selected(name?: string): QueueState[] {
    return name === undefined ? [...this.queues.values()] : [this.queue(name)];
  }

  private session(queue: QueueState, id: string): SessionState {
    let s = queue.sessions.get(id);
    if (!s) {
      s = { id, ready: new MinHeap(byKeyThenSeq), readyCount: 0, locked: new Set(), index: new SequenceIndex(() => false) };
      const owner = s;
      // A session's index holds sequence numbers of the main queue; alive when still there for this session.
      s.index = new SequenceIndex((seq) => queue.main.bySeq.get(seq)?.message.sessionId === owner.id);
      queue.sessions.set(id, s);
    }
    return s;
  }

  private validate(queue: QueueState, message: OutgoingMessage): number {
    return checkOutgoingMessage(message, queue.options);
  }

  private remember(queue: QueueState, id: string, at: number): void {
    queue.seenIds.set(id, at);
    queue.seenOrder.push({ id, at });
  }

  /** Duplicate detection: true when the id was seen within the window. Forgets older ids in O(1) amortised. */
  private isDuplicate(queue: QueueState, id: string, now: number): boolean {
    const window = queue.options.duplicateDetectionWindowMs;
    while (queue.seenHead < queue.seenOrder.length) {
      const oldest = queue.seenOrder[queue.seenHead] as { id: string; at: number };
      if (now - oldest.at < window) break;
      if (queue.seenIds.get(oldest.id) === oldest.at) queue.seenIds.delete(oldest.id);
      queue.seenHead += 1;
    }
    if (queue.seenHead > 1024 && queue.seenHead * 2 > queue.seenOrder.length) {
      queue.seenOrder = queue.seenOrder.slice(queue.seenHead);
      queue.seenHead = 0;
    }
    const seenAt = queue.seenIds.get(id);
    return seenAt !== undefined && now - seenAt < window;
  }

  private enqueue(queue: QueueState, message: OutgoingMessage, size: number, availableAt: number): StoredMessage | undefined {
    const now = this.clock.nowMs();
    const messageId = message.messageId ?? randomUUID().replaceAll('-', '');
    if (queue.options.requiresDuplicateDetection) {
      if (this.isDuplicate(queue, messageId, now)) return undefined;
      this.remember(queue, messageId, now);
    }
    // Service Bus: the smaller of the message's and the queue's time to live, from the enqueue time.
    const ttl = Math.min(message.timeToLive ?? Number.POSITIVE_INFINITY, queue.options.defaultMessageTimeToLiveMs);
    const stored: StoredMessage = {
      seq: ++this.seq,
      message: structuredClone({ ...message, messageId }),
      size,
      enqueuedAt: availableAt,
      availableAt,
      expiresAt: availableAt + ttl,
      deliveryCount: 0,
      lockToken: null,
      lockedUntil: 0,
      where: 'gone',
      version: 0,
    };
    queue.main.bySeq.set(stored.seq, stored);
    queue.main.index.add(stored.seq);
    if (queue.options.requiresSession) this.session(queue, stored.message.sessionId ?? '').index.add(stored.seq);
    if (availableAt > now) this.schedule(queue, stored);
    else this.makeReady(queue, queue.main, stored);
    this.notify();
    return stored;
  }

  private schedule(queue: QueueState, s: StoredMessage): void {
    s.where = 'scheduled';
    s.version += 1;
    queue.main.scheduled.push(entry(s.availableAt, s));
  }

  private makeReady(queue: QueueState, entity: Entity, s: StoredMessage): void {
    s.where = 'ready';
    s.version += 1;
    s.lockToken = null;
    s.lockedUntil = 0;
    entity.readyCount += 1;
    if (Number.isFinite(s.expiresAt)) entity.expiries.push(entry(s.expiresAt, s));
    if (entity === queue.main && queue.options.requiresSession) {
      const session = this.session(queue, s.message.sessionId ?? '');
      session.ready.push(entry(s.seq, s));
      session.readyCount += 1;
      if (session.lock === undefined) queue.availableSessions.push({ key: s.seq, seq: ++this.seq, session });
    } else {
      entity.ready.push(entry(s.seq, s));
    }
  }

  /** Takes the next ready message off a heap; an expired one goes to its fate on the way. */
  private popReady(queue: QueueState, heap: MinHeap<Entry>): StoredMessage | undefined {
    const now = this.clock.nowMs();
    for (;;) {
      const e = heap.pop();
      if (!e) return undefined;
      const s = e.message;
      if (s.version !== e.version || s.where !== 'ready') continue;
      const entity = s.deadLetter ? queue.dlq : queue.main;
      entity.readyCount -= 1;
      if (!s.deadLetter && s.expiresAt <= now) {
        if (queue.options.requiresSession) this.session(queue, s.message.sessionId ?? '').readyCount -= 1;
        this.expire(queue, s);
        continue;
      }
      return s;
    }
  }

  private lock(queue: QueueState, entity: Entity, s: StoredMessage, until: number, countDelivery: boolean): ReceivedMessage {
    if (countDelivery) s.deliveryCount += 1;
    s.where = 'locked';
    s.version += 1;
    s.lockToken = randomUUID();
    s.lockedUntil = until;
    entity.byToken.set(s.lockToken, s);
    entity.lockedCount += 1;
    // Session messages share the session's lock (released with it); the entry still tells nextDueAt.
    entity.locks.push(entry(until, s));
    const view: Delivered = this.view(s);
    view[LOCK_TOKEN] = s.lockToken;
    return view;
  }

  /** The message a settlement or renewal names, if its lock is still held; else MessageLockLost. */
  private locked(queue: QueueState, entity: Entity, message: ReceivedMessage): StoredMessage {
    this.tick(queue);
    const token = (message as Delivered)[LOCK_TOKEN];
    const s = token ? entity.byToken.get(token) : undefined;
    if (!s || s.where !== 'locked' || s.lockToken !== token || s.lockedUntil <= this.clock.nowMs()) {
      throw new BusError(
        'MessageLockLost',
        `The lock supplied is invalid. Either the lock expired, or the message has already been removed from the queue (message '${String(message.messageId ?? '?')}').`,
      );
    }
    return s;
  }

  private unlock(entity: Entity, s: StoredMessage): void {
    if (s.where === 'locked') {
      entity.lockedCount -= 1;
      if (s.lockToken) entity.byToken.delete(s.lockToken);
      s.where = 'gone';
      s.version += 1;
    }
    s.lockToken = null;
    s.lockedUntil = 0;
  }

  private remove(entity: Entity, s: StoredMessage): void {
    this.unlock(entity, s);
    s.where = 'gone';
    s.version += 1;
    entity.bySeq.delete(s.seq);
    entity.index.removed1();
  }

  /** Lock ended without completion (abandon, expiry, session closed): back, or dead past max deliveries. */
  private release(queue: QueueState, entity: Entity, s: StoredMessage): void {
    this.unlock(entity, s);
    if (entity === queue.dlq) {
      this.makeReady(queue, entity, s);
      return;
    }
    if (s.deliveryCount >= queue.options.maxDeliveryCount) {
      this.moveToDeadLetter(
        queue,
        s,
        'MaxDeliveryCountExceeded',
        `Message could not be consumed after ${queue.options.maxDeliveryCount} delivery attempts.`,
      );
      return;
    }
    if (s.expiresAt <= this.clock.nowMs()) {
      this.expire(queue, s);
      return;
    }
    this.makeReady(queue, entity, s);
  }

  private expire(queue: QueueState, s: StoredMessage): void {
    if (queue.options.deadLetteringOnMessageExpiration) {
      this.moveToDeadLetter(queue, s, 'TTLExpiredException', TTL_DESCRIPTION);
    } else {
      this.remove(queue.main, s);
    }
  }

  private deadLetterFromOptions(queue: QueueState, s: StoredMessage, options?: DeadLetterOptions & ApplicationProperties): void {
    const { deadLetterReason, deadLetterErrorDescription, ...props } = options ?? { deadLetterReason: '', deadLetterErrorDescription: '' };
    this.moveToDeadLetter(queue, s, deadLetterReason ?? '', deadLetterErrorDescription ?? '', props);
  }

  /** Service Bus keeps the sequence number and writes the reason into the application properties. */
  private moveToDeadLetter(queue: QueueState, s: StoredMessage, reason: string, description: string, properties: ApplicationProperties = {}): void {
    this.remove(queue.main, s);
    const moved: StoredMessage = {
      ...s,
      message: {
        ...s.message,
        applicationProperties: {
          ...s.message.applicationProperties,
          ...properties,
          DeadLetterReason: reason,
          DeadLetterErrorDescription: description,
        },
      },
      // Messages in a dead-letter subqueue do not expire.
      expiresAt: Number.POSITIVE_INFINITY,
      lockToken: null,
      lockedUntil: 0,
      deadLetter: { reason, description },
      where: 'gone',
      version: 0,
    };
    queue.dlq.bySeq.set(moved.seq, moved);
    queue.dlq.index.add(moved.seq);
    this.makeReady(queue, queue.dlq, moved);
  }

  private unlockSession(queue: QueueState, session: SessionState): void {
    session.lock = undefined;
    for (const s of [...session.locked]) {
      session.locked.delete(s);
      this.release(queue, queue.main, s);
    }
    if (session.readyCount > 0) {
      const head = validTop(session.ready);
      queue.availableSessions.push({ key: head?.seq ?? 0, seq: ++this.seq, session });
    }
  }

  /** Resolves once `expired()` holds, as seen by a tick of `queue` (time's consequences on the broker). */
  private arrivesOnceExpired(queue: QueueState, expired: () => boolean): Promise<void> {
    this.tick(queue);
    if (expired()) return Promise.resolve();
    return new Promise((arrive) => this.lateArrivals.push({ queue, expired, arrive }));
  }

  /**
   * Moves simulated time's consequences into the queue: scheduled messages that are due become
   * ready, expired locks are released, expired messages are dead-lettered (or dropped). Each step
   * pops only what is due. Then the late lock renewals whose lock has expired arrive.
   */
  private tick(queue: QueueState): void {
    this.expireLocks(queue);
    if (this.lateArrivals.length === 0) return;
    const arrived = this.lateArrivals.filter((a) => a.queue === queue && a.expired());
    if (arrived.length === 0) return;
    this.lateArrivals = this.lateArrivals.filter((a) => !arrived.includes(a));
    for (const a of arrived) a.arrive();
  }

  private expireLocks(queue: QueueState): void {
    const now = this.clock.nowMs();
    const main = queue.main;
    for (let e = main.scheduled.peek(); e && e.key <= now; e = main.scheduled.peek()) {
      main.scheduled.pop();
      if (e.version === e.message.version && e.message.where === 'scheduled') this.makeReady(queue, main, e.message);
    }
    for (;;) {
      const lock = queue.sessionLocks.peek();
      if (!lock || lock.key > now) break;
      queue.sessionLocks.pop();
      const session = lock.session;
      if (session.lock?.token === lock.token && session.lock.until <= now) this.unlockSession(queue, session);
    }
    for (const entity of [main, queue.dlq]) {
      // A session queue's messages are released with their session's lock, above.
      const sessionLocked = entity === main && queue.options.requiresSession;
      for (let e = entity.locks.peek(); e && e.key <= now; e = entity.locks.peek()) {
        entity.locks.pop();
        const s = e.message;
        if (!sessionLocked && e.version === s.version && s.where === 'locked' && s.lockedUntil <= now) this.release(queue, entity, s);
      }
    }
    for (let e = main.expiries.peek(); e && e.key <= now; e = main.expiries.peek()) {
      main.expiries.pop();
      const s = e.message;
      if (e.version !== s.version || s.where !== 'ready') continue;
      main.readyCount -= 1;
      if (queue.options.requiresSession) this.session(queue, s.message.sessionId ?? '').readyCount -= 1;
      this.expire(queue, s);
    }
  }

  private peek(entity: Entity, index: SequenceIndex, max: number, fromSequenceNumber: unknown): ReceivedMessage[] {
    const from = fromSequenceNumber === undefined ? entity.lastPeeked + 1 : Number(fromSequenceNumber);
    const out = index.from(from, max).map((seq) => this.view(entity.bySeq.get(seq) as StoredMessage));
    const last = out[out.length - 1];
    if (last) entity.lastPeeked = Number(last.sequenceNumber);
    return out;
  }

  private view(s: StoredMessage): ReceivedMessage {
    const m = structuredClone(s.message);
    return {
      ...m,
      deliveryCount: s.deliveryCount,
      enqueuedTimeUtc: new Date(s.enqueuedAt),
      sequenceNumber: s.seq,
      lockedUntilUtc: s.lockToken ? new Date(s.lockedUntil) : undefined,
      // The SDK reads both from the application properties, where Service Bus puts them.
      ...(s.deadLetter
        ? {
            deadLetterReason: String(m.applicationProperties?.DeadLetterReason ?? ''),
            deadLetterErrorDescription: String(m.applicationProperties?.DeadLetterErrorDescription ?? ''),
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

function entry(key: number, message: StoredMessage): Entry {
  return { key, seq: message.seq, version: message.version, message };
}

/** The key of the first entry that is still current, dropping stale ones on the way. */
function topKey(heap: MinHeap<Entry>, current: (s: StoredMessage) => boolean): number | undefined {
  for (let e = heap.peek(); e; e = heap.peek()) {
    if (e.version === e.message.version && current(e.message)) return e.key;
    heap.pop();
  }
  return undefined;
}

function validTop(heap: MinHeap<Entry>): Entry | undefined {
  for (let e = heap.peek(); e; e = heap.peek()) {
    if (e.version === e.message.version && e.message.where === 'ready') return e;
    heap.pop();
  }
  return undefined;
}

function toArray<T>(value: T | T[]): T[] {
  return Array.isArray(value) ? value : [value];
}
