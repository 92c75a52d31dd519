/**
 * Attribute globs for the voice policy: `*` is any run of characters (also none), `?` is exactly
 * one character, everything else is literal. Matching is anchored and case-insensitive; there is
 * no escape character, because HR attribute values that contain `*` or `?` do not occur in practice.
 */
export function globMatches(pattern: string, value: string): boolean {
  const p = Array.from(pattern.toLocaleLowerCase('en-US'));
  const v = Array.from(value.toLocaleLowerCase('en-US'));
  // Greedy scan that backtracks only to the last `*`: linear in practice and never catastrophic,
  // unlike a translated RegExp with several `.*` against a long value.
  let pi = 0;
  let vi = 0;
  let starP = -1;
  let starV = 0;
  while (vi < v.length) {
    const c = p[pi];
    if (c === '*') {
      starP = pi;
      starV = vi;
      pi += 1;
    } else if (c !== undefined && (c === '?' || c === v[vi])) {
      pi += 1;
      vi += 1;
    } else if (starP >= 0) {
      pi = starP + 1;
      starV += 1;
      vi = starV;
    } else {
      return false;
    }
  }
  while (p[pi] === '*') pi += 1;
  return pi === p.length;
}

/** True when the value matches any of the patterns. */
export function anyGlobMatches(patterns: readonly string[], value: string): boolean {
  return patterns.some((pattern) => globMatches(pattern, value));
}
