import { runCli, type ProgramDeps } from '../../cli/program.js';
import type { CliIo } from '../../cli/io.js';

export interface CliRun {
  out: string;
  err: string;
  code: number;
}

/**
 * Runs one `dialtone` command line in this process (the same runCli as the bin), capturing stdout,
 * stderr and the exit code. `terminal` makes stdout and stderr look like a terminal.
 */
export async function dialtone(args: string[], deps: ProgramDeps = {}, terminal: Partial<CliIo> = {}): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  let code = 0;
  const io: CliIo = { out: (s) => out.push(s), err: (s) => err.push(s), exit: (c) => (code = c), env: {}, ...terminal };
  await runCli(io, ['node', 'dialtone', ...args], { stdinIsTTY: () => false, ...deps });
  return { out: out.join('\n'), err: err.join('\n'), code };
}
