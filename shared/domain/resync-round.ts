/**
 * Which directory resync rounds list every user rather than the changes since the last round.
 * Users delta does not report licence changes (Graph: "changes to the licenseAssignmentStates
 * property are currently not tracked"), so a licence removal whose notification was lost is
 * only found by reading every provisioned user again.
 */

/**
 * A round lists every user when the last full round started at least this long ago: with the
 * 12-hour schedule that is every other round, once a day, even when yesterday's round started a
 * few minutes late (a timer retry).
 */
export const FULL_ROUND_AFTER_MS = 20 * 3_600_000;

export function isFullRoundDue(input: { deltaLink: string | undefined; lastFullRoundAt: string | undefined; now: Date; afterMs?: number }): boolean {
  if (input.deltaLink === undefined || input.lastFullRoundAt === undefined) return true;
  const last = Date.parse(input.lastFullRoundAt);
  if (!Number.isFinite(last)) return true;
  return input.now.getTime() - last >= (input.afterMs ?? FULL_ROUND_AFTER_MS);
}
