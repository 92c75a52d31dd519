import { createHash } from 'node:crypto';

/** W3C trace context helpers, and the application properties Service Bus carries it in. */

export const traceProperties = {
  /** W3C Trace Context, as OpenTelemetry propagates it. */
  traceparent: 'traceparent',
  /** What the Service Bus SDKs and the Functions host read and write (the same traceparent value). */
  diagnosticId: 'Diagnostic-Id',
} as const;

export interface TraceParent {
  traceId: string;
  spanId: string;
  sampled: boolean;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export function parseTraceparent(value: unknown): TraceParent | undefined {
  if (typeof value !== 'string') return undefined;
  const match = TRACEPARENT.exec(value.trim());
  if (!match) return undefined;
  const [, traceId = '', spanId = '', flags = '00'] = match;
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  return { traceId, spanId, sampled: (Number.parseInt(flags, 16) & 1) === 1 };
}

export function formatTraceparent(parent: TraceParent): string {
  return `00-${parent.traceId}-${parent.spanId}-${parent.sampled ? '01' : '00'}`;
}

/** The trace context a message carries: `traceparent`, else `Diagnostic-Id` (when it is W3C). */
export function traceparentOf(properties: Record<string, unknown> | undefined): string | undefined {
  if (!properties) return undefined;
  for (const key of [traceProperties.traceparent, traceProperties.diagnosticId]) {
    const parsed = parseTraceparent(properties[key]);
    if (parsed) return formatTraceparent(parsed);
  }
  return undefined;
}

/** Application properties that make a message a child of `traceparent` (nothing when it is empty). */
export function traceContextProperties(traceparent: string): Record<string, string> {
  if (!parseTraceparent(traceparent)) return {};
  return { [traceProperties.traceparent]: traceparent, [traceProperties.diagnosticId]: traceparent };
}

const hex = (text: string, length: number): string => createHash('sha256').update(text).digest('hex').slice(0, length);

/**
 * The trace id of everything Dialtone does for one correlation id: the operation id that
 * `dialtone status` prints. Derived, so it needs no storage and survives a hop that lost the
 * context (a message replayed from before tracing was on, a producer that sends none).
 */
export function traceIdForCorrelation(correlationId: string): string {
  return hex(`dialtone-trace:${correlationId}`, 32);
}

/** A synthetic remote parent in that trace (the root every stage without a parent hangs under). */
export function rootParentForCorrelation(correlationId: string): TraceParent {
  return { traceId: traceIdForCorrelation(correlationId), spanId: hex(`dialtone-root:${correlationId}`, 16), sampled: true };
}
