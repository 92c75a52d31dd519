/**
 * A certificate version is dated by the clock of the service that made it (Key Vault), and read by
 * hosts whose clocks may be minutes off. Entra judges the key credential and the sign-in on its own
 * clock, so a host that refused a version whose start is minutes ahead of its own clock would refuse
 * a certificate Entra accepts (a worker 5 minutes slow right after a rotation). Dialtone's own
 * checks allow this much; beyond it the version is not valid yet.
 */
export const CERTIFICATE_CLOCK_SKEW_MS = 10 * 60_000;

/** How far `notBefore` is ahead of `nowMs` (0 when it has begun). */
export function aheadOfClockMs(notBefore: Date, nowMs: number): number {
  return Math.max(0, notBefore.getTime() - nowMs);
}

/** Not valid yet even allowing for clock skew. */
export function notValidYet(notBefore: Date, nowMs: number): boolean {
  return aheadOfClockMs(notBefore, nowMs) > CERTIFICATE_CLOCK_SKEW_MS;
}
