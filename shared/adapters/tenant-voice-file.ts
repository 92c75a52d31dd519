import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { DialtoneError } from '../domain/errors.js';
import { parseTenantVoiceConfig, type TenantVoiceConfig } from '../domain/tenant-voice.js';

/** Reads and validates a tenant voice file (.yaml, .yml or .json); errors name the file and the field. */
export async function loadTenantVoiceFile(path: string): Promise<TenantVoiceConfig> {
  const ext = extname(path).toLowerCase();
  const format = ext === '.json' ? 'json' : ext === '.yaml' || ext === '.yml' ? 'yaml' : undefined;
  if (format === undefined) throw new DialtoneError('ConfigInvalid', `${path}: a tenant voice file must end in .yaml, .yml or .json`);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new DialtoneError('ConfigInvalid', `${path}: cannot read the tenant voice file (${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message})`);
  }
  return parseTenantVoiceConfig(text, format, path);
}
