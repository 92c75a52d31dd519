import { describe, expect, it } from 'vitest';
import { HISTORY_LIMIT, appendHistoryEntry, describeRepeats } from '../../shared/domain/history.js';
import type { ProvisioningHistoryEntry } from '../../shared/ports/provisioning-records.js';

const DAY = 86_400_000;
const day = (n: number) => new Date(Date.parse('2026-11-02T12:45:00.000Z') + n * DAY).toISOString();
const NOOP = 'anna@contoso.example: desired voice state already applied by cmd-1; nothing to send';

function line(partial: Partial<ProvisioningHistoryEntry> & Pick<ProvisioningHistoryEntry, 'at' | 'eventId'>): ProvisioningHistoryEntry {
  return { correlationId: partial.eventId, commandId: null, stage: 'plan', outcome: 'skipped', detail: NOOP, ...partial };
}
const resyncNoop = (n: number, detail = NOOP) => line({ at: day(n), eventId: `resync-${n}`, source: 'resync', detail });
const graphNoop = (n: number) => line({ at: day(n), eventId: `graph-${n}`, source: 'graph' });
const hrNoop = (n: number, eventId: string) => line({ at: day(n), eventId, source: 'hr' });
const applied = (n: number, eventId: string): ProvisioningHistoryEntry => ({
  at: day(n),
  correlationId: eventId,
  eventId,
  commandId: `cmd-${eventId}`,
  stage: 'record',
  outcome: 'applied',
  detail: 'applied: Enterprise Voice on, number +31201234000',
});

const play = (entries: ProvisioningHistoryEntry[]) => entries.reduce<ProvisioningHistoryEntry[]>((h, e) => appendHistoryEntry(h, e), []);

describe('provisioning history: repeated directory re-plans that sent nothing', () => {
  it('collapses a run of resync no-ops into one line with the count and the first and last time', () => {
    const history = play([applied(0, 'evt-1'), ...Array.from({ length: 12 }, (_, i) => resyncNoop(i + 1))]);
    expect(history).toHaveLength(2);
    expect(history[1]).toMatchObject({ eventId: 'resync-12', correlationId: 'resync-12', at: day(12), firstAt: day(1), repeats: 12, detail: NOOP });
    expect(describeRepeats(history[1]!)).toBe(` ×12, ${day(1)} … ${day(12)}`);
    expect(describeRepeats(history[0]!)).toBe('');
  });

  it('treats Graph change no-ops and resync no-ops with the same detail as one run', () => {
    const history = play([resyncNoop(1), graphNoop(2), resyncNoop(3)]);
    expect(history).toEqual([expect.objectContaining({ eventId: 'resync-3', repeats: 3, firstAt: day(1) })]);
  });

  it("keeps every HR event's own line, even a no-op that repeats the line before it", () => {
    const history = play([resyncNoop(1), hrNoop(2, 'c2-move'), hrNoop(3, 'c3-move'), resyncNoop(4), resyncNoop(5)]);
    expect(history.map((e) => e.eventId)).toEqual(['resync-1', 'c2-move', 'c3-move', 'resync-5']);
    expect(history[3]).toMatchObject({ repeats: 2, firstAt: day(4) });
    expect(history[1]).not.toHaveProperty('repeats');
  });

  it('starts a new line when the no-op says something else (a new command applied, a sticky leaver)', () => {
    const other = 'anna@contoso.example: desired voice state already applied by cmd-2; nothing to send';
    const history = play([resyncNoop(1), resyncNoop(2), applied(3, 'evt-3'), resyncNoop(4, other), resyncNoop(5, other), resyncNoop(6)]);
    expect(history.map((e) => [e.eventId, e.repeats ?? 1])).toEqual([
      ['resync-2', 2],
      ['evt-3', 1],
      ['resync-5', 2],
      ['resync-6', 1],
    ]);
  });

  it('never collapses a line that changed something, failed, was stale or refused, even from the resync', () => {
    const outcomes = ['command', 'released', 'stale', 'superseded', 'replay-refused', 'PoolExhausted'];
    const history = play(outcomes.flatMap((outcome, i) => [0, 1].map((k) => line({ at: day(2 * i + k), eventId: `resync-${outcome}-${k}`, source: 'resync', outcome }))));
    expect(history).toHaveLength(outcomes.length * 2);
    expect(history.every((e) => e.repeats === undefined)).toBe(true);
  });

  it('does not collapse lines whose source is unknown (written before the source was recorded)', () => {
    const legacy = line({ at: day(1), eventId: 'resync-old' });
    expect(play([legacy, { ...legacy, at: day(2) }])).toHaveLength(2);
    expect(play([legacy, resyncNoop(2)])).toHaveLength(2);
  });

  it('keeps a quiet person\'s HR lines through a year of daily full resync rounds', () => {
    const history = play([applied(0, 'j1'), hrNoop(0, 'c2-move'), ...Array.from({ length: 365 }, (_, i) => resyncNoop(i + 1))]);
    expect(history.map((e) => e.eventId)).toEqual(['j1', 'c2-move', 'resync-365']);
    expect(history[2]).toMatchObject({ repeats: 365 });
  });

  it('still keeps only the newest entries', () => {
    const history = play(Array.from({ length: HISTORY_LIMIT + 5 }, (_, i) => applied(i, `evt-${i}`)));
    expect(history).toHaveLength(HISTORY_LIMIT);
    expect(history[0]?.eventId).toBe('evt-5');
  });
});
