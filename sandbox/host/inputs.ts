import { readFile } from 'node:fs/promises';
import { basename, dirname, extname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describeZodError } from '../../shared/contracts/messages.js';
import { PoolsFileSchema, type PoolDefinition } from '../../shared/domain/numbers.js';
import { parseVoicePolicy, type VoicePolicy } from '../../shared/domain/policy.js';
import { isDialtoneError } from '../../shared/domain/errors.js';
import { SandboxTenantFileSchema, type SandboxTenantFile } from '../teams-sim/tenant-file.js';

/** Inputs the sandbox cannot use: the CLI exits non-zero with this message (file and field named). */
export class SandboxInputError extends Error {
  override readonly name = 'SandboxInputError';
}

export interface SandboxInputs {
  tenant: SandboxTenantFile;
  /**
   * Further tenants (`--tenant A.json --tenant B.json`): each its own directory in the Graph
   * simulator and its own Teams tenant; HR events then name their `tenantId`.
   */
  extraTenants?: SandboxTenantFile[];
  /** Raw lines: a malformed line is a dead letter, not an unusable file. */
  eventLines: string[];
  policy: VoicePolicy;
  /** The voice policy of each tenant whose file names one (`voicePolicy`), by lower-case tenant id; the others get `policy`. */
  tenantPolicies?: Record<string, { policy: VoicePolicy; file: string; text: string }>;
  pools: PoolDefinition[];
  sources: { tenant: string; events: string; policy: string; numbers: string | null };
}

export interface SandboxInputPaths {
  tenant: string;
  /** The second and later `--tenant` files. */
  extraTenants?: readonly string[];
  events: string;
  policy: string;
  numbers?: string | undefined;
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new SandboxInputError(`${what} file ${path}: cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

function parseJson(text: string, path: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new SandboxInputError(`${what} file ${path}: not valid JSON (${(error as Error).message})`);
  }
}

export async function loadSandboxInputs(paths: SandboxInputPaths): Promise<SandboxInputs> {
  const tenantJson = parseJson(await readText(paths.tenant, 'tenant'), paths.tenant, 'tenant');
  const tenant = SandboxTenantFileSchema.safeParse(tenantJson);
  if (!tenant.success) throw new SandboxInputError(`tenant file ${paths.tenant}: ${describeZodError(tenant.error)}`);

  const extraTenants: SandboxTenantFile[] = [];
  const seenUsers = new Map<string, string>(tenant.data.users.map((u) => [u.id.toLowerCase(), paths.tenant]));
  const seenTenants = new Map<string, string>([[tenant.data.tenantId.toLowerCase(), paths.tenant]]);
  for (const path of paths.extraTenants ?? []) {
    const parsed = SandboxTenantFileSchema.safeParse(parseJson(await readText(path, 'tenant'), path, 'tenant'));
    if (!parsed.success) throw new SandboxInputError(`tenant file ${path}: ${describeZodError(parsed.error)}`);
    const id = parsed.data.tenantId.toLowerCase();
    if (seenTenants.has(id)) throw new SandboxInputError(`tenant file ${path}: tenantId: ${parsed.data.tenantId} is also the tenant of ${seenTenants.get(id)}`);
    seenTenants.set(id, path);
    for (const [i, u] of parsed.data.users.entries()) {
      // Entra object ids are unique across tenants: the same id in two files is a mistake in the files.
      const other = seenUsers.get(u.id.toLowerCase());
      if (other) throw new SandboxInputError(`tenant file ${path}: users[${i}].id: ${u.id} is also a user of ${other} (Entra object ids are unique across tenants)`);
      seenUsers.set(u.id.toLowerCase(), path);
    }
    extraTenants.push(parsed.data);
  }

  const eventLines = (await readText(paths.events, 'events'))
    .split(/\r?\n/)
    .filter((line) => line.trim() !== '');

  const policyText = await readText(paths.policy, 'policy');
  let policy: VoicePolicy;
  try {
    const ext = extname(paths.policy).toLowerCase();
    policy = parseVoicePolicy(policyText, ext === '.json' ? 'json' : 'yaml', basename(paths.policy));
  } catch (error) {
    if (isDialtoneError(error)) throw new SandboxInputError(`policy file ${paths.policy}: ${error.message}`);
    throw error;
  }

  // A tenant file may name its own voice policy, relative to the tenant file.
  const tenantPolicies: NonNullable<SandboxInputs['tenantPolicies']> = {};
  const files: [SandboxTenantFile, string][] = [[tenant.data, paths.tenant], ...extraTenants.map((t, i) => [t, (paths.extraTenants ?? [])[i] ?? ''] as [SandboxTenantFile, string])];
  for (const [file, path] of files) {
    if (file.voicePolicy === undefined) continue;
    const own = resolve(dirname(path), file.voicePolicy);
    let text: string;
    try {
      text = await readFile(own, 'utf8');
    } catch (error) {
      throw new SandboxInputError(`tenant file ${path}: voicePolicy: ${own} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    try {
      const parsed = parseVoicePolicy(text, extname(own).toLowerCase() === '.json' ? 'json' : 'yaml', basename(own));
      tenantPolicies[file.tenantId.toLowerCase()] = { policy: parsed, file: own, text };
    } catch (error) {
      if (isDialtoneError(error)) throw new SandboxInputError(`tenant file ${path}: voicePolicy: ${own}: ${error.message}`);
      throw error;
    }
  }

  let pools: PoolDefinition[] = [];
  if (paths.numbers) {
    const text = await readText(paths.numbers, 'numbers');
    const data = extname(paths.numbers).toLowerCase() === '.json' ? parseJson(text, paths.numbers, 'numbers') : parseYaml(text);
    const parsed = PoolsFileSchema.safeParse(data);
    if (!parsed.success) throw new SandboxInputError(`numbers file ${paths.numbers}: ${describeZodError(parsed.error)}`);
    pools = parsed.data.pools;
  }
  return {
    tenant: tenant.data,
    ...(extraTenants.length > 0 ? { extraTenants } : {}),
    eventLines,
    policy,
    ...(Object.keys(tenantPolicies).length > 0 ? { tenantPolicies } : {}),
    pools,
    sources: { tenant: paths.tenant, events: paths.events, policy: paths.policy, numbers: paths.numbers ?? null },
  };
}
