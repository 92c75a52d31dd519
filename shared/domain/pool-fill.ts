import type { PoolSummary } from '../ports/number-inventory.js';

export interface PoolFill {
  pool: string;
  total: number;
  free: number;
  /** Share of the pool's numbers that cannot be handed out now (reserved, assigned, quarantined, blocked): 0..1. */
  usedRatio: number;
}

/** How full a pool is; an empty pool counts as full (nothing can be allocated from it). */
export function poolFill(summary: PoolSummary): PoolFill {
  const free = summary.counts.free ?? 0;
  const usedRatio = summary.total > 0 ? (summary.total - free) / summary.total : 1;
  return { pool: summary.pool, total: summary.total, free, usedRatio: Math.round(usedRatio * 10_000) / 10_000 };
}
