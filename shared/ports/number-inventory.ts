import type { NumberState, PoolDefinition } from '../domain/numbers.js';

/** One number as the inventory holds it. */
export interface NumberRecord {
  number: string;
  pool: string;
  state: NumberState;
  /** The user it is reserved / assigned / quarantined for. */
  userId: string | null;
  /** reserved: when the reservation lapses if never confirmed. */
  reservedUntil: string | null;
  /** quarantined: when it may be handed out again. */
  quarantinedUntil: string | null;
  /** blocked: who holds it outside Dialtone, when known. */
  owner: string | null;
  updatedAt: string;
}

export interface NumberHistoryEntry {
  at: string;
  number: string;
  action: 'imported' | 'reserved' | 'confirmed' | 'released' | 'rolled-back' | 'blocked' | 'unblocked' | 'freed' | 'reclaimed';
  userId: string | null;
  correlationId: string | null;
  note: string | null;
}

export type AllocationOutcome =
  | { ok: true; number: string; pool: string; state: 'reserved' | 'assigned'; reused: boolean }
  | { ok: false; reason: 'PoolExhausted' | 'PoolNotFound'; message: string };

export interface ImportSummary {
  poolsAdded: number;
  poolsUpdated: number;
  numbersAdded: number;
  numbersUnchanged: number;
}

export interface PoolSummary {
  pool: string;
  quarantineDays: number;
  counts: Record<NumberState, number>;
  total: number;
}

export interface Actor {
  now: Date;
  correlationId?: string | null;
}

/**
 * The Direct Routing number inventory. Every method is safe under concurrency and idempotent:
 * asking twice for the same user returns the same number, and no number is ever handed to two users.
 */
export interface NumberInventory {
  importPools(pools: PoolDefinition[], actor: Actor): Promise<ImportSummary>;
  /** Reserve a number for the user in the pool (or return the one already held or quarantined for them). */
  allocate(pool: string, userId: string, actor: Actor & { reservationTtlMs: number }): Promise<AllocationOutcome>;
  /** reserved → assigned, once Teams confirmed the assignment. Idempotent. */
  confirm(number: string, userId: string, actor: Actor): Promise<void>;
  /** reserved → free, after a permanent failure. A number not reserved for the user is left alone. */
  rollback(number: string, userId: string, actor: Actor): Promise<void>;
  /** reserved/assigned → quarantined for the pool's quarantineDays (or the days given). */
  release(number: string, userId: string, actor: Actor & { quarantineDays?: number }): Promise<void>;
  /** Mark a number as held outside Dialtone (Teams reported it assigned to someone else). */
  block(number: string, owner: string | null, actor: Actor): Promise<void>;
  /** blocked → free (an operator confirmed it is no longer held elsewhere). */
  unblock(number: string, actor: Actor): Promise<void>;
  /** Operator release by hand: any state → free. */
  free(number: string, actor: Actor): Promise<void>;
  get(number: string): Promise<NumberRecord | undefined>;
  list(filter?: { pool?: string; state?: NumberState; userId?: string }): Promise<NumberRecord[]>;
  history(number: string): Promise<NumberHistoryEntry[]>;
  pools(): Promise<PoolSummary[]>;
}
