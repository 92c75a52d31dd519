import { describe, expect, it } from 'vitest';
import { decideAllocation, isAvailable, poolExhaustedMessage, summarizePool, transition } from '../../shared/domain/allocation.js';
import type { NumberRecord } from '../../shared/ports/number-inventory.js';

const now = new Date('2026-11-02T08:00:00.000Z');
const ctx = { now, correlationId: 'corr-1' };
const later = '2026-11-02T09:00:00.000Z';
const earlier = '2026-11-02T07:00:00.000Z';

function rec(number: string, patch: Partial<NumberRecord> = {}): NumberRecord {
  return { number, pool: 'ams', state: 'free', userId: null, reservedUntil: null, quarantinedUntil: null, owner: null, updatedAt: earlier, ...patch };
}

describe('isAvailable', () => {
  it('counts a lapsed reservation as available', () => {
    expect(isAvailable(rec('+1', { state: 'reserved', userId: 'u', reservedUntil: now.toISOString() }), now)).toBe(true);
  });

  it('does not count a running reservation', () => {
    expect(isAvailable(rec('+1', { state: 'reserved', userId: 'u', reservedUntil: later }), now)).toBe(false);
  });

  it('counts an ended quarantine as available', () => {
    expect(isAvailable(rec('+1', { state: 'quarantined', userId: 'u', quarantinedUntil: earlier }), now)).toBe(true);
  });

  it('never counts a blocked number', () => {
    expect(isAvailable(rec('+1', { state: 'blocked', owner: 'x' }), now)).toBe(false);
  });
});

describe('decideAllocation', () => {
  it('reuses what the user holds', () => {
    const held = rec('+31201234005', { state: 'assigned', userId: 'u' });
    expect(decideAllocation('u', [rec('+31201234000'), held], now)).toEqual({ kind: 'reuse', record: held, refresh: false });
  });

  it('refreshes the user’s own lapsed reservation', () => {
    const held = rec('+31201234005', { state: 'reserved', userId: 'u', reservedUntil: earlier });
    expect(decideAllocation('u', [held], now)).toEqual({ kind: 'reuse', record: held, refresh: true });
  });

  it('gives a rehire the number still quarantined for them', () => {
    const old = rec('+31201234005', { state: 'quarantined', userId: 'u', quarantinedUntil: later });
    expect(decideAllocation('u', [rec('+31201234000'), old], now)).toEqual({ kind: 'rehire', record: old });
  });

  it('offers available numbers lowest first', () => {
    const decision = decideAllocation('u', [rec('+31201234009'), rec('+31201234001', { state: 'blocked' }), rec('+31201234003')], now);
    expect(decision.kind === 'take' && decision.candidates.map((c) => c.number)).toEqual(['+31201234003', '+31201234009']);
  });

  it('has nothing when nothing is available', () => {
    expect(decideAllocation('u', [rec('+1', { state: 'assigned', userId: 'v' })], now)).toEqual({ kind: 'none' });
  });
});

describe('transition', () => {
  it('reserve on a lapsed reservation records the reclaim first', () => {
    const result = transition(rec('+1', { state: 'reserved', userId: 'v', reservedUntil: earlier }), { type: 'reserve', userId: 'u', reservedUntil: new Date(later) }, ctx);
    expect(result.kind === 'change' && result.history.map((h) => `${h.action}:${h.userId}:${h.note}`)).toEqual([
      'reclaimed:v:was reserved for v until 2026-11-02T07:00:00.000Z',
      `reserved:u:until ${later}`,
    ]);
  });

  it('refuses to reserve a number someone else holds', () => {
    expect(transition(rec('+1', { state: 'assigned', userId: 'v' }), { type: 'reserve', userId: 'u', reservedUntil: new Date(later) }, ctx)).toEqual({
      kind: 'refused',
      code: 'NumberConflict',
      message: '+1 is assigned to v, not available',
    });
  });

  it('confirm is idempotent', () => {
    expect(transition(rec('+1', { state: 'assigned', userId: 'u' }), { type: 'confirm', userId: 'u' }, ctx)).toEqual({ kind: 'unchanged', why: 'already assigned' });
  });

  it('release quarantines for the user until the date given', () => {
    const result = transition(rec('+1', { state: 'assigned', userId: 'u' }), { type: 'release', userId: 'u', quarantinedUntil: new Date(later) }, ctx);
    expect(result.kind === 'change' && result.record).toEqual(rec('+1', { state: 'quarantined', userId: 'u', quarantinedUntil: later, updatedAt: now.toISOString() }));
  });

  it('release of a number the user does not hold changes nothing', () => {
    expect(transition(rec('+1', { state: 'assigned', userId: 'v' }), { type: 'release', userId: 'u', quarantinedUntil: new Date(later) }, ctx).kind).toBe('unchanged');
  });

  it('block forgets the user and keeps the owner', () => {
    const result = transition(rec('+1', { state: 'reserved', userId: 'u', reservedUntil: later }), { type: 'block', owner: 'x@contoso.com' }, ctx);
    expect(result.kind === 'change' && result.record).toMatchObject({ state: 'blocked', owner: 'x@contoso.com', userId: null, reservedUntil: null });
  });

  it('unblock leaves a number that is not blocked alone', () => {
    expect(transition(rec('+1'), { type: 'unblock' }, ctx)).toEqual({ kind: 'unchanged', why: '+1 is not blocked' });
  });
});

describe('poolExhaustedMessage', () => {
  it('names the pool, its size, its counts and what to do', () => {
    const summary = summarizePool('ams', 90, [{ state: 'assigned' }, { state: 'quarantined' }, { state: 'blocked' }]);
    expect(poolExhaustedMessage(summary)).toBe(
      "pool 'ams' has no free number (3 numbers: 0 free, 0 reserved, 1 assigned, 1 quarantined, 1 blocked). Add a range with `dialtone numbers import` and replay the dead letter.",
    );
  });
});

describe('the inventory after a late result or a lapsed reservation', () => {
  it('ranks a free number before an ended quarantine before a lapsed reservation', () => {
    const lapsed = rec('+31201234000', { state: 'reserved', userId: 'a', reservedUntil: earlier });
    const ended = rec('+31201234001', { state: 'quarantined', userId: 'q', quarantinedUntil: earlier });
    const free = rec('+31201234002');
    expect(decideAllocation('b', [lapsed, ended, free], now)).toEqual({ kind: 'take', candidates: [free, ended, lapsed] });
  });

  it('refuses to confirm a number quarantined for the same person', () => {
    const quarantined = rec('+1', { state: 'quarantined', userId: 'u', quarantinedUntil: later });
    expect(transition(quarantined, { type: 'confirm', userId: 'u' }, ctx)).toMatchObject({ kind: 'refused', code: 'NumberConflict' });
  });

  it('adopts what Teams holds: assigned to the holder, the displaced reservation in the history', () => {
    const reserved = rec('+1', { state: 'reserved', userId: 'b', reservedUntil: later });
    expect(transition(reserved, { type: 'adopt', userId: 'a' }, ctx)).toEqual({
      kind: 'change',
      record: { ...reserved, state: 'assigned', userId: 'a', reservedUntil: null, updatedAt: now.toISOString() },
      history: [{ at: now.toISOString(), number: '+1', action: 'adopted', userId: 'a', correlationId: 'corr-1', note: `Teams holds it for a; was reserved for b until ${later}` }],
    });
  });
});
