/**
 * One truth per person: message order is never trusted (reschedules, replays, several Function
 * instances, competing workers and late HR systems all reorder), so each stage judges what it
 * receives against the newest facts and versions kept in the person's record. Pure: no I/O, no
 * clock; every rule here is unit-tested in test/ordering/ordering.test.ts.
 */
import type { HrPerson, UserChange } from '../contracts/messages.js';

/** The HR lifecycle of a person: `left` is sticky until a newer HR joiner (a rehire). */
export interface Lifecycle {
  state: 'active' | 'left';
  /** occurredAt of the HR event that set it. */
  at: string;
  eventId: string;
}

/** The facts a record keeps, with their version (the occurredAt of the newest HR event). */
export interface PersonFacts {
  lastEventAt: string | null;
  lastEventId: string | null;
  person: HrPerson | null;
  lifecycle: Lifecycle | null;
}

export interface StoredFacts {
  lastEventAt: string | null;
  lastEventId: string | null;
  person?: HrPerson | null | undefined;
  lifecycle?: Lifecycle | null | undefined;
}

export type ChangeJudgement =
  | { kind: 'stale'; summary: string }
  | { kind: 'fresh'; facts: PersonFacts };

/** The facts a record holds, as they are. */
export function storedFacts(stored: StoredFacts | undefined): PersonFacts {
  return {
    lastEventAt: stored?.lastEventAt ?? null,
    lastEventId: stored?.lastEventId ?? null,
    person: stored?.person ?? null,
    lifecycle: stored?.lifecycle ?? null,
  };
}

/**
 * An HR event older (by occurredAt) than the newest one already taken is stale: it changes
 * nothing. A fresh HR event replaces the stored person and moves the lifecycle (joiner → active,
 * leaver → left, mover keeps it). Graph and resync changes carry no facts of their own: the
 * stored facts stand, and the directory is read afresh.
 */
export function judgeChange(stored: StoredFacts | undefined, change: UserChange): ChangeJudgement {
  const facts = storedFacts(stored);
  if (change.source !== 'hr') return { kind: 'fresh', facts };
  if (facts.lastEventAt && facts.lastEventId !== change.eventId && Date.parse(change.occurredAt) < Date.parse(facts.lastEventAt)) {
    return {
      kind: 'stale',
      summary: `event ${change.eventId} (${change.occurredAt}) is older than ${facts.lastEventId} (${facts.lastEventAt}), which already applies; nothing stored changed`,
    };
  }
  const lifecycle: Lifecycle | null =
    change.changeType === 'joiner'
      ? { state: 'active', at: change.occurredAt, eventId: change.eventId }
      : change.changeType === 'leaver'
        ? { state: 'left', at: change.occurredAt, eventId: change.eventId }
        : facts.lifecycle;
  return {
    kind: 'fresh',
    facts: {
      lastEventAt: change.occurredAt,
      lastEventId: change.eventId,
      person: change.person ?? facts.person,
      lifecycle,
    },
  };
}

/** True when HR says the person left and no newer HR joiner has said otherwise. */
export function hasLeft(facts: Pick<PersonFacts, 'lifecycle'>): boolean {
  return facts.lifecycle?.state === 'left';
}

export function describeLeft(lifecycle: Lifecycle): string {
  return `left (HR leaver ${lifecycle.eventId} at ${lifecycle.at}); voice stays off until a newer HR joiner`;
}

/** The versions a record keeps about plans and what was applied. */
export interface StoredVersions {
  planVersion?: number | undefined;
  plannedCommandId?: string | null | undefined;
  appliedVersion?: number | undefined;
}

/**
 * The version of a new plan: one more than the newest, except that planning the very same
 * command again (a redelivered user-change) keeps its version.
 */
export function nextPlanVersion(stored: StoredVersions | undefined, commandId: string): number {
  const newest = stored?.planVersion ?? 0;
  if (newest > 0 && stored?.plannedCommandId === commandId) return newest;
  return newest + 1;
}

export type VersionJudgement = { kind: 'current' } | { kind: 'superseded'; version: number; newer: number; summary: string };

/**
 * A command or result made from an older plan than the one already applied for the person is
 * superseded. Commands without a version (made before versions existed) are not judged.
 */
export function judgeVersion(version: number | undefined, appliedVersion: number | undefined, what: string): VersionJudgement {
  if (version === undefined || appliedVersion === undefined || version >= appliedVersion) return { kind: 'current' };
  return {
    kind: 'superseded',
    version,
    newer: appliedVersion,
    summary: `${what} was planned from version ${version}, but version ${appliedVersion} is already applied for this person`,
  };
}

/**
 * `dlq replay` of a voice command: refused when a newer plan exists for the person, since
 * executing it would bring back what the newer truth replaced. The reason tells the operator
 * what to do instead.
 */
export function judgeReplayOfCommand(version: number | undefined, stored: StoredVersions | undefined): string | undefined {
  const newest = stored?.planVersion;
  if (version === undefined || newest === undefined || version >= newest) return undefined;
  return `superseded: this command was planned from version ${version}, the person's record is at version ${newest}; replaying it would undo newer facts. Purge it; to re-plan the person from their newest truth, replay their user-change or run dialtone plan`;
}
