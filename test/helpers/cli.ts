import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
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

export interface KeptSandbox {
  /** The file's own temporary directory (made in beforeAll, removed in afterAll). */
  dir(): string;
  /** The kept state of a sandbox run on the bundled data (`--state`, then `--sandbox` for the commands). */
  state(): string;
}

/**
 * Registers the file's beforeAll/afterAll: a `sandbox run` on the bundled data (tenant, HR events,
 * numbers) kept in a fresh temporary directory, for the operator commands to work on.
 */
export function useKeptSandbox(prefix: string): KeptSandbox {
  let dir: string | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), `dialtone-${prefix}-`));
    const run = await dialtone(['sandbox', 'run', '--tenant', 'sandbox/data/tenant.json', '--events', 'sandbox/data/hr-events.ndjson', '--numbers', 'sandbox/data/numbers.json', '--storage', 'memory', '--state', join(dir, 'state'), '-o', 'none']);
    expect(run).toMatchObject({ code: 0, out: '' });
  }, 300_000);
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  const made = (): string => {
    if (!dir) throw new Error('the kept sandbox is made in beforeAll: use it inside a test or hook');
    return dir;
  };
  return { dir: made, state: () => join(made(), 'state') };
}
