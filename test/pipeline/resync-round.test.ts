import { describe, expect, it } from 'vitest';
import { isFullRoundDue, FULL_ROUND_AFTER_MS } from '../../shared/domain/resync-round.js';

const HOUR = 3_600_000;
const at = (iso: string) => new Date(iso);

describe('which resync rounds list every user (pure)', () => {
  it('lists everyone on the first round, when no delta link was ever saved', () => {
    expect(isFullRoundDue({ deltaLink: undefined, lastFullRoundAt: undefined, now: at('2026-11-02T12:45:00Z') })).toBe(true);
  });

  it('lists everyone again once a day: at the same time the next day, even when yesterday\'s round started a few minutes late', () => {
    const last = '2026-11-02T12:47:30.000Z';
    expect(isFullRoundDue({ deltaLink: 'link', lastFullRoundAt: last, now: at('2026-11-03T00:45:00Z') })).toBe(false);
    expect(isFullRoundDue({ deltaLink: 'link', lastFullRoundAt: last, now: at('2026-11-03T12:45:00Z') })).toBe(true);
    expect(FULL_ROUND_AFTER_MS).toBeLessThan(24 * HOUR);
    expect(FULL_ROUND_AFTER_MS).toBeGreaterThan(12 * HOUR);
  });

  it('lists everyone when the time of the last full round is missing or unreadable (a deployment from before full rounds)', () => {
    expect(isFullRoundDue({ deltaLink: 'link', lastFullRoundAt: undefined, now: at('2026-11-03T12:45:00Z') })).toBe(true);
    expect(isFullRoundDue({ deltaLink: 'link', lastFullRoundAt: 'yesterday', now: at('2026-11-03T12:45:00Z') })).toBe(true);
  });
});
