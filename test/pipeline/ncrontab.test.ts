import { describe, expect, it } from 'vitest';
import { timerSchedules } from '../../shared/config/timer-schedules.js';
import { nextOccurrence, parseNcrontab } from '../../shared/domain/ncrontab.js';

const next = (schedule: string, after: string) => nextOccurrence(parseNcrontab(schedule), new Date(after)).toISOString();

describe('NCRONTAB schedules of the timer Functions', () => {
  it('runs graphSubscription at :15 of every sixth hour (00, 06, 12, 18 UTC)', () => {
    expect(next(timerSchedules.graphSubscription, '2026-11-02T08:00:00Z')).toBe('2026-11-02T12:15:00.000Z');
    expect(next(timerSchedules.graphSubscription, '2026-11-02T12:15:00Z')).toBe('2026-11-02T18:15:00.000Z');
    expect(next(timerSchedules.graphSubscription, '2026-11-02T23:59:59Z')).toBe('2026-11-03T00:15:00.000Z');
  });

  it('runs graphResync at 00:45 and 12:45 UTC', () => {
    expect(next(timerSchedules.graphResync, '2026-11-02T08:00:00Z')).toBe('2026-11-02T12:45:00.000Z');
    expect(next(timerSchedules.graphResync, '2026-11-02T12:45:00.500Z')).toBe('2026-11-03T00:45:00.000Z');
  });

  it('reads ranges, lists and day-of-week', () => {
    expect(next('0 30 9-17/4 * * 1-5', '2026-11-07T10:00:00Z')).toBe('2026-11-09T09:30:00.000Z'); // Saturday → Monday
    expect(next('0 0,30 * * * *', '2026-11-02T08:10:00Z')).toBe('2026-11-02T08:30:00.000Z');
  });

  it('refuses a schedule that is not six fields or out of range, naming the field', () => {
    expect(() => parseNcrontab('0 */5 * * *')).toThrow(/expected 6 fields/);
    expect(() => parseNcrontab('0 61 * * * *')).toThrow(/minute '61'/);
  });
});
