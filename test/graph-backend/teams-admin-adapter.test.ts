import { afterEach, describe, expect, it } from 'vitest';
import { ANNA, BRAM, EVA, startGraphBackend, type GraphBackendFixture } from './fixtures.js';

let fx: GraphBackendFixture | undefined;
afterEach(async () => {
  await fx?.sim.close();
  fx = undefined;
});

describe('Graph Teams administration adapter against the simulator', () => {
  it('reads a user configuration with feature types, voice, numbers and direct policy assignments', async () => {
    fx = await startGraphBackend();
    const config = await fx.admin.userConfiguration(EVA);
    expect(config).toMatchObject({
      id: EVA,
      isEnterpriseVoiceEnabled: true,
      telephoneNumbers: [{ telephoneNumber: '+31201234010', assignmentCategory: 'primary' }],
    });
    expect(config?.featureTypes).toContain('PhoneSystem');
    expect(config?.effectivePolicyAssignments.find((a) => a.policyType === 'TenantDialPlan')).toMatchObject({ displayName: 'DP-NL', assignmentType: 'direct' });
    expect(config?.effectivePolicyAssignments.find((a) => a.policyType === 'CallingLineIdentity')).toMatchObject({ displayName: 'Global', assignmentType: null });
  });

  it('answers null for a user Teams does not know (404)', async () => {
    fx = await startGraphBackend();
    expect(await fx.admin.userConfiguration('00000000-0000-0000-0000-00000000dead')).toBeNull();
  });

  it('assigns a number as an asynchronous operation: 202 + Location, pending until the sandbox clock passes it', async () => {
    fx = await startGraphBackend({ operationMs: 5_000 });
    const { operationId } = await fx.admin.assignNumber({ telephoneNumber: '+31201234001', assignmentTargetId: ANNA, numberType: 'directRouting' });
    expect(operationId).toMatch(/^[A-Za-z0-9+/=_-]+$/);
    expect((await fx.admin.operation(operationId)).status).toBe('running');
    expect(await fx.admin.number('+31201234001')).toMatchObject({ activationState: 'assignmentPending', assignmentTargetId: null });
    expect((await fx.admin.userConfiguration(ANNA))?.telephoneNumbers).toEqual([]);

    fx.clock.advance(5_000);
    expect((await fx.admin.operation(operationId)).status).toBe('succeeded');
    expect(await fx.admin.number('+31201234001')).toMatchObject({ activationState: 'activated', assignmentTargetId: ANNA });
    const config = await fx.admin.userConfiguration(ANNA);
    expect(config).toMatchObject({ isEnterpriseVoiceEnabled: true, telephoneNumbers: [{ telephoneNumber: '+31201234001' }] });
  });

  it('refuses a number another user holds with 409, as NumberConflict', async () => {
    fx = await startGraphBackend();
    await expect(fx.admin.assignNumber({ telephoneNumber: '+31201234010', assignmentTargetId: ANNA, numberType: 'directRouting' })).rejects.toMatchObject({
      code: 'NumberConflict',
    });
    expect(await fx.admin.number('+31201234010')).toMatchObject({ assignmentTargetId: EVA });
  });

  it('fails the operation, with Teams\' reason, for a user without Teams Phone', async () => {
    fx = await startGraphBackend({ operationMs: 1_000 });
    const { operationId } = await fx.admin.assignNumber({ telephoneNumber: '+31201234002', assignmentTargetId: BRAM, numberType: 'directRouting' });
    fx.clock.advance(1_000);
    const op = await fx.admin.operation(operationId);
    expect(op.status).toBe('failed');
    expect(op.detail).toMatch(/lacks appropriate licenses/);
  });

  it('unassigns a number and turns Enterprise Voice off', async () => {
    fx = await startGraphBackend({ operationMs: 1_000 });
    const { operationId } = await fx.admin.unassignNumber({ telephoneNumber: '+31201234010', numberType: 'directRouting' });
    fx.clock.advance(1_000);
    expect((await fx.admin.operation(operationId)).status).toBe('succeeded');
    expect(await fx.admin.userConfiguration(EVA)).toMatchObject({ isEnterpriseVoiceEnabled: false, telephoneNumbers: [] });
  });

  it('resolves policy ids by name, assigns and unassigns them in one request each', async () => {
    fx = await startGraphBackend();
    const vrp = await fx.admin.policyId('OnlineVoiceRoutingPolicy', 'VRP-NL');
    const cli = await fx.admin.policyId('CallingLineIdentity', 'CLI-Sales');
    expect(vrp).not.toBeNull();
    expect(await fx.admin.policyId('OnlineVoiceRoutingPolicy', 'No-Such-Policy')).toBeNull();
    await fx.admin.assignPolicies([
      { userId: ANNA, policyType: 'OnlineVoiceRoutingPolicy', policyId: vrp! },
      { userId: ANNA, policyType: 'CallingLineIdentity', policyId: cli! },
    ]);
    expect(fx.tenant.user(ANNA)?.policies).toMatchObject({ OnlineVoiceRoutingPolicy: 'VRP-NL', CallingLineIdentity: 'CLI-Sales' });
    await fx.admin.unassignPolicies([{ userId: ANNA, policyType: 'CallingLineIdentity', policyId: cli! }]);
    expect(fx.tenant.user(ANNA)?.policies.CallingLineIdentity).toBeNull();
  });

  it('turns a refused policy type into GraphUnsupported naming the type, and applies nothing of that request', async () => {
    fx = await startGraphBackend({ refusedPolicyTypes: ['TeamsCallingPolicy'] });
    const vrp = await fx.admin.policyId('OnlineVoiceRoutingPolicy', 'VRP-NL');
    await expect(
      fx.admin.assignPolicies([
        { userId: ANNA, policyType: 'OnlineVoiceRoutingPolicy', policyId: vrp! },
        { userId: ANNA, policyType: 'TeamsCallingPolicy', policyId: 'x' },
      ]),
    ).rejects.toMatchObject({ code: 'GraphUnsupported', details: { policyType: 'TeamsCallingPolicy' } });
    expect(fx.tenant.user(ANNA)?.policies.OnlineVoiceRoutingPolicy).toBeNull();
  });

  it('refuses a malformed order with 400 naming the parameter', async () => {
    fx = await startGraphBackend();
    const res = await fetch(`${fx.sim.baseUrl}/admin/teams/telephoneNumberManagement/numberAssignments/assignNumber`, {
      method: 'POST',
      headers: { Authorization: 'Bearer t', 'content-type': 'application/json' },
      body: JSON.stringify({ telephoneNumber: '+31201234001', numberType: 'directRouting' }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe("The parameter 'assignmentTargetId' is required.");
  });
});
