import type { Telemetry, TelemetrySpan } from '../ports/telemetry.js';

const span: TelemetrySpan = {
  traceparent: '',
  traceId: '',
  setAttributes: () => undefined,
  fail: () => undefined,
  end: () => undefined,
};

/** Telemetry off: no spans, no metrics, no trace properties on messages. */
export const noopTelemetry: Telemetry = {
  startSpan: () => span,
  count: () => undefined,
  gauge: () => undefined,
};
