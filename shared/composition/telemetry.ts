import type { TokenCredential } from '@azure/identity';
import { loadTelemetrySettings } from '../config/telemetry-settings.js';
import type { Telemetry } from '../ports/telemetry.js';
import { startAzureMonitor } from '../telemetry/azure-monitor.js';

/** The function app's telemetry (Azure Monitor when APPLICATIONINSIGHTS_CONNECTION_STRING is set). */
export function productionTelemetry(credential: TokenCredential): Telemetry {
  return startAzureMonitor(loadTelemetrySettings(), { name: 'dialtone-functions', credential });
}
