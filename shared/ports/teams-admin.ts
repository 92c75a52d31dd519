import type { CmdletErrorInfo } from '../domain/error-classification.js';

export type TeamsCmdletOutcome = { ok: true; result: unknown } | { ok: false; error: CmdletErrorInfo };

/**
 * A connected Teams PowerShell session opened for tenant set-up (the pwsh host in its
 * `TenantSetup` scope, where the tenant-wide set-up cmdlets are allowed). One cmdlet per call,
 * parameters as data.
 */
export interface TeamsAdminShell {
  run(cmdlet: string, parameters: Record<string, unknown>): Promise<TeamsCmdletOutcome>;
}
