/**
 * Tracing and metrics as the stages and the worker need them, so that neither depends on an SDK:
 * shared/telemetry/otel.ts implements it with OpenTelemetry (Azure Monitor in production, an
 * in-memory exporter in tests), shared/telemetry/noop.ts with nothing.
 */
export type TelemetryAttributes = Record<string, string | number | boolean | undefined>;

export type SpanKindName = 'server' | 'consumer' | 'producer' | 'internal';

export interface TelemetrySpan {
  /** W3C `traceparent` of this span (empty when telemetry is off): the parent of what it sends. */
  readonly traceparent: string;
  /** The trace id (Application Insights operation id), empty when telemetry is off. */
  readonly traceId: string;
  setAttributes(attributes: TelemetryAttributes): void;
  /** Marks the span failed with the Dialtone error code and message (never a secret). */
  fail(code: string, message: string): void;
  end(): void;
}

export interface SpanOptions {
  kind: SpanKindName;
  /** The `traceparent` the message or request carried, if any. */
  parent?: string | undefined;
  /**
   * Without a usable parent, the trace id is derived from this (shared/telemetry/trace-context.ts),
   * so that every stage of one correlation id lands in one trace even when a hop lost the context.
   */
  correlationId?: string | undefined;
  /** Trace contexts to link (a producer's own trace, when Dialtone starts its own). */
  links?: string[];
  attributes?: TelemetryAttributes;
}

export interface Telemetry {
  startSpan(name: string, options: SpanOptions): TelemetrySpan;
  /** Adds to a counter. */
  count(metric: string, value: number, attributes?: TelemetryAttributes): void;
  /** Records the current value of a gauge. */
  gauge(metric: string, value: number, attributes?: TelemetryAttributes): void;
}
