import { describe, expect, it } from 'vitest';
import type { DirectoryUser, HrEvent } from '../../shared/contracts/messages.js';
import { correlationLookups, judgeLookup } from '../../shared/domain/correlation.js';
import { DialtoneError } from '../../shared/domain/errors.js';
import { hasTeamsPhone } from '../../shared/domain/licensing.js';
import type { CorrelationStrategy, Directory } from '../../shared/ports/directory.js';
import { correlateEvent } from '../../shared/usecases/correlate-event.js';
import { SimClock } from '../../sandbox/clock.js';

const anna: DirectoryUser = { id: 'u-anna', userPrincipalName: 'anna@contoso.example', assignedPlans: [] };
const bram: DirectoryUser = { id: 'u-bram', userPrincipalName: 'bram@contoso.example', assignedPlans: [] };

/** A directory answering from a table of (strategy, value) → users, counting requests. */
function fakeDirectory(table: Partial<Record<CorrelationStrategy, Record<string, DirectoryUser[]>>>) {
  const calls: string[] = [];
  const directory: Directory = {
    findUsers: async (strategy, value) => {
      calls.push(`${strategy}=${value}`);
      return table[strategy]?.[value] ?? [];
    },
    getUser: async () => undefined,
  };
  return { directory, calls };
}

const event = (person: HrEvent['person']): HrEvent => ({ eventId: 'e1', type: 'joiner', occurredAt: '2026-11-02T08:00:00Z', person });
const strategies: CorrelationStrategy[] = ['userPrincipalName', 'employeeId', 'mail'];
const clock = new SimClock('2026-11-02T08:00:00Z');

describe('correlation', () => {
  it('tries only the strategies the event has values for, in the configured order', () => {
    expect(correlationLookups({ employeeId: 'E1', mail: 'a@x', userPrincipalName: ' ' }, strategies)).toEqual([
      { strategy: 'employeeId', value: 'E1' },
      { strategy: 'mail', value: 'a@x' },
    ]);
  });

  it('judges zero matches as "try the next", one as found and two as ambiguous', () => {
    const lookup = { strategy: 'employeeId' as const, value: 'E1' };
    expect(judgeLookup(lookup, []).kind).toBe('next');
    expect(judgeLookup(lookup, [anna]).kind).toBe('found');
    expect(judgeLookup(lookup, [anna, bram]).kind).toBe('ambiguous');
  });

  it('finds the user by UPN with one request and forwards the snapshot it read', async () => {
    const { directory, calls } = fakeDirectory({ userPrincipalName: { 'anna@contoso.example': [anna] } });
    const result = await correlateEvent(event({ employeeId: 'E1', userPrincipalName: 'anna@contoso.example' }), 'c1', { directory, clock, strategies });
    expect(calls).toEqual(['userPrincipalName=anna@contoso.example']);
    expect(result.outcome.kind).toBe('done');
    expect(result.send?.[0]?.messages[0]).toMatchObject({
      messageId: 'uc-e1',
      sessionId: 'u-anna',
      correlationId: 'c1',
      body: { userId: 'u-anna', changeType: 'joiner', snapshot: { readAt: '2026-11-02T08:00:00.000Z', user: anna } },
    });
  });

  it('falls back to employeeId when the UPN is not found', async () => {
    const { directory, calls } = fakeDirectory({ employeeId: { E1: [anna] } });
    const result = await correlateEvent(event({ employeeId: 'E1', userPrincipalName: 'old@contoso.example' }), 'c1', { directory, clock, strategies });
    expect(calls).toEqual(['userPrincipalName=old@contoso.example', 'employeeId=E1']);
    expect(result.outcome).toMatchObject({ kind: 'done', summary: 'joiner E1 is anna@contoso.example (by employeeId)' });
  });

  it('stops at an ambiguous match instead of trying further strategies', async () => {
    const { directory, calls } = fakeDirectory({ employeeId: { E1: [anna, bram] }, mail: { 'a@x': [anna] } });
    const result = await correlateEvent(event({ employeeId: 'E1', mail: 'a@x' }), 'c1', { directory, clock, strategies });
    expect(calls).toEqual(['employeeId=E1']);
    expect(result.outcome).toMatchObject({ kind: 'permanent', code: 'UserAmbiguous' });
  });

  it('waits (UserNotFound) when no strategy matches', async () => {
    const { directory } = fakeDirectory({});
    const result = await correlateEvent(event({ employeeId: 'E9' }), 'c1', { directory, clock, strategies });
    expect(result.outcome).toEqual({ kind: 'wait', code: 'UserNotFound', message: "No Entra ID user matches employeeId 'E9' yet (directory sync can lag)." });
  });

  it('rejects an event that carries none of the configured attributes', async () => {
    const { directory } = fakeDirectory({});
    const result = await correlateEvent(event({ employeeId: 'E9' }), 'c1', { directory, clock, strategies: ['mail'] });
    expect(result.outcome).toMatchObject({ kind: 'permanent', code: 'InvalidMessage' });
  });

  it('lets a transient Graph error escape so the stage reschedules it', async () => {
    const directory: Directory = {
      findUsers: async () => {
        throw new DialtoneError('Throttled', '429', { transient: true, retryAfterMs: 5000 });
      },
      getUser: async () => undefined,
    };
    await expect(correlateEvent(event({ employeeId: 'E1' }), 'c1', { directory, clock, strategies })).rejects.toMatchObject({ code: 'Throttled' });
  });
});

describe('Teams Phone licence', () => {
  const plan = (capabilityStatus: string) => [{ servicePlanId: '4828c8ec-dc2e-4779-b502-87ac9ce28ab7', capabilityStatus }];
  it('counts an Enabled MCOEV plan', () => expect(hasTeamsPhone(plan('Enabled'))).toBe(true));
  it('counts the Warning grace period', () => expect(hasTeamsPhone(plan('Warning'))).toBe(true));
  it('does not count a Suspended plan', () => expect(hasTeamsPhone(plan('Suspended'))).toBe(false));
  it('does not count other plans', () => expect(hasTeamsPhone([{ servicePlanId: '57ff2da0-773e-42df-b2af-ffb7a2317929', capabilityStatus: 'Enabled' }])).toBe(false));
});
