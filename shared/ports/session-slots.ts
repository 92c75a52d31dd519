/**
 * One tenant-wide limit on Teams PowerShell sessions, shared by every worker: a worker holds a
 * slot for each connected session it keeps (busy or warm) and gives it back when the session
 * ends. A slot is a lease with an expiry, renewed while held, so the slots of a worker that died
 * come back on their own after `leaseMs`.
 */
export interface SessionSlot {
  readonly tenantId: string;
  readonly slot: number;
  /** Extends the lease. False when it was lost (it expired and another worker took it). */
  renew(): Promise<boolean>;
  /** Gives the slot back (idempotent; a lost slot is left to its new holder). */
  release(): Promise<void>;
}

export interface SessionSlots {
  /** Sessions a tenant allows at once, across all workers, unless tryAcquire is given the tenant's own. */
  readonly limit: number;
  /** How long a slot stays held without renewal. */
  readonly leaseMs: number;
  /** A free or expired slot of the tenant for `holder` (a worker's id), or undefined when all are held. */
  tryAcquire(tenantId: string, holder: string, limit?: number): Promise<SessionSlot | undefined>;
}
