import type { z } from 'zod';
import { DialtoneError } from './errors.js';
import { unknownAttributes } from './policy-check.js';
import { VoicePolicySchema, type VoicePolicy } from './policy-schema.js';
import { policyTypes } from './voice-state.js';
import { editDistance } from './edit-distance.js';
import { readStructuredText } from './structured-text.js';

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
  const read = readStructuredText(text, format);
  if (!read.ok) throw invalid(sourceName, read.message);
  const data = read.data;
  const result = VoicePolicySchema.safeParse(data);
  if (!result.success) throw invalid(sourceName, describePolicyIssues(result.error.issues));
  if ((options.unknownAttributes ?? 'refuse') === 'refuse') {
    const unknown = unknownAttributes(result.data);
    if (unknown.length > 0) throw invalid(sourceName, unknown.map((f) => `${f.path}: ${f.message}`).join('; '));
  }
  return result.data;
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

