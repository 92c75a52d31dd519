import type { TokenCredential } from '@azure/identity';
import { useAzureMonitor } from '@azure/monitor-opentelemetry';
import { metrics, trace } from '@opentelemetry/api';
import type { TelemetrySettings } from '../config/telemetry-settings.js';
import type { Telemetry } from '../ports/telemetry.js';
import { noopTelemetry } from './noop.js';
import { createOtelTelemetry } from './otel.js';

let started: Telemetry | undefined;

/**
 * Microsoft's Azure Monitor OpenTelemetry distro for the function app and the worker: traces,
 * metrics and the Azure SDK spans to Application Insights, authenticated with Entra ID (the
 * component has local auth disabled). Off when no connection string is configured. Once per process.
 */
export function startAzureMonitor(settings: TelemetrySettings, options: { name: string; credential: TokenCredential }): Telemetry {
  if (started) return started;
  if (settings.connectionString === undefined) {
    started = noopTelemetry;
    return started;
  }
  useAzureMonitor({
    azureMonitorExporterOptions: {
      connectionString: settings.connectionString,
      ...(settings.entraAuthentication ? { credential: options.credential } : {}),
    },
    // Every span of a person's provisioning is kept: the transaction view must be complete.
    samplingRatio: 1,
  });
  started = createOtelTelemetry({ tracer: trace.getTracer(options.name), meter: metrics.getMeter(options.name) });
  return started;
}
