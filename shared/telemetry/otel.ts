import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  trace,
  type Attributes,
  type Counter,
  type Gauge,
  type Link,
  type Meter,
  type Tracer,
} from '@opentelemetry/api';
import type { SpanOptions, Telemetry, TelemetryAttributes, TelemetrySpan } from '../ports/telemetry.js';
import { formatTraceparent, parseTraceparent, rootParentForCorrelation, type TraceParent } from './trace-context.js';

const kinds = { server: SpanKind.SERVER, consumer: SpanKind.CONSUMER, producer: SpanKind.PRODUCER, internal: SpanKind.INTERNAL } as const;

function clean(attributes: TelemetryAttributes | undefined): Attributes {
  const out: Attributes = {};
  for (const [key, value] of Object.entries(attributes ?? {})) if (value !== undefined) out[key] = value;
  return out;
}

function remote(parent: TraceParent) {
  return { traceId: parent.traceId, spanId: parent.spanId, traceFlags: parent.sampled ? TraceFlags.SAMPLED : TraceFlags.NONE, isRemote: true };
}

/**
 * Telemetry over an OpenTelemetry tracer and meter. Context is passed explicitly (a span's
 * traceparent goes onto the messages it sends), so nothing depends on a global context manager.
 */
export function createOtelTelemetry(options: { tracer: Tracer; meter: Meter }): Telemetry {
  const counters = new Map<string, Counter>();
  const gauges = new Map<string, Gauge>();
  return {
    startSpan(name: string, o: SpanOptions): TelemetrySpan {
      const parent = parseTraceparent(o.parent) ?? (o.correlationId !== undefined ? rootParentForCorrelation(o.correlationId) : undefined);
      const context = parent ? trace.setSpanContext(ROOT_CONTEXT, remote(parent)) : ROOT_CONTEXT;
      const links: Link[] = (o.links ?? []).map(parseTraceparent).filter((l): l is TraceParent => l !== undefined).map((l) => ({ context: remote(l) }));
      const span = options.tracer.startSpan(name, { kind: kinds[o.kind], attributes: clean(o.attributes), links }, context);
      const sc = span.spanContext();
      const valid = /^[0-9a-f]{32}$/.test(sc.traceId) && !/^0+$/.test(sc.traceId);
      return {
        traceparent: valid ? formatTraceparent({ traceId: sc.traceId, spanId: sc.spanId, sampled: (sc.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED }) : '',
        traceId: valid ? sc.traceId : '',
        setAttributes: (attributes) => span.setAttributes(clean(attributes)),
        fail: (code, message) => {
          span.setAttributes({ 'dialtone.code': code });
          span.setStatus({ code: SpanStatusCode.ERROR, message: `${code}: ${message}`.slice(0, 1024) });
        },
        end: () => span.end(),
      };
    },
    count(metric, value, attributes) {
      let counter = counters.get(metric);
      if (!counter) {
        counter = options.meter.createCounter(metric);
        counters.set(metric, counter);
      }
      counter.add(value, clean(attributes));
    },
    gauge(metric, value, attributes) {
      let gauge = gauges.get(metric);
      if (!gauge) {
        gauge = options.meter.createGauge(metric);
        gauges.set(metric, gauge);
      }
      gauge.record(value, clean(attributes));
    },
  };
}
