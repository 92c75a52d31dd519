import { type Command, InvalidArgumentError, Option } from 'commander';

/**
 * Option values are parsed and checked by commander through these parsers, so a bad value is a
 * usage error (exit 2) naming the option, never a silent default: `--limit abc`, `--limit 0`,
 * `--workers abc` are refused before the command runs.
 */
export function integer(bounds: { min?: number; max?: number } = {}): (value: string) => number {
  const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = bounds;
  const range =
    min === Number.MIN_SAFE_INTEGER && max === Number.MAX_SAFE_INTEGER
      ? 'a whole number'
      : max === Number.MAX_SAFE_INTEGER
        ? `a whole number of at least ${min}`
        : `a whole number from ${min} to ${max}`;
  return (value: string) => {
    if (!/^[+-]?\d+$/.test(value.trim())) throw new InvalidArgumentError(`expected ${range}, got '${value}'.`);
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected ${range}, got '${value}'.`);
    return n;
  };
}

/** A moment given as an age (`45s`, `30m`, `2h`, `7d`: that long before now) or an ISO date. */
export type Moment = { ago: number } | { at: Date };

const DURATION = /^(\d+)([smhd])$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export function parseMomentArg(value: string): Moment {
  const match = DURATION.exec(value.trim());
  if (match) return { ago: Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS] };
  // A bare number is neither an age nor a date (Date.parse would take '5' as the year 2005).
  const at = /\d{4}-\d{2}-\d{2}/.test(value) ? new Date(value) : new Date(Number.NaN);
  if (Number.isNaN(at.getTime())) throw new InvalidArgumentError(`expected an age (45s, 30m, 2h, 7d) or an ISO date, got '${value}'.`);
  return { at };
}

/** The moment on a clock: `--older-than 2h` in a sandbox means two hours of sandbox time. */
export function momentOn(moment: Moment, now: Date): Date {
  return 'at' in moment ? moment.at : new Date(now.getTime() - moment.ago);
}

/** `--top N --skip N` for a list command (the Azure CLI's names). */
export interface PageOptions {
  top?: number;
  skip?: number;
}

export function withPaging(command: Command, what = 'items'): Command {
  return command
    .addOption(new Option('--top <n>', `show at most this many ${what}`).argParser(integer({ min: 1 })))
    .addOption(new Option('--skip <n>', `skip this many ${what} first (with --top: the next page)`).argParser(integer({ min: 0 })));
}

/** `--yes`: required to do something destructive when nobody can be asked (not a terminal). */
export function withYes(command: Command): Command {
  return command.option('-y, --yes', 'do it without asking (required when standard input is not a terminal)');
}

/** The examples section every command's --help ends with. */
export function examples(command: Command, lines: string[]): Command {
  return command.addHelpText('after', `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`);
}
