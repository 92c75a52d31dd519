import { createHash } from 'node:crypto';

/**
 * Deterministic message ids: the same input always gives the same id, so Service Bus
 * duplicate detection drops true duplicates and a replayed copy is recognised.
 */
export function deterministicId(prefix: string, ...parts: string[]): string {
  const digest = createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32);
  return `${prefix}-${digest}`;
}

/** The id of the n-th rescheduled copy of a message (≤ 128 characters). */
export function retryCopyId(originalId: string, attempt: number): string {
  const base = originalId.length > 100 ? deterministicId('m', originalId) : originalId;
  return `${base}#r${attempt}`;
}
