import { appendHistoryEntry } from '../domain/history.js';
import type { ProvisioningHistoryEntry, ProvisioningRecord } from '../ports/provisioning-records.js';

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
  return { ...record, history: appendHistoryEntry(record.history, entry) };
}
