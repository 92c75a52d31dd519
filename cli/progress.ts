import type { CliIo } from './io.js';

/**
 * Progress of a long operation, on stderr. On a terminal: an `ora` spinner with a status line
 * that changes in place, shown from the start. Otherwise (a pipe, a log file, CI): one plain
 * heartbeat line every DIALTONE_HEARTBEAT_SECONDS (default 10) while the work lasts, so a long
 * run is visibly alive without flooding the log.
 */
export interface Progress {
  /** The current status ("1,204 messages handled, 36 queued"). Cheap: call it as often as you like. */
  update(status: string): void;
  /** Ends the progress; `summary` (if any) is printed as a final line on stderr. */
  stop(summary?: string): void;
}

interface Spinner {
  text: string;
  start(): Spinner;
  stop(): Spinner;
  succeed(text?: string): Spinner;
}

export async function startProgress(io: CliIo, label: string): Promise<Progress> {
  const started = Date.now();
  const elapsed = () => `${Math.round((Date.now() - started) / 1000)} s`;
  let status = 'starting';
  if (io.stderrIsTTY && io.progressStream) {
    const { default: ora } = await import('ora');
    const spinner: Spinner = ora({ text: `${label}: ${status}`, stream: io.progressStream, discardStdin: false }).start();
    let last = 0;
    return {
      update(next) {
        status = next;
        const now = Date.now();
        if (now - last < 80) return;
        last = now;
        spinner.text = `${label}: ${status} (${elapsed()})`;
      },
      stop(summary) {
        if (summary) spinner.succeed(`${label}: ${summary} (${elapsed()})`);
        else spinner.stop();
      },
    };
  }
  const seconds = Number.parseFloat(io.env?.DIALTONE_HEARTBEAT_SECONDS ?? '');
  const everyMs = Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 10_000;
  const timer = setInterval(() => io.err(`dialtone: ${label}: ${status} (${elapsed()})`), everyMs);
  timer.unref();
  return {
    update(next) {
      status = next;
    },
    stop(summary) {
      clearInterval(timer);
      if (summary && Date.now() - started >= everyMs) io.err(`dialtone: ${label}: ${summary} (${elapsed()})`);
    },
  };
}

/** A progress that shows nothing (tests, and commands asked for `-o none` … still show errors). */
export const noProgress: Progress = { update: () => undefined, stop: () => undefined };
