import type { ApplicationProperties, OutgoingMessage } from '../../shared/ports/bus.js';

/** Standard tier: a message (body and headers) is at most 256 KB, and so is one batch. */
export const MAX_MESSAGE_BYTES = 256 * 1024;
/** Standard tier: all headers (application and system properties) of a message ≤ 64 KB. */
export const MAX_HEADER_BYTES = 64 * 1024;
/** Standard tier: one application property ≤ 32 KB. */
export const MAX_PROPERTY_BYTES = 32 * 1024;
/** Message, session and correlation ids: at most 128 characters. */
export const MAX_ID_LENGTH = 128;

// AMQP encodes a string or binary in 2 bytes of constructor and length up to 255 bytes, 5 above.
function amqpString(bytes: number): number {
  return bytes + (bytes <= 255 ? 2 : 5);
}

function textBytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

function valueBytes(value: ApplicationProperties[string]): number {
  if (value === null) return 1;
  if (typeof value === 'string') return amqpString(textBytes(value));
  if (typeof value === 'boolean') return 1;
  if (value instanceof Date) return 9;
  return 9;
}

/** The encoded bytes of one application property, key and value, as the broker counts it. */
export function propertyBytes(key: string, value: ApplicationProperties[string]): number {
  return amqpString(textBytes(key)) + valueBytes(value);
}

/** The body as the SDK puts it on the wire: text and bytes as they are, anything else as JSON. */
export function bodyBytes(body: unknown): number {
  if (body === undefined || body === null) return 1;
  if (typeof body === 'string') return amqpString(textBytes(body));
  if (Buffer.isBuffer(body) || body instanceof Uint8Array) return amqpString(body.byteLength);
  return amqpString(textBytes(JSON.stringify(body) ?? 'null'));
}

/** Bytes of the headers: the system properties Dialtone sets and every application property. */
export function headerBytes(message: OutgoingMessage): number {
  // Header, properties and annotations sections; calibrated so a Dialtone message is never
  // estimated below what rhea (the SDK's AMQP encoder) produces for it.
  let bytes = 40;
  for (const field of [message.messageId, message.sessionId, message.correlationId, message.subject, message.contentType]) {
    if (field !== undefined) bytes += amqpString(textBytes(field));
  }
  if (message.timeToLive !== undefined) bytes += 5;
  for (const [key, value] of Object.entries(message.applicationProperties ?? {})) bytes += propertyBytes(key, value);
  return bytes;
}

/** An estimate of the AMQP-encoded size of a message, the figure Service Bus's limits apply to. */
export function messageBytes(message: OutgoingMessage): number {
  return headerBytes(message) + bodyBytes(message.body);
}

/** What one more message adds to a batch (the SDK adds 5 bytes of framing up to 255 bytes, 8 above). */
export function batchedBytes(size: number): number {
  return size + (size <= 255 ? 5 : 8);
}

/** The batch envelope that holds the messages. */
export const BATCH_ENVELOPE_BYTES = 64;
