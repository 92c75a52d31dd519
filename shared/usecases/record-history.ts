import type { ProvisioningHistoryEntry, ProvisioningRecord } from '../ports/provisioning-records.js';

/** Records keep the newest entries only, so a user's row stays far below Table Storage limits. */
export const HISTORY_LIMIT = 50;

export function appendHistory(record: ProvisioningRecord, entry: ProvisioningHistoryEntry): ProvisioningRecord {
  return { ...record, history: [...record.history, entry].slice(-HISTORY_LIMIT) };
}
