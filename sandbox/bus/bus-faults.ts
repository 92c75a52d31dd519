import { z } from 'zod';
import { BusError } from './bus-error.js';
import { seededRandom } from '../../shared/domain/seeded-random.js';

/**
 * Service Bus throttling for chaos runs, seeded. What the in-memory bus raises is what the
 * application sees from @azure/service-bus after the SDK's own retries gave up:
 * - `ServiceBusy` (the namespace is throttled: `com.microsoft:server-busy`, retryable), on any
 *   broker operation, peeks included (a peek is a request on the entity's management link, and
 *   Service Bus throttles those as it does the rest);
 * - `QuotaExceeded` (the entity is full: `amqp:resource-limit-exceeded`, not retryable by the
 *   SDK, but it clears once consumers drain the queue), on sends.
 * A failed operation changes nothing on the broker, as a throttled request is not applied.
 */
export const busOperations = ['send', 'schedule', 'receive', 'acceptSession', 'complete', 'abandon', 'deadLetter', 'renewLock', 'peek'] as const;
export type BusOperation = (typeof busOperations)[number];

export const BusFaultRuleSchema = z.object({
  code: z.enum(['ServiceBusy', 'QuotaExceeded']),
  /** Which operations the rule hits (default: every one the code can happen on). */
  operations: z.array(z.enum(busOperations)).min(1).optional(),
  /** Only this queue (default: all). */
  queue: z.string().min(1).optional(),
  /** Chance that a matching operation fails, from the seeded generator (default 1). */
  probability: z.number().min(0).max(1).optional(),
  /** Fail only the next N matching operations. */
  times: z.number().int().positive().optional(),
});
export type BusFaultRule = z.infer<typeof BusFaultRuleSchema>;

/**
 * Lock renewals that reach the broker late: sent while the lock is held, answered only once it
 * has expired on the broker (a stalled event loop, a slow network, a renewal timer that fired
 * late). Meanwhile the broker drops the lock at its expiry as it always does — the session goes
 * to the next receiver, the message is delivered again — and the renewal is then answered
 * SessionLockLost (MessageLockLost for a plain queue), as Service Bus answers a renewal of an
 * expired lock. Counted as `LateRenewal:renewLock`.
 */
export const LateRenewalsSchema = z.object({
  /** Only this queue (default: all). */
  queue: z.string().min(1).optional(),
  /** Chance that a renewal is late, from the seeded generator (default 1). */
  probability: z.number().min(0).max(1).optional(),
  /** Make only the next N renewals late. */
  times: z.number().int().positive().optional(),
});
export type LateRenewals = z.infer<typeof LateRenewalsSchema>;

export interface BusFaults {
  rules: BusFaultRule[];
  lateRenewals?: LateRenewals;
  seed?: number;
}

/** QuotaExceeded is raised by the broker for sends only. */
const QUOTA_OPERATIONS: readonly BusOperation[] = ['send', 'schedule'];

export class BusFaultPlan {
  private rules: { rule: BusFaultRule; remaining: number }[] = [];
  private late: { spec: LateRenewals; remaining: number } | undefined;
  private random: () => number = () => 0;
  private readonly counts = new Map<string, number>();

  constructor(faults?: BusFaults) {
    this.set(faults);
  }

  set(faults: BusFaults | undefined): void {
    this.rules = (faults?.rules ?? []).map((r) => {
      const rule = BusFaultRuleSchema.parse(r);
      return { rule, remaining: rule.times ?? Number.POSITIVE_INFINITY };
    });
    const late = faults?.lateRenewals ? LateRenewalsSchema.parse(faults.lateRenewals) : undefined;
    this.late = late ? { spec: late, remaining: late.times ?? Number.POSITIVE_INFINITY } : undefined;
    this.random = seededRandom(faults?.seed ?? 1);
  }

  /** Whether this lock renewal on this queue reaches the broker late (counted when it does). */
  lateRenewal(queue: string): boolean {
    const late = this.late;
    if (!late || late.remaining <= 0) return false;
    if (late.spec.queue !== undefined && late.spec.queue !== queue) return false;
    const p = late.spec.probability ?? 1;
    if (p < 1 && this.random() >= p) return false;
    late.remaining -= 1;
    this.counts.set('LateRenewal:renewLock', (this.counts.get('LateRenewal:renewLock') ?? 0) + 1);
    return true;
  }

  /** Throws the injected error when a rule fires for this operation on this queue. */
  check(operation: BusOperation, queue: string): void {
    for (const entry of this.rules) {
      const { rule } = entry;
      if (entry.remaining <= 0) continue;
      if (rule.queue !== undefined && rule.queue !== queue) continue;
      const applies = rule.operations ?? (rule.code === 'QuotaExceeded' ? QUOTA_OPERATIONS : busOperations);
      if (!applies.includes(operation)) continue;
      if (rule.code === 'QuotaExceeded' && !QUOTA_OPERATIONS.includes(operation)) continue;
      if ((rule.probability ?? 1) < 1 && this.random() >= (rule.probability ?? 1)) continue;
      entry.remaining -= 1;
      const key = `${rule.code}:${operation}`;
      this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
      throw rule.code === 'ServiceBusy'
        ? new BusError(
            'ServiceBusy',
            `The request was terminated because the entity is being throttled. Error code : 50009. Please wait 2 seconds and try again. (${queue}, ${operation})`,
          )
        : new BusError(
            'QuotaExceeded',
            `The maximum entity size has been reached or exceeded for Queue: '${queue}'. Size of entity in bytes exceeds the queue's MaxSizeInMegabytes.`,
          );
    }
  }

  /** Injected faults so far, by `code:operation`. */
  injected(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort(([a], [b]) => a.localeCompare(b)));
  }
}
