import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader, type DataPoint } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { Telemetry } from '../../shared/ports/telemetry.js';
import { createOtelTelemetry } from '../../shared/telemetry/otel.js';

/** Real OpenTelemetry SDK providers with in-memory exporters, behind Dialtone's telemetry port. */
export function otelHarness(): {
  telemetry: Telemetry;
  spans: () => ReadableSpan[];
  metric: (name: string) => DataPoint<unknown>[];
  collect: () => Promise<void>;
  shutdown: () => Promise<void>;
} {
  const spanExporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spanExporter)] });
  const reader = new PeriodicExportingMetricReader({ exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE), exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  let points = new Map<string, DataPoint<unknown>[]>();
  return {
    telemetry: createOtelTelemetry({ tracer: tracerProvider.getTracer('test'), meter: meterProvider.getMeter('test') }),
    spans: () => spanExporter.getFinishedSpans(),
    metric: (name) => points.get(name) ?? [],
    collect: async () => {
      const { resourceMetrics } = await reader.collect();
      points = new Map();
      for (const scope of resourceMetrics.scopeMetrics) {
        for (const m of scope.metrics) points.set(m.descriptor.name, m.dataPoints as DataPoint<unknown>[]);
      }
    },
    shutdown: async () => {
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
    },
  };
}

/** Sum of a counter's data points whose attributes include `where`. */
export function total(points: DataPoint<unknown>[], where: Record<string, string> = {}): number {
  return points
    .filter((p) => Object.entries(where).every(([k, v]) => p.attributes[k] === v))
    .reduce((sum, p) => sum + Number(p.value), 0);
}
