import { readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { ChunkedPartition, type MemoryTablesInput, type PartitionChunk } from '../../shared/adapters/memory-table-client.js';
import type { Props } from '../../shared/adapters/entity-table.js';

/**
 * What `sandbox run --state DIR` keeps between commands: the queues (with dead letters), the
 * simulated clock, the Teams tenant, the number inventory and the provisioning records.
 *
 * Layout (version 2): `sandbox-state.json` holds the clock, the queues, the Teams tenant and a
 * manifest of the tables; each table partition is kept in `tables/` as chunk files of at most
 * CHUNK_ROWS rows in row-key order, read only when a command reaches them. So `numbers list`
 * on a 100,000-number sandbox reads the first chunks of one table for its first page, not the
 * whole state, and a command that changes one number rewrites only the partitions it wrote.
 * Version 1 (everything in `sandbox-state.json`) is still read; the next save rewrites it as 2.
 */
const SharedStateFields = {
  clock: z.object({ startedAt: z.number(), now: z.number() }),
  bus: z.unknown(),
  teams: z.unknown().optional(),
  /** The Graph simulator's subscriptions (sandbox/graph-sim: GraphSubscriptionsState). */
  graph: z.unknown().optional(),
  /** What `dialtone setup` made in the sandbox: the simulated Entra objects and Key Vault (no private keys), cli/sandbox-setup.ts. */
  setup: z.unknown().optional(),
  /** Several tenants: each further tenant's Teams tenant and Graph subscriptions, by lower-case tenant id (the first tenant's are `teams` and `graph`). */
  tenants: z.record(z.string(), z.object({ teams: z.unknown().optional(), graph: z.unknown().optional() })).optional(),
  eventsIn: z.number().int().nonnegative(),
};

const StateV1Schema = z.object({ version: z.literal(1), ...SharedStateFields, tables: z.record(z.string(), z.unknown()) });

const ChunkRefSchema = z.object({ file: z.string().regex(/^[\w.-]+\.json$/), first: z.string(), rows: z.number().int().positive() });
type ChunkRef = z.infer<typeof ChunkRefSchema>;
const StateV2Schema = z.object({
  version: z.literal(2),
  ...SharedStateFields,
  /** table → partition key → its chunks in row-key order. */
  tables: z.record(z.string(), z.record(z.string(), z.array(ChunkRefSchema))),
});
type StateV2 = z.infer<typeof StateV2Schema>;

const StateSchema = z.discriminatedUnion('version', [StateV1Schema, StateV2Schema]);

/**
 * A chunk file's rows, `[rowKey, { prop: string | number | boolean | null }][]`, or what is wrong
 * with it. Checked by hand: zod took a third of a whole-inventory command's time on 100,000 rows.
 */
function chunkRows(data: unknown): [string, Props][] | string {
  if (!Array.isArray(data)) return 'expected an array of [rowKey, properties]';
  for (let i = 0; i < data.length; i++) {
    const row: unknown = data[i];
    if (!Array.isArray(row) || row.length !== 2 || typeof row[0] !== 'string') return `row ${i}: expected [rowKey, properties]`;
    const props: unknown = row[1];
    if (props === null || typeof props !== 'object' || Array.isArray(props)) return `row ${i} (${row[0]}): properties must be an object`;
    for (const [key, value] of Object.entries(props)) {
      if (value !== null && typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') return `row ${i} (${row[0]}): ${key} must be a string, number, boolean or null`;
    }
  }
  return data as [string, Props][];
}

export interface SandboxState {
  clock: { startedAt: number; now: number };
  bus: unknown;
  /** Plain rows, or (read from a directory) partitions loaded chunk by chunk. */
  tables: MemoryTablesInput;
  teams?: unknown;
  graph?: unknown;
  setup?: unknown;
  tenants?: Record<string, { teams?: unknown; graph?: unknown }>;
  eventsIn: number;
}

const FILE = 'sandbox-state.json';
const TABLES = 'tables';
/** Rows per chunk file: a first page reads one or two of them. */
export const CHUNK_ROWS = 2000;

/** A partition read from this directory, chunk by chunk; `origin` lets a save keep its files. */
class StoredPartition extends ChunkedPartition {
  constructor(
    readonly origin: string,
    readonly refs: ChunkRef[],
    chunks: PartitionChunk[],
  ) {
    super(chunks);
  }
}

function storedPartition(dir: string, table: string, partitionKey: string, refs: ChunkRef[]): StoredPartition {
  return new StoredPartition(
    resolve(dir),
    refs,
    refs.map((ref) => ({
      first: ref.first,
      id: ref.file,
      load: () => {
        const path = join(dir, TABLES, ref.file);
        let data: unknown;
        try {
          data = JSON.parse(readFileSync(path, 'utf8'));
        } catch (error) {
          throw new Error(`${path} (${table}/${partitionKey}): cannot be read as part of the sandbox state (${(error as Error).message})`);
        }
        const rows = chunkRows(data);
        if (typeof rows === 'string') throw new Error(`${path} (${table}/${partitionKey}): not a chunk of a Dialtone sandbox state (${rows})`);
        return rows;
      },
    })),
  );
}

async function readManifest(dir: string): Promise<z.infer<typeof StateSchema> | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new Error(`${join(dir, FILE)}: not a Dialtone sandbox state (${(error as Error).message})`);
  }
  const parsed = StateSchema.safeParse(data);
  if (!parsed.success) throw new Error(`${join(dir, FILE)}: not a Dialtone sandbox state (${parsed.error.issues[0]?.message ?? 'invalid'})`);
  return parsed.data;
}

export async function readSandboxState(dir: string): Promise<SandboxState | undefined> {
  const state = await readManifest(dir);
  if (!state) return undefined;
  const { clock, bus, teams, graph, setup, tenants, eventsIn } = state;
  const common = { clock, bus, eventsIn, ...(teams !== undefined ? { teams } : {}), ...(graph !== undefined ? { graph } : {}), ...(setup !== undefined ? { setup } : {}), ...(tenants !== undefined ? { tenants } : {}) };
  if (state.version === 1) return { ...common, tables: state.tables as MemoryTablesInput };
  const tables: MemoryTablesInput = {};
  for (const [name, partitions] of Object.entries(state.tables)) {
    tables[name] = Object.fromEntries(Object.entries(partitions).map(([pk, refs]) => [pk, storedPartition(dir, name, pk, refs)]));
  }
  return { ...common, tables };
}

function filesOf(state: StateV2): Set<string> {
  return new Set(Object.values(state.tables).flatMap((partitions) => Object.values(partitions).flatMap((refs) => refs.map((r) => r.file))));
}

/**
 * Writes the chunks of every changed partition, then the manifest (to a temporary file first,
 * then renamed: the rename is the commit, so an interrupted command never leaves half a state),
 * then removes the chunk files neither the new nor the previous manifest names.
 */
export async function writeSandboxState(dir: string, state: SandboxState): Promise<void> {
  await mkdir(join(dir, TABLES), { recursive: true });
  const previous = await readManifest(dir).catch(() => undefined);
  const generation = `${Date.now().toString(36)}-${process.pid.toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  let written = 0;
  const manifest: StateV2 = { version: 2, clock: state.clock, bus: state.bus, ...(state.teams !== undefined ? { teams: state.teams } : {}), ...(state.graph !== undefined ? { graph: state.graph } : {}), ...(state.setup !== undefined ? { setup: state.setup } : {}), ...(state.tenants !== undefined ? { tenants: state.tenants } : {}), eventsIn: state.eventsIn, tables: {} };
  for (const [name, partitions] of Object.entries(state.tables)) {
    const out: Record<string, ChunkRef[]> = (manifest.tables[name] = {});
    for (const [pk, partition] of Object.entries(partitions)) {
      if (partition instanceof StoredPartition && partition.origin === resolve(dir)) {
        // Unchanged since it was read from this directory: keep its files.
        out[pk] = partition.refs;
        continue;
      }
      const rows: [string, Props][] =
        partition instanceof ChunkedPartition ? partition.chunks.flatMap((c) => c.load()) : (Object.entries(partition) as [string, Props][]);
      rows.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      const refs: ChunkRef[] = [];
      for (let start = 0; start < rows.length; start += CHUNK_ROWS) {
        const chunk = rows.slice(start, start + CHUNK_ROWS);
        const file = `${generation}-${written++}.json`;
        await writeFile(join(dir, TABLES, file), JSON.stringify(chunk));
        refs.push({ file, first: chunk[0]![0], rows: chunk.length });
      }
      if (refs.length > 0) out[pk] = refs;
    }
  }
  const target = join(dir, FILE);
  await writeFile(`${target}.tmp`, JSON.stringify(manifest));
  await rename(`${target}.tmp`, target);
  // Another command may still be reading the previous manifest's chunks: those stay one generation.
  const keep = new Set([...filesOf(manifest), ...(previous?.version === 2 ? filesOf(previous) : [])]);
  for (const file of await readdir(join(dir, TABLES))) {
    if (!keep.has(file)) await rm(join(dir, TABLES, file), { force: true });
  }
}
