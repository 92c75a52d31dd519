import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildProgram } from '../../cli/program.js';
import { samplePools } from '../integration/sandbox-fixtures.js';

/** Runs the `dialtone` CLI in process, as a user would from a shell. */
export async function dialtone(...args: string[]): Promise<{ out: string; err: string; code: number }> {
  const out: string[] = [];
  const err: string[] = [];
  let code = 0;
  const io = { out: (s: string) => out.push(s), err: (s: string) => err.push(s), exit: (c: number) => (code = c) };
  await buildProgram(io).parseAsync(['node', 'dialtone', ...args]);
  return { out: out.join('\n'), err: err.join('\n'), code };
}

export async function writeEvents(file: string, events: object[]): Promise<string> {
  await writeFile(file, events.map((e) => JSON.stringify(e)).join('\n'));
  return file;
}

export async function writeJson(file: string, value: unknown): Promise<string> {
  await writeFile(file, JSON.stringify(value));
  return file;
}

/** `dialtone sandbox run --state DIR --json`, parsed. */
export async function sandboxRun(state: string, tenant: string, events: string, extra: string[] = []) {
  const run = await dialtone('sandbox', 'run', '--tenant', tenant, '--events', events, '--state', state, '--json', ...extra);
  if (run.code !== 0) throw new Error(`sandbox run failed (${run.code}): ${run.err}`);
  return JSON.parse(run.out) as {
    users: { id: string; teams: { enterpriseVoiceEnabled: boolean; lineUri: string | null } }[];
    numbers: { number: string; pool: string; state: string; userId: string | null }[];
    deadLetters: { queue: string; reason: string }[];
    history: { userId: string; entries: { eventId: string; outcome: string; stage: string; detail: string }[] }[];
  };
}

export const stateDir = (dir: string) => join(dir, 'state');

/** The sample pools (ams +3120123400x, rtm +3110123450x) as a numbers file in `dir`. */
export async function numbersFile(dir: string): Promise<string> {
  return writeJson(join(dir, 'numbers.json'), { pools: samplePools() });
}
