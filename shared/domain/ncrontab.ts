/**
 * NCRONTAB, the six-field schedule of Azure Functions timer triggers
 * (`{second} {minute} {hour} {day} {month} {day-of-week}`), in UTC. Supports `*`, numbers,
 * ranges `a-b`, steps `*\/n` and `a-b/n`, and lists `a,b`. Pure: the caller gives the time.
 */
const bounds = [
  [0, 59],
  [0, 59],
  [0, 23],
  [1, 31],
  [1, 12],
  [0, 6],
] as const;
const fieldNames = ['second', 'minute', 'hour', 'day', 'month', 'day-of-week'] as const;

export interface Schedule {
  readonly text: string;
  readonly fields: readonly (readonly boolean[])[];
}

export function parseNcrontab(text: string): Schedule {
  const parts = text.trim().split(/\s+/);
  if (parts.length !== 6) throw new Error(`schedule '${text}': expected 6 fields (second minute hour day month day-of-week), got ${parts.length}`);
  const fields = parts.map((part, i) => parseField(part, bounds[i]![0], bounds[i]![1], `${fieldNames[i]} '${part}' in '${text}'`));
  return { text, fields };
}

function parseField(part: string, min: number, max: number, what: string): boolean[] {
  const allowed: boolean[] = Array.from({ length: max + 1 }, () => false);
  for (const item of part.split(',')) {
    const match = /^(\*|\d+(?:-\d+)?)(?:\/(\d+))?$/.exec(item);
    if (!match) throw new Error(`schedule ${what}: not a number, range, step or list`);
    const [, range = '', stepText] = match;
    const step = stepText === undefined ? 1 : Number(stepText);
    let from = min;
    let to = max;
    if (range !== '*') {
      const [a, b] = range.split('-').map(Number);
      from = a!;
      to = b ?? (stepText === undefined ? a! : max);
    }
    if (step < 1 || from < min || to > max || from > to) throw new Error(`schedule ${what}: out of range ${min}-${max}`);
    for (let v = from; v <= to; v += step) allowed[v] = true;
  }
  return allowed;
}

/** The first occurrence strictly after `after` (UTC), searched up to five years ahead. */
export function nextOccurrence(schedule: Schedule, after: Date): Date {
  const [sec, min, hour, day, month, dow] = schedule.fields as [boolean[], boolean[], boolean[], boolean[], boolean[], boolean[]];
  const start = Math.floor(after.getTime() / 1000) * 1000 + 1000;
  const first = new Date(start);
  const dayStart = Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), first.getUTCDate());
  for (let d = 0; d < 5 * 366; d++) {
    const date = new Date(dayStart + d * 86_400_000);
    if (!month[date.getUTCMonth() + 1] || !day[date.getUTCDate()] || !dow[date.getUTCDay()]) continue;
    for (let h = 0; h < 24; h++) {
      if (!hour[h]) continue;
      for (let m = 0; m < 60; m++) {
        if (!min[m]) continue;
        for (let s = 0; s < 60; s++) {
          if (!sec[s]) continue;
          const at = date.getTime() + ((h * 60 + m) * 60 + s) * 1000;
          if (at >= start) return new Date(at);
        }
      }
    }
  }
  throw new Error(`schedule '${schedule.text}' has no occurrence within five years`);
}
