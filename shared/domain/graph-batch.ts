/**
 * Graph JSON batching, the pure part: splitting requests into batches of Graph's documented
 * limit (20) and reading one sub-response's status into what the caller does with it. Graph
 * throttles and fails sub-requests one by one, so each answer carries its own status and
 * Retry-After.
 */

/** Graph's limit of requests in one `$batch`. */
export const GRAPH_BATCH_LIMIT = 20;

export function chunks<T>(items: readonly T[], size = GRAPH_BATCH_LIMIT): T[][] {
  if (!Number.isInteger(size) || size < 1 || size > GRAPH_BATCH_LIMIT) throw new RangeError(`batch size must be 1..${GRAPH_BATCH_LIMIT}`);
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** A sub-response's headers, case-insensitively (Graph writes `Retry-After`, proxies may lower it). */
export function headerOf(headers: Record<string, string> | undefined, name: string): string | null {
  if (!headers) return null;
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? null : (headers[key] ?? null);
}
