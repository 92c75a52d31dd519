import { z } from 'zod';
import { seededRandom } from '../../shared/domain/seeded-random.js';

/**
 * Fault rules for the chaos bench. A rule fires on a request whose cmdlet and user match;
 * `times` bounds how often it fires, `probability` draws from the simulator's seeded RNG so a
 * run is repeatable. `phase: 'after'` runs the cmdlet first and then fails, which is how a real
 * session dies after Teams already applied a write.
 */
export const faultKinds = ['throttle', 'busy', 'unavailable', 'drop', 'hang', 'crash', 'unauthorized'] as const;
export type FaultKind = (typeof faultKinds)[number];

export const FaultRuleSchema = z.looseObject({
  kind: z.enum(faultKinds),
  cmdlet: z.string().min(1).optional(),
  /** Entra object id or UPN the request's -Identity must resolve to. */
  userId: z.string().min(1).optional(),
  times: z.number().int().positive().optional(),
  probability: z.number().min(0).max(1).optional(),
  phase: z.enum(['before', 'after']).optional(),
  /** Only requests of sessions connected to this tenant (a sandbox with several tenants); a connect by the tenant it names. */
  tenantId: z.string().min(1).optional(),
  /** Sandbox milliseconds since the start of the run from which the rule fires (default 0). */
  fromMs: z.number().int().nonnegative().optional(),
  /** Sandbox milliseconds since the start of the run before which the rule fires (default: for ever). */
  untilMs: z.number().int().positive().optional(),
}).refine((rule) => rule.fromMs === undefined || rule.untilMs === undefined || rule.fromMs < rule.untilMs, { message: 'fromMs must be before untilMs', path: ['untilMs'] });
export type FaultRule = z.infer<typeof FaultRuleSchema>;

export const LatencySchema = z.object({
  connect: z.number().int().nonnegative().optional(),
  read: z.number().int().nonnegative().optional(),
  write: z.number().int().nonnegative().optional(),
});
export type LatencyMs = z.infer<typeof LatencySchema>;

export interface FaultRequest {
  cmdlet: string;
  /** Every name the request's target user is known by (raw Identity, object id, UPN). */
  identities: readonly string[];
  /** The tenant the request runs in. */
  tenantId?: string;
  /** Sandbox milliseconds since the start of the run (the time window of a rule). */
  elapsedMs?: number;
}

/** The seeded generator, exported here too for the simulator's users (chaos, the Functions host). */
export { seededRandom };

/** The active rules with how often each has fired. Replacing the rules resets the counts. */
export class FaultPlan {
  private rules: { rule: FaultRule; fired: number }[] = [];
  private readonly random: () => number;

  constructor(rules: readonly FaultRule[] = [], seed = 1) {
    this.random = seededRandom(seed);
    this.set(rules);
  }

  set(rules: readonly FaultRule[]): void {
    this.rules = rules.map((rule) => ({ rule: FaultRuleSchema.parse(rule), fired: 0 }));
  }

  /** The first matching rule that fires for this request, counted as fired. */
  next(request: FaultRequest): FaultRule | undefined {
    for (const entry of this.rules) {
      const { rule } = entry;
      if (rule.cmdlet !== undefined && rule.cmdlet.toLowerCase() !== request.cmdlet.toLowerCase()) continue;
      if (rule.userId !== undefined && !matchesUser(rule.userId, request)) continue;
      if (rule.tenantId !== undefined && rule.tenantId.toLowerCase() !== request.tenantId?.toLowerCase()) continue;
      if (rule.fromMs !== undefined && (request.elapsedMs ?? 0) < rule.fromMs) continue;
      if (rule.untilMs !== undefined && (request.elapsedMs ?? 0) >= rule.untilMs) continue;
      if (rule.times !== undefined && entry.fired >= rule.times) continue;
      if (rule.probability !== undefined && this.random() >= rule.probability) continue;
      entry.fired += 1;
      return rule;
    }
    return undefined;
  }
}

function matchesUser(wanted: string, request: FaultRequest): boolean {
  const w = wanted.toLowerCase();
  return request.identities.some((identity) => identity.toLowerCase() === w);
}
