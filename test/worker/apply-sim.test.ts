import { afterEach, describe, expect, it, vi } from 'vitest';
import { externalObjectId } from '../../sandbox/teams-sim/tenant.js';
import type { VoiceResult } from '../../shared/contracts/messages.js';
import { ManualTimers } from './helpers/manual-timers.js';
import { CERTIFICATE, command, desired, OUTSIDER, startHarness, userId, type SimHarness } from './helpers/sim.js';

let harness: SimHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const writes = (result: VoiceResult) => result.steps.filter((s) => s.write).map((s) => s.cmdlet);

/** Waits until the simulator has received the `nth` call of a cmdlet (a hang fault holds it there). */
const hungCall = (h: SimHarness, cmdlet: string, nth: number) =>
  vi.waitFor(() => expect(h.sim.metrics().byCmdlet[cmdlet]).toBe(nth), { timeout: 60_000, interval: 10 });

describe('applying voice commands against the Teams simulator', () => {
  it('applies a joiner: number, EV on through the assignment, three policies, verified', async () => {
    harness = await startHarness();
    const result = await harness.apply(command(1));
    expect([result.status, result.attempts, result.error]).toEqual(['applied', 1, undefined]);
    expect(writes(result)).toEqual([
      'Set-CsPhoneNumberAssignment',
      'Grant-CsCallingLineIdentity',
      'Grant-CsOnlineVoiceRoutingPolicy',
      'Grant-CsTenantDialPlan',
    ]);
    expect(harness.sim.tenant.user(userId(1))).toMatchObject({
      enterpriseVoiceEnabled: true,
      lineUri: 'tel:+31201234101',
      policies: { CallingLineIdentity: 'CLI-Sales', OnlineVoiceRoutingPolicy: 'VRP-NL', TenantDialPlan: 'DP-NL' },
    });
  });

  it('runs no write cmdlet when the same command arrives twice', async () => {
    harness = await startHarness();
    await harness.apply(command(1));
    const before = harness.sim.metrics().writeCmdlets;
    const again = await harness.apply(command(1));
    expect([again.status, harness.sim.metrics().writeCmdlets - before, writes(again)]).toEqual(['noop', 0, []]);
  });

  it('connects once for many commands on a warm session', async () => {
    harness = await startHarness();
    for (const n of [1, 2, 3]) await harness.apply(command(n));
    expect([harness.sim.metrics().connects, harness.pool.stats().created]).toEqual([1, 1]);
  });

  it('reports a number held by another user as a conflict with its owner', async () => {
    harness = await startHarness();
    const result = await harness.apply(command(1, desired(1, { phoneNumber: '+31201234003' })));
    expect(result.status).toBe('failed');
    expect(result.error).toMatchObject({
      class: 'conflict',
      code: 'NumberConflict',
      number: '+31201234003',
      owner: externalObjectId(OUTSIDER),
      cmdlet: 'Set-CsPhoneNumberAssignment',
      exceptionType: 'Microsoft.Teams.ConfigAPI.Cmdlets.Generated.Runtime.RestException',
    });
  });

  it('stops at an unknown policy with a permanent PolicyNotFound', async () => {
    harness = await startHarness();
    const result = await harness.apply(command(1, desired(1, { policies: { OnlineVoiceRoutingPolicy: 'VRP-XX' } })));
    expect([result.status, result.attempts]).toEqual(['failed', 1]);
    expect(result.error).toMatchObject({ class: 'permanent', code: 'PolicyNotFound', cmdlet: 'Grant-CsOnlineVoiceRoutingPolicy' });
  });

  it('reports what Teams holds after a failure that followed a successful write', async () => {
    harness = await startHarness();
    const result = await harness.apply(command(1, desired(1, { policies: { OnlineVoiceRoutingPolicy: 'VRP-XX' } })));
    expect(result.actual).toMatchObject({ phoneNumber: '+31201234101', enterpriseVoiceEnabled: true });
  });

  it('reports a user without Teams Phone as permanently not voice-capable', async () => {
    harness = await startHarness();
    const result = await harness.apply({ ...command(1), userId: userId(99) });
    expect(result.error).toMatchObject({ class: 'permanent', code: 'UserNotVoiceCapable' });
  });

  it('retries on a fresh session when pwsh crashes after the write, and applies it once', async () => {
    harness = await startHarness();
    harness.sim.setFaults([{ kind: 'crash', cmdlet: 'Set-CsPhoneNumberAssignment', phase: 'after', times: 1 }]);
    const result = await harness.apply(command(1));
    expect([result.status, result.attempts]).toEqual(['applied', 2]);
    expect(harness.sim.metrics().byCmdlet['Set-CsPhoneNumberAssignment']).toBe(1);
    expect(harness.pool.stats()).toMatchObject({ replaced: 1, created: 2 });
  });

  // The cmdlet deadline runs on manual timers, moved only while the hung cmdlet is the one in
  // flight: with a real short deadline a loaded machine also timed out cmdlets that did not hang.
  it('kills a hung cmdlet at its deadline, replaces the process and applies on the new one', async () => {
    const timers = new ManualTimers();
    harness = await startHarness({ cmdletTimeoutMs: 1_000, pool: { timers } });
    harness.sim.setFaults([{ kind: 'hang', cmdlet: 'Grant-CsTenantDialPlan', times: 1 }]);
    const applying = harness.apply(command(1));
    await hungCall(harness, 'Grant-CsTenantDialPlan', 1);
    timers.advance(1_000);
    const result = await applying;
    expect([result.status, result.attempts]).toEqual(['applied', 2]);
    expect(harness.pool.stats().replaced).toBe(1);
    expect(result.steps.find((s) => s.cmdlet === 'Grant-CsTenantDialPlan' && !s.ok)).toBeDefined();
  });

  it('gives up with a transient Timeout when the fresh session hangs too', async () => {
    const timers = new ManualTimers();
    harness = await startHarness({ cmdletTimeoutMs: 500, pool: { timers } });
    harness.sim.setFaults([{ kind: 'hang', cmdlet: 'Grant-CsTenantDialPlan', times: 2 }]);
    const applying = harness.apply(command(1));
    await hungCall(harness, 'Grant-CsTenantDialPlan', 1);
    timers.advance(500);
    await hungCall(harness, 'Grant-CsTenantDialPlan', 2);
    timers.advance(500);
    const result = await applying;
    expect([result.status, result.attempts, result.error?.class, result.error?.code]).toEqual(['failed', 2, 'transient', 'Timeout']);
  });

  it('retries a throttled cmdlet with backoff', async () => {
    harness = await startHarness();
    harness.sim.setFaults([{ kind: 'throttle', cmdlet: 'Grant-CsCallingLineIdentity', times: 1 }]);
    const result = await harness.apply(command(1));
    expect([result.status, result.attempts]).toEqual(['applied', 2]);
  });

  it('retries a write refused with "session availability is Busy" instead of failing the person for good', async () => {
    harness = await startHarness();
    harness.sim.setFaults([{ kind: 'busy', cmdlet: 'Set-CsPhoneNumberAssignment', times: 1 }]);
    const result = await harness.apply(command(1));
    expect([result.status, result.attempts]).toEqual(['applied', 2]);
    expect(harness.sim.tenant.user(userId(1))?.lineUri).toBe('tel:+31201234101');
  });

  it('reports a transient Throttled failure while every attempt meets "session availability is Busy"', async () => {
    harness = await startHarness();
    harness.sim.setFaults([{ kind: 'busy', cmdlet: 'Get-CsOnlineUser' }]);
    const result = await harness.apply(command(1));
    expect([result.status, result.error?.class, result.error?.code]).toEqual(['failed', 'transient', 'Throttled']);
  });

  it('reports a transient failure after the bounded attempts', async () => {
    harness = await startHarness();
    harness.sim.setFaults([{ kind: 'unavailable', cmdlet: 'Get-CsOnlineUser' }]);
    const result = await harness.apply(command(1));
    expect([result.status, result.attempts, result.error?.code]).toEqual(['failed', 3, 'ServiceUnavailable']);
  });

  it('reconnects once when the token expired', async () => {
    harness = await startHarness();
    harness.sim.setFaults([{ kind: 'unauthorized', cmdlet: 'Get-CsOnlineUser', times: 1 }]);
    const result = await harness.apply(command(1));
    expect([result.status, result.attempts, harness.sim.metrics().connects]).toEqual(['applied', 2, 2]);
  });

  it('never runs more pwsh processes or busy sessions than the tenant limit', async () => {
    harness = await startHarness({ users: 8, pool: { maxSessions: 4, maxSessionsPerTenant: 2 } });
    harness.sim.setLatency({ read: 20, write: 20 });
    let peakProcesses = 0;
    const sim = harness.sim;
    const sampler = setInterval(() => {
      peakProcesses = Math.max(peakProcesses, sim.liveProcesses());
    }, 5);
    const results = await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map((n) => harness!.apply(command(n))));
    clearInterval(sampler);
    expect(results.map((r) => r.status)).toEqual(Array(8).fill('applied'));
    expect(harness.pool.stats()).toMatchObject({ peakBusy: 2, peakLive: 2, created: 2 });
    expect(peakProcesses).toBeLessThanOrEqual(2);
  });

  it('never puts the certificate in a log line or a result', async () => {
    harness = await startHarness();
    harness.sim.setFaults([{ kind: 'crash', cmdlet: 'Grant-CsTenantDialPlan', times: 1 }]);
    const results = [await harness.apply(command(1)), await harness.apply(command(2, desired(2, { phoneNumber: '+31201234003' })))];
    const output = [...harness.logger.lines, JSON.stringify(results)].join('\n');
    expect(harness.logger.lines.length).toBeGreaterThan(5);
    expect(output).not.toContain(CERTIFICATE.pfxBase64);
    expect(output).not.toContain(CERTIFICATE.pfxBase64.slice(0, 24));
    expect(output).not.toContain(CERTIFICATE.password);
  });
});
