import { seededRandom } from '../../shared/domain/seeded-random.js';

/** One kind of failure the simulator injects before it routes a request. */
export interface GraphFaultRule {
  /** 429 and 503 are transient; 403 is a permanent refusal (Authorization_RequestDenied), as for a permission taken away. */
  status: 429 | 503 | 403;
  /** Fail only the next N matching requests; without it the rule never runs out. */
  times?: number;
  /** Only requests whose path and query (decoded) match, e.g. /\/users\/delta/. */
  path?: RegExp | string;
  /** Chance that a matching request fails, drawn from the seeded generator (default 1). */
  probability?: number;
  /** Retry-After in seconds; default 10 for 429 and none for 503; null sends no header. */
  retryAfterSeconds?: number | null;
}

export interface GraphFaults {
  rules?: GraphFaultRule[];
  /** Real-time delay before every response, for benchmarks (default 0). */
  latencyMs?: number;
}

export interface InjectedFault {
  status: 429 | 503 | 403;
  retryAfterSeconds: number | undefined;
}

/** Decides, per request, whether a configured fault fires. Deterministic for a given seed. */
export class FaultInjector {
  private rules: { rule: GraphFaultRule; remaining: number; pattern: RegExp | undefined }[] = [];
  private latency = 0;
  private readonly random: () => number;

  constructor(faults: GraphFaults = {}, seed = 1) {
    this.random = seededRandom(seed);
    this.set(faults);
  }

  set(faults: GraphFaults): void {
    this.latency = faults.latencyMs ?? 0;
    this.rules = (faults.rules ?? []).map((rule) => ({
      rule,
      remaining: rule.times ?? Infinity,
      pattern: rule.path === undefined ? undefined : typeof rule.path === 'string' ? new RegExp(rule.path) : rule.path,
    }));
  }

  latencyMs(): number {
    return this.latency;
  }

  next(pathAndQuery: string): InjectedFault | undefined {
    for (const entry of this.rules) {
      if (entry.remaining <= 0) continue;
      if (entry.pattern && !entry.pattern.test(pathAndQuery)) continue;
      const probability = entry.rule.probability ?? 1;
      if (probability < 1 && this.random() >= probability) continue;
      entry.remaining -= 1;
      const fallback = entry.rule.status === 429 ? 10 : undefined;
      const retryAfter = entry.rule.retryAfterSeconds === null ? undefined : (entry.rule.retryAfterSeconds ?? fallback);
      return { status: entry.rule.status, retryAfterSeconds: retryAfter };
    }
    return undefined;
  }
}
