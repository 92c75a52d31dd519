import { afterEach, describe, expect, it } from 'vitest';
import type { VoiceResult } from '../../shared/contracts/messages.js';
import { BulkApplier, defaultBulkSettings, type BulkSettings } from '../../worker/bulk.js';
import type { SessionProvider } from '../../worker/session.js';
import { realTimers } from '../../worker/timers.js';
import { command, desired, startHarness, TENANT_ID, userId, type SimHarness } from './helpers/sim.js';

let harness: SimHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

// A grant window that never ends on its own: a group goes when nobody on the bulk path can still
// join it, so which people share an operation does not depend on the machine's speed. Polls on
// real time: the simulator completes an operation on its third poll.
const fast: Partial<BulkSettings> = { windowMs: 200, grantWindowMs: 60_000, firstPollMs: 1, pollPerUserMs: 0, pollIntervalMs: 1 };

function bulk(h: SimHarness, settings: Partial<BulkSettings> = {}, sessions: SessionProvider = h.pool): BulkApplier {
  return new BulkApplier({
    sessions,
    tenantId: TENANT_ID,
    clock: h.clock,
    logger: h.logger,
    cmdletTimeoutMs: 10_000,
    backoffMs: [10, 20],
    settings: { ...defaultBulkSettings, ...fast, ...settings },
    bulkTimers: realTimers,
  });
}

const cmdlets = (result: VoiceResult) => result.steps.map((s) => s.cmdlet);
const count = (h: SimHarness, cmdlet: string) => h.sim.metrics().byCmdlet[cmdlet] ?? 0;

describe('the bulk path for a burst of joiners', () => {
  it('reads, grants and verifies six joiners together: three batch operations, no Grant-Cs*, everyone verified', async () => {
    harness = await startHarness();
    const applier = bulk(harness);
    const people = [1, 2, 3, 4, 5, 6];
    const results = await Promise.all(people.map((n) => applier.apply(command(n), new AbortController().signal)));
    expect(results.map((r) => [r.status, r.error])).toEqual(people.map(() => ['applied', undefined]));
    expect(count(harness, 'New-CsBatchPolicyAssignmentOperation')).toBe(3);
    expect(['Grant-CsCallingLineIdentity', 'Grant-CsOnlineVoiceRoutingPolicy', 'Grant-CsTenantDialPlan'].map((c) => count(harness!, c))).toEqual([0, 0, 0]);
    // Two reads per person would be 24; shared, they are a handful (first read, then read-back).
    expect(count(harness, 'Get-CsOnlineUser') + count(harness, 'Get-CsPhoneNumberAssignment')).toBeLessThanOrEqual(8);
    expect(count(harness, 'Set-CsPhoneNumberAssignment')).toBe(6);
    for (const n of people) {
      expect(harness.sim.tenant.user(userId(n))).toMatchObject({
        enterpriseVoiceEnabled: true,
        lineUri: `tel:${desired(n).phoneNumber}`,
        policies: { CallingLineIdentity: 'CLI-Sales', OnlineVoiceRoutingPolicy: 'VRP-NL', TenantDialPlan: 'DP-NL' },
      });
    }
    // Per person, in the specified order: read, the number, the policies, then the read-back that verified.
    const steps = cmdlets(results[0]!);
    expect(steps[0]).toBe('Get-CsOnlineUser');
    expect(steps.indexOf('Set-CsPhoneNumberAssignment')).toBeLessThan(steps.indexOf('New-CsBatchPolicyAssignmentOperation'));
    expect(steps.at(-2)).toBe('Get-CsOnlineUser');
    expect(results[0]!.actual).toMatchObject({ phoneNumber: desired(1).phoneNumber, enterpriseVoiceEnabled: true });
  });

  it('grants one by one the users a batch operation reports as failed, and still verifies them', async () => {
    harness = await startHarness();
    const h = harness;
    // The operation reports user 2 as failed (as Teams does for "User not found" and the like).
    const reporting: SessionProvider = {
      acquire: async (tenantId, options) => {
        const lease = await h.pool.acquire(tenantId, options);
        return {
          ...lease,
          session: {
            module: lease.session.module,
            call: async (cmdlet, parameters, callOptions) => {
              const outcome = await lease.session.call(cmdlet, parameters, callOptions);
              if (cmdlet !== 'Get-CsBatchPolicyAssignmentOperation' || !outcome.ok) return outcome;
              const op = outcome.result as { UserState: { Id: string; Result: string }[] };
              return { ...outcome, result: { ...op, UserState: op.UserState.map((u) => (u.Id === userId(2) && u.Result === 'Success' ? { ...u, Result: 'User not found' } : u)) } };
            },
          },
        };
      },
    };
    const applier = bulk(h, {}, reporting);
    const results = await Promise.all([1, 2, 3, 4].map((n) => applier.apply(command(n), new AbortController().signal)));
    expect(results.map((r) => r.status)).toEqual(['applied', 'applied', 'applied', 'applied']);
    const granted = (r: VoiceResult) => r.steps.filter((s) => s.cmdlet.startsWith('Grant-Cs')).map((s) => s.cmdlet).sort();
    expect(granted(results[1]!)).toEqual(['Grant-CsCallingLineIdentity', 'Grant-CsOnlineVoiceRoutingPolicy', 'Grant-CsTenantDialPlan']);
    expect([granted(results[0]!), granted(results[2]!), granted(results[3]!)]).toEqual([[], [], []]);
    expect(results[1]!.steps.filter((s) => s.cmdlet === 'New-CsBatchPolicyAssignmentOperation').map((s) => s.ok)).toEqual([false, false, false]);
  });

  it('grants a lone person one by one: a group too small for an operation never waits a minute', async () => {
    harness = await startHarness();
    const result = await bulk(harness).apply(command(1), new AbortController().signal);
    expect(result.status).toBe('applied');
    expect(count(harness, 'New-CsBatchPolicyAssignmentOperation')).toBe(0);
    expect(cmdlets(result).filter((c) => c.startsWith('Grant-Cs')).sort()).toEqual(['Grant-CsCallingLineIdentity', 'Grant-CsOnlineVoiceRoutingPolicy', 'Grant-CsTenantDialPlan']);
  });

  it('grants the last few of a burst one by one when that is sooner than an operation would complete', async () => {
    harness = await startHarness();
    // An operation that takes a minute against twelve grants of about a second on the free sessions.
    const applier = bulk(harness, { firstPollMs: 60_000, pollPerUserMs: 50 });
    const results = await Promise.all([1, 2, 3, 4].map((n) => applier.apply(command(n), new AbortController().signal)));
    expect(results.map((r) => r.status)).toEqual(['applied', 'applied', 'applied', 'applied']);
    expect(count(harness, 'New-CsBatchPolicyAssignmentOperation')).toBe(0);
    expect(['Grant-CsCallingLineIdentity', 'Grant-CsOnlineVoiceRoutingPolicy', 'Grant-CsTenantDialPlan'].map((c) => count(harness!, c))).toEqual([4, 4, 4]);
    expect(applier.stats()).toMatchObject({ operations: 0, grantedOneByOne: 12 });
  });

  it('runs no write cmdlet for people whose state already holds', async () => {
    harness = await startHarness();
    const applier = bulk(harness);
    await Promise.all([1, 2, 3].map((n) => applier.apply(command(n), new AbortController().signal)));
    const writes = harness.sim.metrics().writeCmdlets;
    const again = await Promise.all([1, 2, 3].map((n) => applier.apply(command(n, desired(n), `again-${n}`), new AbortController().signal)));
    expect(again.map((r) => r.status)).toEqual(['noop', 'noop', 'noop']);
    expect(harness.sim.metrics().writeCmdlets - writes).toBe(0);
  });

  it('hands a person to the per-user path when the number is held elsewhere: the conflict and its owner, as one by one', async () => {
    harness = await startHarness();
    const applier = bulk(harness);
    const [ok, conflict] = await Promise.all([
      applier.apply(command(1), new AbortController().signal),
      applier.apply(command(2, desired(2, { phoneNumber: '+31201234003' })), new AbortController().signal),
    ]);
    expect(ok.status).toBe('applied');
    expect(conflict.status).toBe('failed');
    expect(conflict.error).toMatchObject({ class: 'conflict', code: 'NumberConflict', number: '+31201234003' });
    // Nothing of the conflicting person's policies was granted before their number held.
    expect(harness.sim.tenant.user(userId(2))?.policies.CallingLineIdentity ?? null).toBeNull();
  });

  it('reads people whose id is not an object id one by one, never inside a filter', async () => {
    harness = await startHarness();
    const odd = { ...command(1), userId: "user1@contoso.example' -or Identity -like '*" };
    const result = await bulk(harness).apply(odd, new AbortController().signal);
    expect(result.steps.filter((s) => typeof s.parameters.Filter === 'string')).toEqual([]);
  });
});
