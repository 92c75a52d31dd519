/**
 * Where the CLI writes, so tests can capture it. `out` is the result (stdout), `err` is for
 * people (stderr: progress, warnings, errors). The optional fields describe the terminal; a
 * test io without them is a pipe with no colour and no width limit.
 */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  exit(code: number): void;
  /** stdout is a terminal (tables are fitted to it; colour allowed). */
  stdoutIsTTY?: boolean;
  /** stderr is a terminal (animated progress instead of a heartbeat). */
  stderrIsTTY?: boolean;
  /** Terminal width of stdout, when it is a terminal. */
  columns?: number;
  /** Environment read for COLUMNS, NO_COLOR and FORCE_COLOR; defaults to an empty one. */
  env?: Record<string, string | undefined>;
  /** True once the reader of stdout has gone (EPIPE): stop producing output. */
  closed?(): boolean;
  /** The stream progress is drawn on (stderr), for the progress library. */
  progressStream?: NodeJS.WriteStream;
}

let stdoutClosed = false;
let listening = false;

/** A reader that went away (`| head`) ends the output quietly; the exit code stays what it was. */
function listenForEpipe(): void {
  if (listening) return;
  listening = true;
  const quiet = (error: NodeJS.ErrnoException): void => {
    if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') {
      stdoutClosed = true;
      return;
    }
    throw error;
  };
  process.stdout.on('error', quiet);
  process.stderr.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') throw error;
  });
}

export const processIo: CliIo = {
  out: (text) => {
    listenForEpipe();
    if (!stdoutClosed) process.stdout.write(`${text}\n`);
  },
  err: (text) => {
    listenForEpipe();
    process.stderr.write(`${text}\n`);
  },
  exit: (code) => {
    process.exitCode = code;
  },
  get stdoutIsTTY() {
    return process.stdout.isTTY === true;
  },
  get stderrIsTTY() {
    return process.stderr.isTTY === true;
  },
  get columns() {
    return process.stdout.isTTY ? process.stdout.columns : undefined;
  },
  env: process.env,
  closed: () => stdoutClosed,
  progressStream: process.stderr,
};
