import type { HrPerson, UserChange } from '../contracts/messages.js';
import type { Lifecycle } from '../domain/ordering.js';
import type { DesiredVoiceState } from '../domain/voice-state.js';

export interface ProvisioningHistoryEntry {
  at: string;
  correlationId: string;
  eventId: string;
  commandId: string | null;
  stage: 'plan' | 'record' | 'replay';
  outcome: string;
  detail: string;
  /** What caused a plan line: an HR event, a Graph change notification or the resync; absent on other stages and older lines. */
  source?: UserChange['source'];
  /**
   * A line standing for several identical directory re-plans that sent nothing
   * (shared/domain/history.ts): how many, and when the first was; `at` is the newest's.
   */
  repeats?: number;
  firstAt?: string;
}

/** What Dialtone knows about one user's provisioning. */
export interface ProvisioningRecord {
  userId: string;
  /** The tenant the person belongs to; absent on records from before the registry (the deployment's default tenant). */
  tenantId?: string;
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
  /** The newest HR lifecycle fact: `left` is sticky until a newer HR joiner. */
  lifecycle?: Lifecycle | null;
  /** The newest plan version issued as a command, and that command. */
  planVersion?: number;
  plannedCommandId?: string | null;
  /** The plan version of the command whose result set lastApplied. */
  appliedVersion?: number;
  /** readAt of the newest directory read a plan used: an older forwarded snapshot is not trusted. */
  directoryReadAt?: string | null;
  history: ProvisioningHistoryEntry[];
}

export interface ProvisioningRecords {
  get(userId: string): Promise<ProvisioningRecord | undefined>;
  /** Read-modify-write with optimistic concurrency; `update` may run more than once. */
  update(userId: string, update: (current: ProvisioningRecord | undefined) => ProvisioningRecord): Promise<ProvisioningRecord>;
  list(): Promise<ProvisioningRecord[]>;
}
