import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { DialtoneError } from '../domain/errors.js';
import { parseVoicePolicy, type PolicyFormat, type VoicePolicy } from '../domain/policy.js';

/** The format a policy file is in, from its extension. */
export function policyFormatOf(path: string): PolicyFormat | undefined {
  const ext = extname(path).toLowerCase();
  if (ext === '.json') return 'json';
  if (ext === '.yaml' || ext === '.yml') return 'yaml';
  return undefined;
}

/** Reads and validates a voice policy file (.yaml, .yml or .json); errors name the file as given. */
export async function loadVoicePolicyFile(path: string): Promise<VoicePolicy> {
  const format = policyFormatOf(path);
  if (format === undefined) {
    throw new DialtoneError('PolicyInvalid', `${path}: a voice policy file must end in .yaml, .yml or .json`, { details: { source: path } });
  }
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new DialtoneError('PolicyInvalid', `${path}: cannot read the voice policy file (${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message})`, {
      details: { source: path },
      cause,
    });
  }
  return parseVoicePolicy(text, format, path);
}
