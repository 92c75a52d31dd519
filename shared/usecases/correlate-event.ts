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
import { personSessionId, userChangeMessageId } from '../domain/ids.js';
import { routeToTenant, type EffectiveTenant } from '../domain/tenants.js';
import { inTenant, perTenant, type OneOrPerTenant } from '../ports/per-tenant.js';

export interface CorrelateDeps {
  /** The directory, or each tenant's own (a person is looked up only in the directory of the tenant the event is routed to). */
  directory: OneOrPerTenant<Directory>;
  clock: Clock;
  strategies: readonly CorrelationStrategy[];
  /** For a leaver already gone from Entra ID: who Dialtone provisioned under that employee id. */
  records?: ProvisioningRecords;
  /**
   * The tenants in force (docs/MULTI-TENANT.md). Without them every event is the default tenant's
   * and is forwarded as before; with them an event is routed (its tenantId, its UPN domain, or the
   * only tenant) and one that cannot be placed is dead-lettered saying what to add.
   */
  tenants?: readonly EffectiveTenant[] | (() => Promise<readonly EffectiveTenant[]>);
}

/** hr-events → user-changes: find the one Entra ID user this HR event is about. */
export async function correlateEvent(event: HrEvent, correlationId: string, deps: CorrelateDeps): Promise<UseCaseResult> {
  const placed = await placeEvent(event, deps);
  if (!placed.ok) return { outcome: { kind: 'permanent', code: 'InvalidMessage', message: `tenantId: ${placed.reason}` } };
  // Only the routed tenant's directory is asked: the same UPN or employee id in another tenant is another person.
  const directory = await inTenant(deps.directory, placed.tenantId);
  return correlateIn(event, correlationId, { ...deps, directory, strategies: placed.strategies }, placed.tenantId);
}

/**
 * Which tenant an event belongs to (as named on messages: undefined for the implicit tenant of a
 * single-tenant deployment, so its messages stay as they were) and the lookup order there.
 */
async function placeEvent(
  event: HrEvent,
  deps: Pick<CorrelateDeps, 'tenants' | 'strategies'>,
): Promise<{ ok: true; tenantId: string | undefined; strategies: readonly CorrelationStrategy[] } | { ok: false; reason: string }> {
  if (!deps.tenants) return { ok: true, tenantId: event.tenantId, strategies: deps.strategies };
  const inForce = typeof deps.tenants === 'function' ? await deps.tenants() : deps.tenants;
  const routed = routeToTenant(event, inForce);
  if (!routed.ok) return routed;
  const tenant = inForce.find((t) => t.tenantId === routed.tenantId);
  return {
    ok: true,
    tenantId: tenant?.source === 'registry' ? routed.tenantId : event.tenantId,
    strategies: tenant?.correlationStrategies ?? deps.strategies,
  };
}

async function correlateIn(event: HrEvent, correlationId: string, deps: CorrelateDeps & { directory: Directory }, tenantId: string | undefined): Promise<UseCaseResult> {
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
        tenantId,
        correlationId,
        result.user.id,
        result.user,
        `${event.type} ${event.person.employeeId} is ${result.user.userPrincipalName} (by ${lookup.strategy})`,
        deps.clock.now(),
      );
    }
  }
  if (event.type === 'leaver' && deps.records) {
    const known = await provisionedPerson(deps.records, event.person, tenantId);
    if (known) {
      const summary = `leaver ${event.person.employeeId} is ${known.userPrincipalName}, no longer in Entra ID (by Dialtone's record)`;
      return forward(event, tenantId, correlationId, known.userId, undefined, summary);
    }
  }
  return { outcome: { kind: 'wait', code: 'UserNotFound', message: describeNotFound(lookups) } };
}

/**
 * A leaver whose account was deleted before the HR event arrived can no longer be found in
 * Graph; the provisioning record still knows the employee id, so the numbers can be released.
 */
async function provisionedPerson(records: ProvisioningRecords, person: HrEvent['person'], tenantId: string | undefined): Promise<ProvisioningRecord | undefined> {
  const upn = person.userPrincipalName?.toLowerCase();
  // Employee ids repeat across tenants: only the event's own tenant's people are candidates.
  const matches = (await records.list()).filter(
    (r) => r.tenantId === tenantId && (r.person?.employeeId === person.employeeId || (upn !== undefined && r.userPrincipalName.toLowerCase() === upn)),
  );
  return matches.length === 1 ? matches[0] : undefined;
}

function forward(event: HrEvent, tenantId: string | undefined, correlationId: string, userId: string, user: DirectoryUser | undefined, summary: string, now?: Date): UseCaseResult {
  const change: UserChange = {
    userId,
    ...(tenantId !== undefined ? { tenantId } : {}),
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
            messageId: userChangeMessageId(event.eventId, tenantId),
            sessionId: personSessionId(userId, tenantId),
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
 * For an invocation's events, tenant by tenant: each tenant's events' first lookups answered in
 * $batch requests to that tenant's own directory (prefetchLookups), as a resolver that serves
 * those answers and otherwise the tenant's directory itself. A tenant whose directory cannot be
 * had (its credential fails) or whose batch fails is simply not prefetched: each of its events
 * then fails or succeeds on its own, and the other tenants' events are not touched.
 */
export async function prefetchByTenant(events: HrEvent[], deps: CorrelateDeps): Promise<OneOrPerTenant<Directory> | undefined> {
  const groups = new Map<string, { tenantId: string | undefined; strategies: readonly CorrelationStrategy[]; events: HrEvent[] }>();
  for (const event of events) {
    const placed = await placeEvent(event, deps).catch(() => undefined);
    if (!placed?.ok) continue;
    const key = `${placed.tenantId ?? ''}\u0000${placed.strategies.join(',')}`;
    const group = groups.get(key) ?? { tenantId: placed.tenantId, strategies: placed.strategies, events: [] };
    group.events.push(event);
    groups.set(key, group);
  }
  const prefetched = new Map<string, Directory>();
  for (const group of groups.values()) {
    if (group.events.length < 2) continue;
    try {
      const answers = await prefetchLookups(await inTenant(deps.directory, group.tenantId), group.events, group.strategies);
      if (answers) prefetched.set(group.tenantId ?? '', answers);
    } catch {
      // Not prefetched: each event of this tenant asks on its own and settles on its own.
    }
  }
  if (prefetched.size === 0) return undefined;
  const directory = deps.directory;
  return perTenant(async (tenantId) => prefetched.get(tenantId ?? '') ?? inTenant(directory, tenantId));
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
