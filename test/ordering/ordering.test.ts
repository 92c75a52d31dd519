import { describe, expect, it } from 'vitest';
import type { UserChange } from '../../shared/contracts/messages.js';
import { hasLeft, judgeChange, judgeReplayOfCommand, judgeVersion, nextPlanVersion, type StoredFacts } from '../../shared/domain/ordering.js';

const hr = (eventId: string, changeType: 'joiner' | 'mover' | 'leaver', occurredAt: string, site?: string): UserChange => ({
  userId: 'u1',
  source: 'hr',
  changeType,
  eventId,
  correlationId: eventId,
  occurredAt,
  person: { employeeId: 'E1', ...(site ? { site } : {}) },
});
const graph = (occurredAt: string): UserChange => ({ userId: 'u1', source: 'graph', changeType: 'updated', eventId: `g-${occurredAt}`, correlationId: 'g', occurredAt });

function fold(changes: UserChange[]): StoredFacts {
  let stored: StoredFacts = { lastEventAt: null, lastEventId: null };
  for (const c of changes) {
    const j = judgeChange(stored, c);
    if (j.kind === 'fresh') stored = j.facts;
  }
  return stored;
}

describe('the ordering model: facts and their version', () => {
  it('marks an HR event older than the newest one stale and keeps the stored person', () => {
    const stored = fold([hr('j', 'joiner', '2026-11-02T08:00:00Z', 'AMS'), hr('m2', 'mover', '2026-11-05T08:00:00Z', 'RTM')]);
    const late = judgeChange(stored, hr('m1', 'mover', '2026-11-04T08:00:00Z', 'AMS'));
    expect(late.kind).toBe('stale');
    expect(stored.person?.site).toBe('RTM');
  });

  it('treats a rescheduled copy of the newest HR event as fresh, not stale', () => {
    const stored = fold([hr('j', 'joiner', '2026-11-02T08:00:00Z', 'AMS')]);
    expect(judgeChange(stored, hr('j', 'joiner', '2026-11-02T08:00:00Z', 'AMS')).kind).toBe('fresh');
  });

  it('keeps a leaver left through movers and Graph changes until a newer joiner', () => {
    const left = fold([hr('j', 'joiner', '2026-11-02T08:00:00Z', 'AMS'), hr('l', 'leaver', '2026-11-09T08:00:00Z'), hr('m', 'mover', '2026-11-10T08:00:00Z', 'RTM'), graph('2026-11-11T08:00:00Z')]);
    expect(hasLeft({ lifecycle: left.lifecycle ?? null })).toBe(true);
    expect(left.person?.site).toBe('RTM');
    const olderJoiner = judgeChange(left, hr('j0', 'joiner', '2026-11-08T08:00:00Z', 'AMS'));
    expect(olderJoiner.kind).toBe('stale');
    const rehired = judgeChange(left, hr('j2', 'joiner', '2026-11-20T08:00:00Z', 'AMS'));
    expect(rehired.kind === 'fresh' && rehired.facts.lifecycle).toMatchObject({ state: 'active', eventId: 'j2' });
  });

  it('leaves the stored facts alone for Graph and resync changes', () => {
    const stored = fold([hr('l', 'leaver', '2026-11-09T08:00:00Z', 'AMS')]);
    const j = judgeChange(stored, graph('2026-11-10T08:00:00Z'));
    expect(j).toEqual({ kind: 'fresh', facts: { lastEventAt: '2026-11-09T08:00:00Z', lastEventId: 'l', person: stored.person, lifecycle: stored.lifecycle } });
  });

  it('numbers plans in order and keeps the version of a command planned again', () => {
    expect(nextPlanVersion(undefined, 'c1')).toBe(1);
    expect(nextPlanVersion({ planVersion: 1, plannedCommandId: 'c1' }, 'c1')).toBe(1);
    expect(nextPlanVersion({ planVersion: 1, plannedCommandId: 'c1' }, 'c2')).toBe(2);
  });

  it('supersedes a command or result older than the version already applied, and not an unversioned one', () => {
    expect(judgeVersion(1, 2, 'x').kind).toBe('superseded');
    expect(judgeVersion(2, 2, 'x').kind).toBe('current');
    expect(judgeVersion(undefined, 2, 'x').kind).toBe('current');
    expect(judgeVersion(1, undefined, 'x').kind).toBe('current');
  });

  it('refuses to replay a command a newer plan replaced', () => {
    expect(judgeReplayOfCommand(1, { planVersion: 2 })).toMatch(/^superseded: this command was planned from version 1, the person's record is at version 2/);
    expect(judgeReplayOfCommand(2, { planVersion: 2 })).toBeUndefined();
    expect(judgeReplayOfCommand(undefined, { planVersion: 2 })).toBeUndefined();
  });
});
