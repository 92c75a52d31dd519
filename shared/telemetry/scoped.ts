import type { Telemetry, TelemetryAttributes } from '../ports/telemetry.js';
import { attributeNames } from './names.js';

/** Telemetry that adds `extra` to every span and metric (the caller's own attributes win). */
export function withAttributes(telemetry: Telemetry, extra: TelemetryAttributes): Telemetry {
  return {
    startSpan: (name, options) => telemetry.startSpan(name, { ...options, attributes: { ...extra, ...options.attributes } }),
    count: (metric, value, attributes) => telemetry.count(metric, value, { ...extra, ...attributes }),
    gauge: (metric, value, attributes) => telemetry.gauge(metric, value, { ...extra, ...attributes }),
  };
}

/** Telemetry split by the tenant a message names (`dialtone.tenant`); unchanged when it names none. */
export function forTenant(telemetry: Telemetry, message: unknown): Telemetry {
  const tenantId = (message as { tenantId?: unknown } | null | undefined)?.tenantId;
  return typeof tenantId === 'string' && tenantId !== '' ? withAttributes(telemetry, { [attributeNames.tenant]: tenantId }) : telemetry;
}
