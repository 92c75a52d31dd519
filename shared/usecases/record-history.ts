import type { ProvisioningHistoryEntry, ProvisioningRecord } from '../ports/provisioning-records.js';

/** Records keep the newest entries only, so a user's row stays far below Table Storage limits. */
export const HISTORY_LIMIT = 50;

/** The record of a user Dialtone has not seen before. */
export function emptyRecord(userId: string, userPrincipalName: string): ProvisioningRecord {
  return {
    userId,
    userPrincipalName,
    lastApplied: null,
    lastAppliedAt: null,
    lastCommandId: null,
    lastEventAt: null,
    lastEventId: null,
    person: null,
    history: [],
  };
}

export function appendHistory(record: ProvisioningRecord, entry: ProvisioningHistoryEntry): ProvisioningRecord {
  return { ...record, history: [...record.history, entry].slice(-HISTORY_LIMIT) };
}
