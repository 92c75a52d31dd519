import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { describeZodError } from '../contracts/messages.js';
import { DialtoneError } from '../domain/errors.js';
import type { CallingLineIdentityEntry, PolicyCatalog } from '../ports/policy-catalog.js';

/**
 * The CallingLineIdentity catalogue as exported from Teams
 * (`Get-CsCallingLineIdentity | Select Identity,Description | ConvertTo-Json`), shipped with the
 * app. Accepts the PowerShell export (an array, or one object) or `{ "CallingLineIdentity": [...] }`.
 */
const EntrySchema = z.object({ Identity: z.string().min(1), Description: z.string().nullable().optional() }).or(
  z.object({ identity: z.string().min(1), description: z.string().nullable().optional() }),
);
const FileSchema = z.union([
  z.array(EntrySchema),
  EntrySchema.transform((e) => [e]),
  z.object({ CallingLineIdentity: z.array(EntrySchema) }).transform((f) => f.CallingLineIdentity),
]);

function normalise(entry: z.infer<typeof EntrySchema>): CallingLineIdentityEntry {
  return 'Identity' in entry
    ? { identity: entry.Identity, description: entry.Description ?? null }
    : { identity: entry.identity, description: entry.description ?? null };
}

export function parsePolicyCatalog(text: string, source: string): CallingLineIdentityEntry[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new DialtoneError('PolicyInvalid', `${source}: not JSON (${(error as Error).message})`);
  }
  const parsed = FileSchema.safeParse(json);
  if (!parsed.success) throw new DialtoneError('PolicyInvalid', `${source}: ${describeZodError(parsed.error)}`);
  return parsed.data.map(normalise);
}

/** Reads the file once and keeps it: it changes only with a deployment. */
export function createFilePolicyCatalog(path: string): PolicyCatalog {
  let cached: Promise<CallingLineIdentityEntry[]> | undefined;
  return {
    callingLineIdentities: () => {
      cached ??= readFile(path, 'utf8')
        .then((text) => parsePolicyCatalog(text, path))
        .catch((error: unknown) => {
          cached = undefined;
          if (error instanceof DialtoneError) throw error;
          throw new DialtoneError('PolicyInvalid', `${path}: cannot read the policy catalogue (${(error as Error).message})`);
        });
      return cached;
    },
  };
}

export function createStaticPolicyCatalog(entries: CallingLineIdentityEntry[]): PolicyCatalog {
  return { callingLineIdentities: async () => entries };
}
