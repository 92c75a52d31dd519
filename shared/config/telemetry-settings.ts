import { z } from 'zod';
import { describeSettingsError } from './settings.js';
import { DialtoneError } from '../domain/errors.js';

const TelemetryEnvSchema = z.object({
  APPLICATIONINSIGHTS_CONNECTION_STRING: z
    .string()
    .trim()
    .regex(/(^|;)\s*(InstrumentationKey|IngestionEndpoint)=/i, 'must be an Application Insights connection string (InstrumentationKey=…;IngestionEndpoint=…)')
    .optional(),
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: z.string().trim().optional(),
  DIALTONE_TELEMETRY: z.enum(['on', 'off']).default('on'),
});

/** Every telemetry setting the app and the worker read. */
export const telemetrySettingNames: readonly string[] = Object.keys(TelemetryEnvSchema.shape);

export interface TelemetrySettings {
  /** Undefined: telemetry is off (no connection string, or DIALTONE_TELEMETRY=off). */
  connectionString: string | undefined;
  /** `Authorization=AAD` in the authentication string: send with an Entra token (local auth off). */
  entraAuthentication: boolean;
}

/** Application Insights for the function app and the worker; off when not configured. */
export function loadTelemetrySettings(env: Record<string, string | undefined> = process.env): TelemetrySettings {
  const parsed = TelemetryEnvSchema.safeParse(env);
  if (!parsed.success) throw new DialtoneError('ConfigInvalid', `Invalid telemetry settings: ${describeSettingsError(parsed.error)}`);
  const on = parsed.data.DIALTONE_TELEMETRY === 'on';
  return {
    connectionString: on ? parsed.data.APPLICATIONINSIGHTS_CONNECTION_STRING : undefined,
    entraAuthentication: /authorization\s*=\s*aad/i.test(parsed.data.APPLICATIONINSIGHTS_AUTHENTICATION_STRING ?? ''),
  };
}
