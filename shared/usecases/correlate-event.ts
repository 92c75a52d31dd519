import { queueNames, type HrEvent, type UserChange } from '../contracts/messages.js';
import {
  correlationLookups,
  describeAmbiguity,
  describeNotFound,
  judgeLookup,
} from '../domain/correlation.js';
import type { UseCaseResult } from '../handlers/stage-runner.js';
import type { Clock } from '../ports/clock.js';
import type { CorrelationStrategy, Directory } from '../ports/directory.js';

export interface CorrelateDeps {
  directory: Directory;
  clock: Clock;
  strategies: readonly CorrelationStrategy[];
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
      const change: UserChange = {
        userId: result.user.id,
        source: 'hr',
        changeType: event.type,
        eventId: event.eventId,
        correlationId,
        occurredAt: event.occurredAt,
        person: event.person,
        snapshot: { readAt: deps.clock.now().toISOString(), user: result.user },
      };
      return {
        outcome: {
          kind: 'done',
          summary: `${event.type} ${event.person.employeeId} is ${result.user.userPrincipalName} (by ${lookup.strategy})`,
        },
        send: [
          {
            queue: queueNames.userChanges,
            messages: [
              {
                body: change,
                messageId: `uc-${event.eventId}`.slice(0, 128),
                sessionId: result.user.id,
                correlationId,
                contentType: 'application/json',
                subject: event.type,
              },
            ],
          },
        ],
      };
    }
  }
  return { outcome: { kind: 'wait', code: 'UserNotFound', message: describeNotFound(lookups) } };
}
