/**
 * One error type for everything Dialtone expects to go wrong. The `code` doubles as the
 * dead-letter reason an operator sees, so it is a closed union and never free text.
 */
export const errorCodes = [
  'InvalidMessage',
  'UserNotFound',
  'UserAmbiguous',
  'NotLicensed',
  /** Licensed in Entra ID, but Teams has not finished provisioning the user (no PhoneSystem feature yet). */
  'TeamsNotProvisioned',
  'PolicyInvalid',
  'PolicyNotFound',
  'CallingLineIdentityNotFound',
  'CallingLineIdentityAmbiguous',
  'PoolNotFound',
  'PoolExhausted',
  'NumberConflict',
  'NumberInvalid',
  'UserNotVoiceCapable',
  'CmdletFailed',
  'VerificationFailed',
  'Throttled',
  'ServiceUnavailable',
  'SessionBroken',
  'Timeout',
  'ConfigInvalid',
  'CertificateInvalid',
  'ReplayLimitExceeded',
  /** Graph backend: a number operation still running after every poll. */
  'OperationPending',
  /** Graph backend: a step Graph cannot take and no PowerShell worker to hand it to. */
  'GraphUnsupported',
  /** The installed MicrosoftTeams module would not bind a command (a parameter renamed or gone). */
  'ModuleIncompatible',
  'Unexpected',
] as const;

export type ErrorCode = (typeof errorCodes)[number];

export interface DialtoneErrorOptions {
  /** Worth trying again later (throttling, outage, broken session). */
  transient?: boolean;
  /** How long the service asked us to wait (Retry-After), when it said so. */
  retryAfterMs?: number;
  /** Structured facts for the operator (never secrets). */
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class DialtoneError extends Error {
  override readonly name = 'DialtoneError';
  readonly code: ErrorCode;
  readonly transient: boolean;
  readonly retryAfterMs: number | undefined;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: DialtoneErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.transient = options.transient ?? false;
    this.retryAfterMs = options.retryAfterMs;
    this.details = options.details ?? {};
  }
}

/** Checks the name, not `instanceof`, so errors survive module duplication and structured clones. */
export function isDialtoneError(value: unknown): value is DialtoneError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { name?: unknown }).name === 'DialtoneError' &&
    typeof (value as { code?: unknown }).code === 'string'
  );
}

/** Turns anything thrown into a DialtoneError; unknown failures become `Unexpected`. */
export function toDialtoneError(value: unknown): DialtoneError {
  if (isDialtoneError(value)) return value;
  const message = value instanceof Error ? value.message : String(value);
  return new DialtoneError('Unexpected', message, { cause: value });
}
