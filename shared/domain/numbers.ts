import { z } from 'zod';

export const numberStates = ['free', 'reserved', 'assigned', 'quarantined', 'blocked'] as const;
export const NumberStateSchema = z.enum(numberStates);
export type NumberState = z.infer<typeof NumberStateSchema>;

const e164Digits = z.string().regex(/^\+[1-9]\d{6,14}$/, 'must be E.164 such as +31201234000 (no spaces, no tel:)');

export const NumberRangeSchema = z
  .object({
    from: e164Digits,
    to: e164Digits,
    /** For pools that hand out extensions on one trunk number: +31201234567;ext=100 … ;ext=199. */
    extensions: z.object({ from: z.number().int().nonnegative(), to: z.number().int().nonnegative() }).optional(),
  })
  .refine((r) => r.from.length === r.to.length && r.from <= r.to, {
    message: 'from and to must have the same length and from ≤ to',
    path: ['to'],
  })
  .refine((r) => r.extensions === undefined || (r.from === r.to && r.extensions.from <= r.extensions.to), {
    message: 'a range with extensions names one trunk number (from = to) and extensions.from ≤ extensions.to',
    path: ['extensions'],
  });
export type NumberRange = z.infer<typeof NumberRangeSchema>;

export const PoolDefinitionSchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be lower-case letters, digits and dashes'),
  ranges: z.array(NumberRangeSchema).min(1),
  quarantineDays: z.number().int().min(0).max(3650).default(90),
  /** The tenant the pool belongs to (the sandbox with several tenants); none = the deployment's default tenant. */
  tenantId: z.string().trim().min(1).max(64).optional(),
});
export type PoolDefinition = z.infer<typeof PoolDefinitionSchema>;

/** The --numbers / `dialtone numbers import` file (contracts/numbers.example.json). */
export const PoolsFileSchema = z.object({ pools: z.array(PoolDefinitionSchema) });
export type PoolsFile = z.infer<typeof PoolsFileSchema>;

/** A single pool larger than this is almost certainly a typo in a range, and would not fit a partition scan. */
export const MAX_POOL_NUMBERS = 100_000;

export class PoolDefinitionError extends Error {
  override readonly name = 'PoolDefinitionError';
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
  }
}

/** The numbers one range stands for, in ascending order. */
export function rangeSize(range: NumberRange): number {
  if (range.extensions) return range.extensions.to - range.extensions.from + 1;
  return Number(BigInt(range.to.slice(1)) - BigInt(range.from.slice(1)) + 1n);
}

export function expandRange(range: NumberRange): string[] {
  const out: string[] = [];
  if (range.extensions) {
    for (let ext = range.extensions.from; ext <= range.extensions.to; ext++) out.push(`${range.from};ext=${ext}`);
    return out;
  }
  const width = range.from.length - 1;
  const last = BigInt(range.to.slice(1));
  for (let n = BigInt(range.from.slice(1)); n <= last; n++) out.push(`+${n.toString().padStart(width, '0')}`);
  return out;
}

/**
 * Every number of every pool, checked: no pool over `maxPerPool`, no pool id twice and no number in
 * two places. Errors name the field path (pools[1].ranges[0]) so the file can be fixed.
 */
export function expandPools(pools: PoolDefinition[], maxPerPool = MAX_POOL_NUMBERS): Map<string, string[]> {
  const byPool = new Map<string, string[]>();
  const seen = new Map<string, string>();
  pools.forEach((pool, p) => {
    if (byPool.has(pool.id)) throw new PoolDefinitionError(`pools[${p}].id`, `pool '${pool.id}' is defined twice`);
    const total = pool.ranges.reduce((sum, range) => sum + rangeSize(range), 0);
    if (total > maxPerPool) {
      throw new PoolDefinitionError(
        `pools[${p}].ranges`,
        `pool '${pool.id}' would hold ${total} numbers, more than the ${maxPerPool} a pool may hold; split it into several pools or check the range ends`,
      );
    }
    const numbers: string[] = [];
    pool.ranges.forEach((range, r) => {
      for (const number of expandRange(range)) {
        const where = `pools[${p}].ranges[${r}]`;
        const earlier = seen.get(number);
        if (earlier) throw new PoolDefinitionError(where, `${number} is already listed at ${earlier}`);
        seen.set(number, where);
        numbers.push(number);
      }
    });
    byPool.set(pool.id, numbers.sort(compareNumbers));
  });
  return byPool;
}

const NUMBER_PARTS = /^\+(\d+)(?:;ext=(\d+))?$/;

/** Numeric order: trunk number first (shorter is lower), then extension. */
export function numberSortKey(number: string): string {
  const match = NUMBER_PARTS.exec(number);
  if (!match) return number;
  const base = (match[1] ?? '').padStart(15, '0');
  return match[2] === undefined ? base : `${base};${match[2].padStart(10, '0')}`;
}

export function compareNumbers(a: string, b: string): number {
  const ka = numberSortKey(a);
  const kb = numberSortKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/**
 * The sort key `offset` numbers above `sortKey` (in its last numeric part: the extension when it
 * has one, else the trunk number), for spreading allocators over a pool. The key may fall in a
 * gap between ranges or past the pool's end: it is a place to start looking, not a number.
 */
export function offsetSortKey(sortKey: string, offset: number): string {
  const match = /^(\d{15})(?:;(\d{10}))?$/.exec(sortKey);
  if (!match) return sortKey;
  const trunk = match[1] ?? '';
  if (match[2] !== undefined) return `${trunk};${String(Number(match[2]) + offset).padStart(10, '0')}`;
  return (BigInt(trunk) + BigInt(offset)).toString().padStart(15, '0');
}
