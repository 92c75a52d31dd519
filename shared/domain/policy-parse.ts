import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { DialtoneError } from './errors.js';
import { unknownAttributes } from './policy-check.js';
import { VoicePolicySchema, type VoicePolicy } from './policy-schema.js';
import { policyTypes } from './voice-state.js';
import { editDistance } from './edit-distance.js';

export type PolicyFormat = 'yaml' | 'json';

export interface ParsePolicyOptions {
  /**
   * `refuse` (the default, what the Functions and the sandbox load): an attribute name in a `when`
   * that nothing supplies is an error naming the field. `report`: leave it to the caller
   * (`policy validate` lists it with the other findings).
   */
  unknownAttributes?: 'refuse' | 'report';
}

/**
 * Parses and validates a voice policy. Throws DialtoneError('PolicyInvalid') whose message starts
 * with the source name and gives the path of every bad field, e.g.
 * `voice-policy.yaml: rules[2].when.site: expected string or list of strings` or
 * `voice-policy.yaml: rules[0].when.sight: unknown attribute 'sight' (…); did you mean 'site'?`.
 */
export function parseVoicePolicy(text: string, format: PolicyFormat, sourceName: string, options: ParsePolicyOptions = {}): VoicePolicy {
  if (text.trim() === '') throw invalid(sourceName, 'the file is empty; expected version, defaults and rules');
  const data = format === 'json' ? parseJson(text, sourceName) : parseYaml(text, sourceName);
  const result = VoicePolicySchema.safeParse(data);
  if (!result.success) throw invalid(sourceName, describePolicyIssues(result.error.issues));
  if ((options.unknownAttributes ?? 'refuse') === 'refuse') {
    const unknown = unknownAttributes(result.data);
    if (unknown.length > 0) throw invalid(sourceName, unknown.map((f) => `${f.path}: ${f.message}`).join('; '));
  }
  return result.data;
}

function parseYaml(text: string, sourceName: string): unknown {
  const document = parseDocument(text, { uniqueKeys: true });
  const error = document.errors[0];
  if (error !== undefined) {
    const where = error.linePos?.[0];
    const what = error.message.split(' at line ')[0] ?? error.message;
    throw invalid(sourceName, where ? `YAML syntax error at line ${where.line}, column ${where.col}: ${what}` : `YAML syntax error: ${what}`);
  }
  try {
    return document.toJS();
  } catch (cause) {
    throw invalid(sourceName, `YAML error: ${(cause as Error).message}`);
  }
}

function parseJson(text: string, sourceName: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    const message = (cause as Error).message;
    const at = /^(.*?) in JSON at position (\d+)/.exec(message);
    if (at?.[1] === undefined || at[2] === undefined) throw invalid(sourceName, `JSON syntax error: ${message}`);
    const before = text.slice(0, Number(at[2])).split('\n');
    const line = before.length;
    const column = (before[line - 1]?.length ?? 0) + 1;
    throw invalid(sourceName, `JSON syntax error at line ${line}, column ${column}: ${at[1]}`);
  }
}

function invalid(sourceName: string, message: string): DialtoneError {
  return new DialtoneError('PolicyInvalid', `${sourceName}: ${message}`, { details: { source: sourceName } });
}

/** `rules[2].when.site`: the path as an admin would write it. */
export function formatFieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

const vocabulary = [
  'version',
  'defaults',
  'voice',
  'enterpriseVoice',
  'numberPool',
  'policies',
  'callingLineIdentity',
  'byDescription',
  'rules',
  'name',
  'when',
  'managedPolicies',
  'attributes',
  ...policyTypes,
];

/** One `path: message` per problem, joined with `; `; unknown fields are named one by one with a suggestion. */
export function describePolicyIssues(issues: readonly z.core.$ZodIssue[]): string {
  const lines: string[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const suggestion = suggest(key);
        lines.push(`${formatFieldPath([...issue.path, key])}: unknown field${suggestion ? `; did you mean '${suggestion}'?` : ''}`);
      }
      continue;
    }
    const message = issue.message.replace(/^Invalid input: /, '');
    lines.push(issue.path.length > 0 ? `${formatFieldPath(issue.path)}: ${message}` : message);
  }
  return lines.join('; ');
}

function suggest(key: string): string | undefined {
  const lower = key.toLowerCase();
  return (
    vocabulary.find((known) => known.toLowerCase() === lower) ??
    vocabulary.find((known) => editDistance(known.toLowerCase(), lower) <= 2)
  );
}

