import type { HrPerson } from '../contracts/messages.js';
import type { DesiredVoiceState } from '../domain/voice-state.js';

export interface ProvisioningHistoryEntry {
  at: string;
  correlationId: string;
  eventId: string;
  commandId: string | null;
  stage: 'plan' | 'record';
  outcome: string;
  detail: string;
}

/** What Dialtone knows about one user's provisioning. */
export interface ProvisioningRecord {
  userId: string;
  userPrincipalName: string;
  /** Desired state last confirmed applied by the worker. */
  lastApplied: DesiredVoiceState | null;
  lastAppliedAt: string | null;
  lastCommandId: string | null;
  /** occurredAt of the newest event acted on: older events are stale. */
  lastEventAt: string | null;
  lastEventId: string | null;
  /** The newest HR attributes seen, merged over Entra's when a directory change re-plans the user. */
  person?: HrPerson | null;
  history: ProvisioningHistoryEntry[];
}

export interface ProvisioningRecords {
  get(userId: string): Promise<ProvisioningRecord | undefined>;
  /** Read-modify-write with optimistic concurrency; `update` may run more than once. */
  update(userId: string, update: (current: ProvisioningRecord | undefined) => ProvisioningRecord): Promise<ProvisioningRecord>;
  list(): Promise<ProvisioningRecord[]>;
}
