import { afterEach, describe, expect, it } from 'vitest';
import type { VoiceCommand, VoiceResult } from '../../shared/contracts/messages.js';
import type { MessageMeta, UseCaseResult } from '../../shared/handlers/stage-runner.js';
import { createMemoryLogger } from '../../shared/logging/logger.js';
import { decideSettlement, defaultRetryPolicy } from '../../shared/domain/settlement.js';
import { applyVoiceCommandViaGraph, PolicyIdCache, type GraphApplyDeps } from '../../shared/usecases/apply-voice-graph.js';
import { ANNA, BRAM, EVA, startGraphBackend, type GraphBackendFixture } from './fixtures.js';

let fx: GraphBackendFixture | undefined;
afterEach(async () => {
  await fx?.sim.close();
  fx = undefined;
});

function command(userId: string, desired: Partial<VoiceCommand['desired']> = {}): VoiceCommand {
  return {
    commandId: `cmd-${userId.slice(-3)}`,
    userId,
    userPrincipalName: `${userId}@contoso.example`,
    correlationId: 'corr-1',
    eventId: 'evt-1',
    occurredAt: '2026-11-02T07:00:00Z',
    issuedAt: '2026-11-02T08:00:00Z',
    reason: 'joiner',
    desired: {
      enterpriseVoiceEnabled: true,
      phoneNumber: '+31201234001',
      phoneNumberType: 'DirectRouting',
      policies: { OnlineVoiceRoutingPolicy: 'VRP-NL', CallingLineIdentity: 'CLI-Sales' },
      ...desired,
    },
    allocation: { pool: 'AMS', number: '+31201234001' },
    releases: [],
  };
}

function deps(f: GraphBackendFixture, extra: Partial<GraphApplyDeps> = {}): GraphApplyDeps {
  return {
    admin: f.admin,
    clock: f.clock,
    logger: createMemoryLogger('debug'),
    policyIds: new PolicyIdCache(),
    unsupportedPolicyTypes: new Set(),
    fallbackQueue: null,
    pollAfterMs: 2_000,
    ...extra,
  };
}

/** Drives the use case like the stage runner: a pending outcome comes back as a delivery carrying its properties. */
async function drive(cmd: VoiceCommand, d: GraphApplyDeps, clock: GraphBackendFixture['clock']) {
  let properties: Record<string, string | number | boolean | Date | null> = {};
  const deliveries: UseCaseResult[] = [];
  for (let i = 0; i < 10; i++) {
    const meta: MessageMeta = { messageId: `m${i}`, correlationId: cmd.correlationId, deliveryCount: 1, attempt: i, properties };
    const out = await applyVoiceCommandViaGraph(cmd, meta, d);
    deliveries.push(out);
    if (out.outcome.kind === 'wait' && out.outcome.code === 'OperationPending') {
      properties = { ...properties, ...out.carry };
      clock.advance(30_000);
      continue;
    }
    const sent = out.send?.flatMap((s) => s.messages.map((m) => ({ queue: s.queue, body: m.body, messageId: m.messageId }))) ?? [];
    return { out, deliveries, sent, result: sent.find((s) => s.queue === 'voice-results')?.body as VoiceResult | undefined };
  }
  throw new Error('the command never finished');
}

describe('applying a voice command through Graph', () => {
  it('assigns the number by a polled operation, then the policies in one request, and publishes an applied result', async () => {
    fx = await startGraphBackend({ operationMs: 5_000 });
    const { result, deliveries } = await drive(command(ANNA), deps(fx), fx.clock);
    expect(deliveries[0]?.outcome).toMatchObject({ kind: 'wait', code: 'OperationPending' });
    expect(result).toMatchObject({ status: 'applied', actual: { enterpriseVoiceEnabled: true, phoneNumber: '+31201234001' } });
    expect(fx.tenant.user(ANNA)).toMatchObject({
      enterpriseVoiceEnabled: true,
      phoneNumber: '+31201234001',
      policies: { OnlineVoiceRoutingPolicy: 'VRP-NL', CallingLineIdentity: 'CLI-Sales' },
    });
    expect(result?.steps.filter((s) => s.cmdlet === 'POST userAssignments/assign')).toHaveLength(1);
  });

  it('carries the plan version of the command into its result, so record can judge it', async () => {
    fx = await startGraphBackend({ operationMs: 1_000 });
    const { result } = await drive({ ...command(ANNA), version: 7 }, deps(fx), fx.clock);
    expect(result).toMatchObject({ status: 'applied', version: 7 });
  });

  it('does not run a command older than the version already applied for the person, as the worker does, and says so in a superseded result', async () => {
    fx = await startGraphBackend({ operationMs: 5_000 });
    const records = { get: async (userId: string) => (userId === ANNA ? { userId, state: 'provisioned', appliedVersion: 5, history: [] } : undefined) } as unknown as NonNullable<GraphApplyDeps['records']>;
    const before = JSON.stringify(fx.tenant.user(ANNA));
    const { result, deliveries } = await drive({ ...command(ANNA), version: 3 }, deps(fx, { records }), fx.clock);
    expect(deliveries).toHaveLength(1);
    expect(result).toMatchObject({ status: 'superseded', version: 3, steps: [], actual: null });
    expect(JSON.stringify(fx.tenant.user(ANNA))).toBe(before);
    // The version already applied, or a newer one, runs as before.
    const current = await drive({ ...command(ANNA), version: 5 }, deps(fx, { records }), fx.clock);
    expect(current.result).toMatchObject({ status: 'applied', version: 5 });
  });

  it('is a noop that writes nothing when Teams already holds the desired state', async () => {
    fx = await startGraphBackend({ operationMs: 1_000 });
    const d = deps(fx);
    await drive(command(ANNA), d, fx.clock);
    const second = await drive({ ...command(ANNA), commandId: 'cmd-again' }, d, fx.clock);
    expect(second.result?.status).toBe('noop');
    expect(second.result?.steps.some((s) => s.write)).toBe(false);
    expect(second.deliveries).toHaveLength(1);
  });

  it('reports a number another user holds as a conflict naming the owner', async () => {
    fx = await startGraphBackend();
    const cmd = command(ANNA, { phoneNumber: '+31201234010' });
    const { result } = await drive({ ...cmd, allocation: { pool: 'AMS', number: '+31201234010' } }, deps(fx), fx.clock);
    expect(result).toMatchObject({ status: 'failed', error: { class: 'conflict', code: 'NumberConflict', number: '+31201234010', owner: EVA } });
  });

  it('shows the number it assigned as a write in the result, even when the operation finished in an earlier delivery', async () => {
    // Found by the graph-backend chaos run: a number-only command's final delivery only read, so its
    // result showed no write and record, judging it superseded, did not re-plan the person it changed.
    fx = await startGraphBackend({ operationMs: 5_000 });
    const { result, deliveries } = await drive(command(ANNA, { policies: {} }), deps(fx), fx.clock);
    expect(deliveries.length).toBeGreaterThan(1);
    expect(result?.status).toBe('applied');
    expect(result?.steps.filter((s) => s.write && s.ok).map((s) => s.cmdlet)).toEqual(['POST numberAssignments/assignNumber']);
    expect(result?.steps.find((s) => s.write)?.parameters).toMatchObject({ telephoneNumber: '+31201234001' });
  });

  it('does not report its own number order still in progress as a conflict on a duplicate delivery', async () => {
    // Found by the graph-backend chaos run: the command was delivered again (its completion lost)
    // while the assignment it had started was still running; Graph answered 409 "an order in
    // progress", the use case called it a NumberConflict and record blocked the person's own number.
    fx = await startGraphBackend({ operationMs: 60_000 });
    const d = deps(fx);
    const cmd = command(ANNA);
    const first = await applyVoiceCommandViaGraph(cmd, { messageId: 'm0', correlationId: cmd.correlationId, deliveryCount: 1, attempt: 0, properties: {} }, d);
    expect(first.outcome).toMatchObject({ kind: 'wait', code: 'OperationPending' });
    const again = await applyVoiceCommandViaGraph(cmd, { messageId: 'm0', correlationId: cmd.correlationId, deliveryCount: 2, attempt: 0, properties: {} }, d);
    expect(again.outcome).toMatchObject({ kind: 'wait', code: 'OperationPending' });
    expect(again.send ?? []).toEqual([]);
    // Once the order has finished, the same delivery finds the number in place and completes.
    fx.clock.advance(120_000);
    const { result } = await drive(cmd, d, fx.clock);
    expect(result).toMatchObject({ status: 'applied', actual: { phoneNumber: '+31201234001' } });
  });

  it('still reports a number whose order in progress is for another user as a conflict once the order is done', async () => {
    fx = await startGraphBackend({ operationMs: 60_000 });
    const d = deps(fx);
    const other = { ...command(EVA, { phoneNumber: '+31201234020', policies: {} }), commandId: 'cmd-eva', allocation: { pool: 'AMS', number: '+31201234020' } };
    const mine = { ...command(ANNA, { phoneNumber: '+31201234020' }), allocation: { pool: 'AMS', number: '+31201234020' } };
    await applyVoiceCommandViaGraph(other, { messageId: 'e0', correlationId: 'c', deliveryCount: 1, attempt: 0, properties: {} }, d);
    const whilePending = await applyVoiceCommandViaGraph(mine, { messageId: 'a0', correlationId: 'c', deliveryCount: 1, attempt: 0, properties: {} }, d);
    expect(whilePending.outcome).toMatchObject({ kind: 'wait', code: 'OperationPending' });
    fx.clock.advance(120_000);
    const { result } = await drive(mine, d, fx.clock);
    expect(result).toMatchObject({ status: 'failed', error: { class: 'conflict', code: 'NumberConflict', number: '+31201234020', owner: EVA } });
  });

  it('polls a running number operation without spending the transient budget on it', async () => {
    // Found by the graph-backend chaos run: every poll counted as a transient failure, so a command
    // whose operation took four polls had four retries left for Graph's real 429s and 503s, and
    // commands were dead-lettered "Throttled … gave up after 9 attempts" with nothing failed for good.
    fx = await startGraphBackend({ operationMs: 60_000 });
    const cmd = command(ANNA);
    const first = await applyVoiceCommandViaGraph(cmd, { messageId: 'm0', correlationId: cmd.correlationId, deliveryCount: 1, attempt: 0, properties: {} }, deps(fx));
    expect(first.outcome).toMatchObject({ kind: 'wait', code: 'OperationPending' });
    // A poll after eight throttled attempts: it is rescheduled, not counted as a ninth transient
    // failure; Graph answered it, so the run of transient failures is over and the count starts again.
    const settled = decideSettlement(first.outcome, { attempt: 8, firstAttemptAt: fx.clock.now().getTime(), transientAttempts: 8 }, fx.clock.now().getTime(), defaultRetryPolicy);
    expect(settled).toMatchObject({ action: 'reschedule', attempt: 9, transientAttempts: 0 });
  });

  it('removes the number of a leaver and resets the policies to Global', async () => {
    fx = await startGraphBackend({ operationMs: 1_000 });
    const leaver = command(EVA, { enterpriseVoiceEnabled: false, phoneNumber: null, policies: { TenantDialPlan: null } });
    const { result } = await drive({ ...leaver, allocation: null }, deps(fx), fx.clock);
    expect(result?.status).toBe('applied');
    expect(fx.tenant.user(EVA)).toMatchObject({ enterpriseVoiceEnabled: false, phoneNumber: null, policies: { TenantDialPlan: null } });
  });

  it('waits, rescheduling, while Teams has not enabled PhoneSystem for the user', async () => {
    fx = await startGraphBackend();
    const { out } = await drive(command(BRAM), deps(fx), fx.clock);
    expect(out.outcome).toMatchObject({ kind: 'wait', code: 'TeamsNotProvisioned' });
  });

  it('is a noop, not a wait, for a leaver Teams never gave voice (no PhoneSystem, nothing to remove)', async () => {
    fx = await startGraphBackend();
    const leaver = { ...command(BRAM, { enterpriseVoiceEnabled: false, phoneNumber: null, policies: { TenantDialPlan: null } }), allocation: null };
    const { out, result } = await drive(leaver, deps(fx), fx.clock);
    expect(out.outcome.kind).toBe('done');
    expect(result?.status).toBe('noop');
  });

  it('hands a refused policy type to the PowerShell backend when a worker is deployed, after doing the rest', async () => {
    fx = await startGraphBackend({ operationMs: 1_000, refusedPolicyTypes: ['CallingLineIdentity'] });
    const d = deps(fx, { fallbackQueue: 'voice-commands-pwsh' });
    const { sent, result } = await drive(command(ANNA), d, fx.clock);
    expect(result).toBeUndefined();
    expect(sent).toEqual([expect.objectContaining({ queue: 'voice-commands-pwsh', messageId: 'cmd-101:pwsh' })]);
    expect(fx.tenant.user(ANNA)?.policies).toMatchObject({ OnlineVoiceRoutingPolicy: 'VRP-NL', CallingLineIdentity: null });
    expect(d.unsupportedPolicyTypes.has('callinglineidentity')).toBe(true);
  });

  it('fails with GraphUnsupported naming the step when no worker is deployed', async () => {
    fx = await startGraphBackend({ operationMs: 1_000, refusedPolicyTypes: ['CallingLineIdentity'] });
    const { result } = await drive(command(ANNA), deps(fx), fx.clock);
    expect(result).toMatchObject({ status: 'failed', error: { class: 'permanent', code: 'GraphUnsupported' } });
    expect(result?.error?.message).toMatch(/CallingLineIdentity=CLI-Sales/);
    expect(result?.actual?.phoneNumber).toBe('+31201234001');
  });

  it('resolves each policy id once per process', async () => {
    fx = await startGraphBackend({ operationMs: 1_000 });
    const d = deps(fx);
    await drive(command(ANNA), d, fx.clock);
    const before = fx.requests();
    await drive({ ...command(EVA, { phoneNumber: '+31201234010' }), allocation: null }, d, fx.clock);
    const resolved = fx.sim.metrics().byRoute['GET /admin/teams'];
    expect(resolved).toBeGreaterThan(0);
    expect(fx.requests() - before).toBeLessThanOrEqual(4);
  });
});
