import { CommanderError } from 'commander';
import { isDialtoneError } from '../shared/domain/errors.js';

/** Exit codes of every `dialtone` command (README "Exit codes"). */
export const ExitCode = {
  /** The command did what it was asked; dead letters found or reported are results. */
  ok: 0,
  /** A check or an operation failed (doctor found a fault, a replay was refused, not found). */
  failed: 1,
  /** Usage error or unusable input: bad option, unknown command, a file that cannot be used. */
  usage: 2,
} as const;

/** Wrong use of the command line: exits 2 with the message (and a hint to --help). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** An input file that cannot be used: exits 2; the message names the file and the field. */
export class InputError extends Error {
  override readonly name = 'InputError';
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`${file}: ${detail}`);
  }
}

/** The operation ran and failed (or found nothing to act on): exits 1 with the message. */
export class OperationFailed extends Error {
  override readonly name = 'OperationFailed';
}

/** Error codes of the domain that mean "your input is unusable" rather than "it failed". */
const USAGE_CODES = new Set(['ConfigInvalid']);

/** What a thrown error means for the exit code and the one line on stderr. */
export function describeFailure(error: unknown): { code: number; message: string | undefined } {
  if (error instanceof CommanderError) {
    // commander has already printed its message (and help after an error) on stderr.
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return { code: 0, message: undefined };
    return { code: error.exitCode === 0 ? 0 : ExitCode.usage, message: undefined };
  }
  if (error instanceof UsageError || error instanceof InputError) return { code: ExitCode.usage, message: error.message };
  if (error instanceof OperationFailed) return { code: ExitCode.failed, message: error.message };
  if (error instanceof Error && error.name === 'SandboxInputError') return { code: ExitCode.usage, message: error.message };
  if (isDialtoneError(error)) return { code: USAGE_CODES.has(error.code) ? ExitCode.usage : ExitCode.failed, message: `${error.code}: ${error.message}` };
  return { code: ExitCode.failed, message: error instanceof Error ? error.message : String(error) };
}
