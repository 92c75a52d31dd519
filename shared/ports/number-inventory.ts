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
  action: 'imported' | 'reserved' | 'confirmed' | 'released' | 'rolled-back' | 'blocked' | 'unblocked' | 'freed' | 'reclaimed' | 'adopted';
  userId: string | null;
  correlationId: string | null;
  note: string | null;
}

export type AllocationOutcome =
  | { ok: true; number: string; pool: string; state: 'reserved' | 'assigned'; reused: boolean }
  | { ok: false; reason: 'PoolExhausted' | 'PoolNotFound'; message: string };

export type ConfirmOutcome = { confirmed: true } | { confirmed: false; why: string };

export type HeldInTeamsOutcome =
  | { kind: 'adopted'; userId: string; displaced: string | null }
  | { kind: 'blocked'; owner: string | null }
  | { kind: 'unknown' };

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
  /**
   * reserved → assigned, once Teams confirmed the assignment. Idempotent. Only the person's own
   * reservation is confirmed: a number quarantined for them, free, or held by someone else is left
   * alone and reported as `{ confirmed: false, why }` (a late result never takes a number back).
   */
  confirm(number: string, userId: string, actor: Actor): Promise<ConfirmOutcome>;
  /** reserved → free, after a permanent failure. A number not reserved for the user is left alone. */
  rollback(number: string, userId: string, actor: Actor): Promise<void>;
  /** reserved/assigned → quarantined for the pool's quarantineDays (or the days given). */
  release(number: string, userId: string, actor: Actor & { quarantineDays?: number }): Promise<void>;
  /** Mark a number as held outside Dialtone (an operator, by hand). */
  block(number: string, owner: string | null, actor: Actor): Promise<void>;
  /**
   * Teams reports the number assigned to `holder` (an Entra object id, or null when unknown), not to
   * the person Dialtone planned it for. When the holder is one of Dialtone's own people for this
   * number (the inventory gave it to them, even if their reservation lapsed since), the inventory
   * adopts the fact: assigned to the holder, the holder's claim points at it, and a reservation of
   * someone else on it is displaced. Otherwise the number is blocked, held outside Dialtone.
   */
  heldInTeams(number: string, holder: string | null, actor: Actor): Promise<HeldInTeamsOutcome>;
  /** blocked → free (an operator confirmed it is no longer held elsewhere). */
  unblock(number: string, actor: Actor): Promise<void>;
  /** Operator release by hand: any state → free. */
  free(number: string, actor: Actor): Promise<void>;
  get(number: string): Promise<NumberRecord | undefined>;
  list(filter?: { pool?: string; state?: NumberState; userId?: string }): Promise<NumberRecord[]>;
  /**
   * The rows of `list`, in the same order (pool, then number), read a page at a time as the
   * caller consumes them: a command can print the first numbers of a 100,000-number inventory
   * before the last are read, and one that stops early never reads them.
   */
  scan(filter?: { pool?: string; state?: NumberState; userId?: string }): AsyncIterable<NumberRecord>;
  history(number: string): Promise<NumberHistoryEntry[]>;
  pools(): Promise<PoolSummary[]>;
  /**
   * The inventory of one tenant (docs/NUMBERS.md "Tenants"): its own pools, numbers and owner
   * index, apart from every other tenant's, so two tenants can use the same pool id and user id.
   * A number is in one tenant's inventory only. `undefined` (a message that names no tenant) and
   * the deployment's default tenant give the inventory of the data written before tenants.
   */
  forTenant(tenantId: string | undefined): NumberInventory;
}
