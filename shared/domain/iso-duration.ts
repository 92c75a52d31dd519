/**
 * ISO 8601 durations as Azure resource properties write them (`PT5M`, `P14D`, `PT10M30S`).
 * Only days, hours, minutes and seconds: years and months have no fixed length, and Service
 * Bus never needs them.
 */
const DURATION = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

/** Milliseconds of an ISO 8601 duration, or undefined when it is not one this parser accepts. */
export function isoDurationMs(text: string): number | undefined {
  const match = DURATION.exec(text);
  if (!match || text === 'P' || text.endsWith('T')) return undefined;
  const [, days, hours, minutes, seconds] = match;
  if ([days, hours, minutes, seconds].every((part) => part === undefined)) return undefined;
  return (
    Number(days ?? 0) * 86_400_000 +
    Number(hours ?? 0) * 3_600_000 +
    Number(minutes ?? 0) * 60_000 +
    Math.round(Number(seconds ?? 0) * 1000)
  );
}
