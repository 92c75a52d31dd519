import type { CmdletErrorInfo } from '../domain/error-classification.js';

export type TenantSetupOutcome = { ok: true; result: unknown } | { ok: false; error: CmdletErrorInfo };

/**
 * A connected Teams PowerShell session opened for tenant set-up (the pwsh host in its
 * `TenantSetup` scope, where the tenant-wide set-up cmdlets are allowed). One cmdlet per call,
 * parameters as data.
 */
export interface TenantSetupShell {
  run(cmdlet: string, parameters: Record<string, unknown>): Promise<TenantSetupOutcome>;
}
