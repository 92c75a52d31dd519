/**
 * What the stand-in and the server say to each other over loopback HTTP. Kept free of other
 * imports: the stand-in process loads it, and it must start fast.
 */
export const SIM_URL_ENV = 'DIALTONE_TEAMS_SIM_URL';

export interface InvokeBody {
  cmdlet: string;
  parameters: Record<string, unknown>;
  certificate?: unknown;
  /** The stand-in's `-Scope` argument, as host.ps1 takes it. */
  scope?: 'Worker' | 'TenantSetup';
}

export interface WireError {
  type: string;
  message: string;
  category?: string;
  fullyQualifiedErrorId?: string;
}

/** How the stand-in must answer: a normal response, or one of the process-level faults. */
export type InvokeAction =
  | { action: 'respond'; ok: true; result: unknown }
  | { action: 'respond'; ok: false; error: WireError }
  | { action: 'crash'; exitCode: number }
  | { action: 'hang' }
  | { action: 'drop' };

export const CRASH_EXIT_CODE = 134;
