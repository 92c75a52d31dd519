import { queueNames, type DirectoryUser, type HrEvent, type UserChange } from '../contracts/messages.js';
import {
  correlationLookups,
  describeAmbiguity,
  describeNotFound,
  judgeLookup,
} from '../domain/correlation.js';
import type { UseCaseResult } from '../handlers/stage-runner.js';
import type { Clock } from '../ports/clock.js';
import { lookupKey, type CorrelationStrategy, type Directory } from '../ports/directory.js';
import type { ProvisioningRecord, ProvisioningRecords } from '../ports/provisioning-records.js';

export interface CorrelateDeps {
  directory: Directory;
  clock: Clock;
  strategies: readonly CorrelationStrategy[];
  /** For a leaver already gone from Entra ID: who Dialtone provisioned under that employee id. */
  records?: ProvisioningRecords;
}

/** hr-events → user-changes: find the one Entra ID user this HR event is about. */
export async function correlateEvent(event: HrEvent, correlationId: string, deps: CorrelateDeps): Promise<UseCaseResult> {
  const lookups = correlationLookups(event.person, deps.strategies);
  if (lookups.length === 0) {
    return {
      outcome: {
        kind: 'permanent',
        code: 'InvalidMessage',
        message: `${describeNotFound(lookups)} Configured strategies: ${deps.strategies.join(', ')}; the event needs at least one of those attributes.`,
      },
    };
  }
  for (const lookup of lookups) {
    const users = await deps.directory.findUsers(lookup.strategy, lookup.value);
    const result = judgeLookup(lookup, users);
    if (result.kind === 'ambiguous') {
      return { outcome: { kind: 'permanent', code: 'UserAmbiguous', message: describeAmbiguity(result) } };
    }
    if (result.kind === 'found') {
      return forward(
        event,
        correlationId,
        result.user.id,
        result.user,
        `${event.type} ${event.person.employeeId} is ${result.user.userPrincipalName} (by ${lookup.strategy})`,
        deps.clock.now(),
      );
    }
  }
  if (event.type === 'leaver' && deps.records) {
    const known = await provisionedPerson(deps.records, event.person);
    if (known) {
      const summary = `leaver ${event.person.employeeId} is ${known.userPrincipalName}, no longer in Entra ID (by Dialtone's record)`;
      return forward(event, correlationId, known.userId, undefined, summary);
    }
  }
  return { outcome: { kind: 'wait', code: 'UserNotFound', message: describeNotFound(lookups) } };
}

/**
 * A leaver whose account was deleted before the HR event arrived can no longer be found in
 * Graph; the provisioning record still knows the employee id, so the numbers can be released.
 */
async function provisionedPerson(records: ProvisioningRecords, person: HrEvent['person']): Promise<ProvisioningRecord | undefined> {
  const upn = person.userPrincipalName?.toLowerCase();
  const matches = (await records.list()).filter(
    (r) => r.person?.employeeId === person.employeeId || (upn !== undefined && r.userPrincipalName.toLowerCase() === upn),
  );
  return matches.length === 1 ? matches[0] : undefined;
}

function forward(event: HrEvent, correlationId: string, userId: string, user: DirectoryUser | undefined, summary: string, now?: Date): UseCaseResult {
  const change: UserChange = {
    userId,
    source: 'hr',
    changeType: event.type,
    eventId: event.eventId,
    correlationId,
    occurredAt: event.occurredAt,
    person: event.person,
    ...(user && now ? { snapshot: { readAt: now.toISOString(), user } } : {}),
  };
  return {
    outcome: { kind: 'done', summary },
    send: [
      {
        queue: queueNames.userChanges,
        messages: [
          {
            body: change,
            messageId: `uc-${event.eventId}`.slice(0, 128),
            sessionId: userId,
            correlationId,
            contentType: 'application/json',
            subject: event.type,
          },
        ],
      },
    ],
  };
}

/**
 * For an invocation's events: their first lookups answered in Graph $batch requests, as a
 * Directory that serves those answers (each exactly what findUsers would have returned or
 * thrown) and asks Graph itself for anything else. Undefined when the directory cannot batch.
 */
export async function prefetchLookups(directory: Directory, events: HrEvent[], strategies: readonly CorrelationStrategy[]): Promise<Directory | undefined> {
  if (!directory.findUsersBatch) return undefined;
  const first = events.map((e) => correlationLookups(e.person, strategies)[0]).filter((l) => l !== undefined);
  if (first.length < 2) return undefined;
  const answers = await directory.findUsersBatch(first);
  return {
    async findUsers(strategy, value) {
      const answer = answers.get(lookupKey(strategy, value));
      if (answer === undefined) return directory.findUsers(strategy, value);
      if (answer.kind === 'error') throw answer.error;
      return answer.users;
    },
    getUser: (userId) => directory.getUser(userId),
  };
}
