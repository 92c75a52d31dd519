import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { MemoryTablesSnapshot } from '../../shared/adapters/memory-table-client.js';

/**
 * What `sandbox run --state DIR` keeps between commands: the queues (with dead letters), the
 * simulated clock, the Teams tenant, the number inventory and the provisioning records.
 */
export const SandboxStateSchema = z.object({
  version: z.literal(1),
  clock: z.object({ startedAt: z.number(), now: z.number() }),
  bus: z.unknown(),
  tables: z.record(z.string(), z.unknown()),
  teams: z.unknown().optional(),
  eventsIn: z.number().int().nonnegative(),
});
export type SandboxState = Omit<z.infer<typeof SandboxStateSchema>, 'tables'> & { tables: MemoryTablesSnapshot };

const FILE = 'sandbox-state.json';

export async function readSandboxState(dir: string): Promise<SandboxState | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const parsed = SandboxStateSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`${join(dir, FILE)}: not a Dialtone sandbox state (${parsed.error.issues[0]?.message ?? 'invalid'})`);
  return parsed.data as SandboxState;
}

/** Written to a temporary file first, so an interrupted command never leaves half a state. */
export async function writeSandboxState(dir: string, state: SandboxState): Promise<void> {
  await mkdir(dir, { recursive: true });
  const target = join(dir, FILE);
  await writeFile(`${target}.tmp`, JSON.stringify(state));
  await rename(`${target}.tmp`, target);
}
