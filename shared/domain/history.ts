import type { ProvisioningHistoryEntry } from '../ports/provisioning-records.js';

/** Records keep the newest entries only, so a user's row stays far below Table Storage limits. */
export const HISTORY_LIMIT = 50;

/**
 * A plan line that sent nothing and that the directory caused (a Graph change notification or
 * the resync re-planning the person), not HR. The daily full resync round writes one for every
 * quiet person every day: kept one per round, they would push the person's real history (the
 * HR events, the commands, the errors) out of the newest HISTORY_LIMIT entries within weeks.
 * A line without a source (written before the source was recorded) is never one.
 */
export function isDirectoryNoop(entry: ProvisioningHistoryEntry): boolean {
  return entry.stage === 'plan' && entry.outcome === 'skipped' && (entry.source === 'graph' || entry.source === 'resync');
}

/**
 * Appends a history line, newest last, keeping the newest `limit`. A directory no-op that says
 * the same as the line before it, itself a directory no-op, replaces that line and counts it
 * (`repeats`, `firstAt`): a run of identical re-plans is one line with its count and its first
 * and last time. Every other line is kept as it is: each HR event's own line (a no-op HR mover
 * too, since every input must stay accounted for), a command, a release, a result, a stale,
 * superseded or refused input, an error.
 */
export function appendHistoryEntry(
  history: readonly ProvisioningHistoryEntry[],
  entry: ProvisioningHistoryEntry,
  limit = HISTORY_LIMIT,
): ProvisioningHistoryEntry[] {
  const last = history.at(-1);
  if (last && isDirectoryNoop(entry) && isDirectoryNoop(last) && last.detail === entry.detail) {
    const { repeats: _repeats, firstAt: _firstAt, ...newest } = entry;
    return [...history.slice(0, -1), { ...newest, repeats: (last.repeats ?? 1) + 1, firstAt: last.firstAt ?? last.at }];
  }
  return [...history, entry].slice(-limit);
}

/** How a collapsed line reads after its detail: ` ×12, <first> … <last>`; nothing for a single line. */
export function describeRepeats(entry: ProvisioningHistoryEntry, when: (iso: string) => string = (iso) => iso): string {
  if (entry.repeats === undefined || entry.repeats < 2) return '';
  return ` ×${entry.repeats}, ${when(entry.firstAt ?? entry.at)} … ${when(entry.at)}`;
}
