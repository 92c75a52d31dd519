import type { ErrorClass } from '../contracts/messages.js';
import type { ErrorCode } from './errors.js';

/** The `error` object of a failed protocol response (docs/PWSH-PROTOCOL.md). */
export interface CmdletErrorInfo {
  type?: string | null;
  message: string;
  cmdlet?: string;
  category?: string | null;
  fullyQualifiedErrorId?: string | null;
}

/** How the pwsh process itself failed, as opposed to a cmdlet inside it. */
export type ProcessFailureKind = 'timeout' | 'crash' | 'exit' | 'protocol' | 'spawn';

export interface Classification {
  class: ErrorClass;
  code: ErrorCode;
  /** The session must connect again before the retry (expired token). */
  reconnect: boolean;
  /** The session is unusable: kill it and retry on a fresh process. */
  replaceSession: boolean;
  /** The number another user holds, for conflicts. */
  number?: string;
  /** A wait the service asked for, when the message says so. */
  retryAfterMs?: number;
}

const CONFLICT = /has already been assigned to another user|already assigned to another (user|target)|is already assigned/i;
// "session availability is Busy": the tenant's concurrent-session limit (FIELD-NOTES), throttling by another name.
const THROTTLED = /throttl|too many requests|\b429\b|rate limit|session availability is busy/i;
const UNAVAILABLE = /service is unavailable|service unavailable|\b50[234]\b|bad gateway|gateway timeout|temporarily unavailable|please try again/i;
const UNAUTHORIZED = /unauthori[sz]ed|invalid credential|\b401\b|token (has )?expired|run connect-microsoftteams/i;
const POLICY_NOT_FOUND = /cannot find policy|policy .*(was )?not found|policy not found|cannot get policy/i;
const NOT_VOICE_CAPABLE = /not licensed|not voice[- ]?(capable|enabled)|phonesystem|phone system license|does not have a valid license|MCOEV/i;
const USER_NOT_FOUND = /management object not found|couldn't find (the )?(user|object)|user .*not found|cannot find (the )?user|object .* was not found/i;
const NUMBER = /\+?\d{7,15}(;ext=\d{1,10})?/i;
const RETRY_AFTER = /retry[- ]after:?\s*(\d+)|try again in (\d+) ?s/i;

function retryAfter(message: string): number | undefined {
  const match = RETRY_AFTER.exec(message);
  const seconds = Number(match?.[1] ?? match?.[2]);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined;
}

/** The telephone number quoted in a conflict message, normalised to `+digits`. */
export function conflictNumber(message: string): string | undefined {
  const match = NUMBER.exec(message);
  if (!match) return undefined;
  return match[0].startsWith('+') ? match[0] : `+${match[0]}`;
}

/**
 * A failed cmdlet → what to do about it, from the messages Teams PowerShell is known to give
 * (FIELD-NOTES): conflicts are decided by `record`, transient ones retried, the rest reported.
 */
export function classifyCmdletError(error: CmdletErrorInfo): Classification {
  const text = `${error.message} ${error.fullyQualifiedErrorId ?? ''}`;
  const base = { reconnect: false, replaceSession: false };
  if (CONFLICT.test(text)) {
    const number = conflictNumber(error.message);
    return { ...base, class: 'conflict', code: 'NumberConflict', ...(number ? { number } : {}) };
  }
  if (THROTTLED.test(text)) {
    const wait = retryAfter(error.message);
    return { ...base, class: 'transient', code: 'Throttled', ...(wait ? { retryAfterMs: wait } : {}) };
  }
  if (UNAUTHORIZED.test(text)) return { ...base, class: 'transient', code: 'SessionBroken', reconnect: true };
  if (UNAVAILABLE.test(text)) {
    const wait = retryAfter(error.message);
    return { ...base, class: 'transient', code: 'ServiceUnavailable', ...(wait ? { retryAfterMs: wait } : {}) };
  }
  if (POLICY_NOT_FOUND.test(text)) return { ...base, class: 'permanent', code: 'PolicyNotFound' };
  if (NOT_VOICE_CAPABLE.test(text)) return { ...base, class: 'permanent', code: 'UserNotVoiceCapable' };
  // Teams learns about a new Entra user minutes to hours later: worth another delivery.
  if (USER_NOT_FOUND.test(text)) return { ...base, class: 'transient', code: 'UserNotFound' };
  return { ...base, class: 'permanent', code: 'CmdletFailed' };
}

/** A pwsh process that hung, died or spoke garbage: always transient, always replaced. */
export function classifyProcessFailure(kind: ProcessFailureKind): Classification {
  return {
    class: 'transient',
    code: kind === 'timeout' ? 'Timeout' : 'SessionBroken',
    reconnect: false,
    replaceSession: true,
  };
}

/** AssignedPstnTargetId of the first row of `Get-CsPhoneNumberAssignment -TelephoneNumber n`. */
export function ownerFromAssignments(rows: unknown): string | undefined {
  const list = Array.isArray(rows) ? (rows as unknown[]) : [rows];
  for (const row of list) {
    if (typeof row !== 'object' || row === null) continue;
    const owner = (row as { AssignedPstnTargetId?: unknown }).AssignedPstnTargetId;
    if (typeof owner === 'string' && owner.trim() !== '') return owner;
  }
  return undefined;
}
