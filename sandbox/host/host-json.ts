import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** The Service Bus trigger concurrency host.json gives each Function instance. */
export interface HostConcurrency {
  /** Invocations of a plain-queue Function in flight at once per instance. */
  maxConcurrentCalls: number;
  /** Sessions a session-queue Function holds at once per instance. */
  maxConcurrentSessions: number;
  /** Messages per invocation of a `cardinality: 'many'` Function. */
  maxMessageBatchSize: number;
}

const HostJsonSchema = z.object({
  /** hh:mm:ss (Consumption plan: up to 10 minutes, 5 by default). */
  functionTimeout: z.string().regex(/^\d{2}:\d{2}:\d{2}$/, 'expected hh:mm:ss').optional(),
  extensions: z.object({
    serviceBus: z.object({
      maxConcurrentCalls: z.number().int().min(1).max(1000),
      maxConcurrentSessions: z.number().int().min(1).max(1000),
      maxMessageBatchSize: z.number().int().min(1).max(5000),
    }),
  }),
});

/** The repository's host.json, found upwards from this module (from the sources or from dist/). */
function repositoryHostJson(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'host.json');
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('host.json not found above sandbox/host: the sandbox host reads its concurrency from it');
    dir = parent;
  }
}

function readHostJson(path: string): z.infer<typeof HostJsonSchema> {
  const parsed = HostJsonSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${path}: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

/** Reads the repository's host.json, the one source for production and the sandbox host. */
export function readHostConcurrency(path = repositoryHostJson()): HostConcurrency {
  return readHostJson(path).extensions.serviceBus;
}

/** host.json's functionTimeout in ms (the Functions host's default, 5 minutes, when it names none). */
export function readFunctionTimeoutMs(path = repositoryHostJson()): number {
  const value = readHostJson(path).functionTimeout;
  if (value === undefined) return 5 * 60_000;
  const [h, m, s] = value.split(':').map(Number) as [number, number, number];
  return ((h * 60 + m) * 60 + s) * 1000;
}
