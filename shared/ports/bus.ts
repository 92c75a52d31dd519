/**
 * Narrow structural views of @azure/service-bus. The real ServiceBusClient satisfies them, and
 * so does the sandbox's in-memory bus, so the worker, the functions' settlement and the CLI run
 * unchanged against either. Only what Dialtone uses is here.
 */

export type ApplicationProperties = Record<string, string | number | boolean | Date | null>;

interface MessageFields {
  body: unknown;
  sessionId?: string;
  subject?: string;
  contentType?: string;
  applicationProperties?: ApplicationProperties;
  timeToLive?: number;
}

/** A message to send (subset of ServiceBusMessage). Dialtone always sends string ids. */
export interface OutgoingMessage extends MessageFields {
  messageId?: string;
  correlationId?: string;
}

/** The SDK types a received message id loosely; Dialtone reads it with String(). */
export type MessageId = string | number | Buffer;

/** A received message (subset of ServiceBusReceivedMessage). */
export interface ReceivedMessage extends MessageFields {
  messageId?: MessageId;
  correlationId?: MessageId;
  deliveryCount?: number;
  enqueuedTimeUtc?: Date;
  sequenceNumber?: unknown;
  lockedUntilUtc?: Date;
  deadLetterReason?: string;
  deadLetterErrorDescription?: string;
  deadLetterSource?: string;
}

/**
 * A batch being filled (ServiceBusMessageBatch): `tryAddMessage` answers false when the message
 * would take the batch past `maxSizeInBytes` (256 KB on the Standard tier), and the batch is
 * then sent with `sendMessages(batch)`. Service Bus refuses an array that does not fit one batch.
 */
export interface BusMessageBatch {
  readonly count: number;
  readonly sizeInBytes: number;
  readonly maxSizeInBytes: number;
  tryAddMessage(message: OutgoingMessage): boolean;
}

export interface CreateMessageBatchOptions {
  maxSizeInBytes?: number;
}

export interface BusSender {
  /** One message, or an array that must fit one batch (else MessageSizeExceeded), or a batch. */
  sendMessages(messages: OutgoingMessage | OutgoingMessage[] | BusMessageBatch): Promise<void>;
  createMessageBatch(options?: CreateMessageBatchOptions): Promise<BusMessageBatch>;
  scheduleMessages(messages: OutgoingMessage | OutgoingMessage[], scheduledEnqueueTimeUtc: Date): Promise<unknown>;
  close(): Promise<void>;
}

export interface DeadLetterOptions {
  deadLetterReason: string;
  deadLetterErrorDescription: string;
}

export interface ReceiveOptions {
  maxWaitTimeInMs?: number;
}

/** Settlement and receive operations common to plain and session receivers. */
export interface BusReceiver {
  receiveMessages(maxMessageCount: number, options?: ReceiveOptions): Promise<ReceivedMessage[]>;
  peekMessages(maxMessageCount: number, options?: { fromSequenceNumber?: unknown }): Promise<ReceivedMessage[]>;
  completeMessage(message: ReceivedMessage): Promise<void>;
  abandonMessage(message: ReceivedMessage, propertiesToModify?: ApplicationProperties): Promise<void>;
  deadLetterMessage(message: ReceivedMessage, options?: DeadLetterOptions & ApplicationProperties): Promise<void>;
  renewMessageLock(message: ReceivedMessage): Promise<Date>;
  close(): Promise<void>;
}

export interface BusSessionReceiver extends Omit<BusReceiver, 'renewMessageLock'> {
  readonly sessionId: string;
  renewSessionLock(): Promise<Date>;
  getSessionState(): Promise<unknown>;
  setSessionState(state: unknown): Promise<void>;
}

export interface AcceptSessionOptions {
  maxAutoLockRenewalDurationInMs?: number;
}

export interface ReceiverOptions {
  subQueueType?: 'deadLetter';
  receiveMode?: 'peekLock' | 'receiveAndDelete';
  maxAutoLockRenewalDurationInMs?: number;
}

/** The part of ServiceBusClient Dialtone uses. */
export interface BusClient {
  createSender(queueName: string): BusSender;
  createReceiver(queueName: string, options?: ReceiverOptions): BusReceiver;
  acceptNextSession(queueName: string, options?: AcceptSessionOptions): Promise<BusSessionReceiver>;
  close(): Promise<void>;
}

/**
 * How a function settles the message it was given. In Azure this is the SDK-binding actions
 * object (complete / abandon / deadletter); in the sandbox the in-memory bus provides it.
 */
export interface MessageActions {
  complete(message: ReceivedMessage): Promise<void>;
  abandon(message: ReceivedMessage): Promise<void>;
  deadletter(
    message: ReceivedMessage,
    propertiesToModify?: Uint8Array,
    deadletterReason?: string,
    deadletterErrorDescription?: string,
  ): Promise<void>;
}

/** A received id as text (the SDK may hand back a number or bytes for foreign producers). */
export function idText(id: MessageId | undefined): string | undefined {
  if (id === undefined) return undefined;
  return Buffer.isBuffer(id) ? id.toString('utf8') : String(id);
}
