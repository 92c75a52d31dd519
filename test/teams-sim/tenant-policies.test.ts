import { describe, expect, it } from 'vitest';
import { ANNA, BRAM, EVA, connectedTenant, errorOf, resultOf } from './fixtures.js';

describe('Grant-Cs… policies', () => {
  it('grants a policy by its name without Tag:', () => {
    const { run, tenant } = connectedTenant();
    resultOf(run('Grant-CsOnlineVoiceRoutingPolicy', { Identity: ANNA, PolicyName: 'VRP-NL' }));
    expect(tenant.user(ANNA)?.policies.OnlineVoiceRoutingPolicy).toBe('VRP-NL');
  });

  it('normalises a Tag: prefix to the bare name, as the Teams service does', () => {
    const { run, tenant } = connectedTenant();
    resultOf(run('Grant-CsCallingLineIdentity', { Identity: ANNA, PolicyName: 'Tag:CLI-Sales' }));
    expect(tenant.user(ANNA)?.policies.CallingLineIdentity).toBe('CLI-Sales');
  });

  it('does not need Teams Phone to grant a policy', () => {
    const { run, tenant } = connectedTenant();
    resultOf(run('Grant-CsTenantDialPlan', { Identity: BRAM, PolicyName: 'DP-NL' }));
    expect(tenant.user(BRAM)?.policies.TenantDialPlan).toBe('DP-NL');
  });

  it('fails permanently for an unknown policy name', () => {
    const { run } = connectedTenant();
    expect(errorOf(run('Grant-CsOnlineVoiceRoutingPolicy', { Identity: ANNA, PolicyName: 'VRP-XX' }))).toMatchObject({
      message: 'Cannot find policy "VRP-XX" of type OnlineVoiceRoutingPolicy in scope "Tag"',
      fullyQualifiedErrorId: 'NotFound,Grant-CsOnlineVoiceRoutingPolicy',
    });
  });

  it('resets to the global policy with -PolicyName $null', () => {
    const { run, tenant } = connectedTenant();
    resultOf(run('Grant-CsTenantDialPlan', { Identity: EVA, PolicyName: null }));
    expect(tenant.user(EVA)?.policies.TenantDialPlan).toBeNull();
    expect(resultOf(run('Get-CsOnlineUser', { Identity: EVA }))).toMatchObject({ TenantDialPlan: null });
  });

  it('grants the other three policy types too', () => {
    const { run, tenant } = connectedTenant();
    resultOf(run('Grant-CsTeamsCallingPolicy', { Identity: ANNA, PolicyName: 'AllowCalling' }));
    expect(resultOf(run('Get-CsOnlineUser', { Identity: ANNA }))).toMatchObject({ TeamsCallingPolicy: { Authority: 'Tenant', Name: 'AllowCalling' } });
    expect(errorOf(run('Grant-CsOnlineVoicemailPolicy', { Identity: ANNA, PolicyName: 'VM-NL' })).fullyQualifiedErrorId).toBe(
      'NotFound,Grant-CsOnlineVoicemailPolicy',
    );
    resultOf(run('Grant-CsTeamsEmergencyCallRoutingPolicy', { Identity: ANNA, PolicyName: null }));
    expect(tenant.user(ANNA)?.policies.TeamsEmergencyCallRoutingPolicy).toBeNull();
  });
});

describe('Get-Cs… policy lists', () => {
  it('lists CallingLineIdentity policies with Tag: identities and descriptions', () => {
    const { run } = connectedTenant();
    const rows = resultOf(run('Get-CsCallingLineIdentity')) as Record<string, unknown>[];
    expect(rows.map((r) => ({ Identity: r.Identity, Description: r.Description }))).toEqual([
      { Identity: 'Global', Description: null },
      { Identity: 'Tag:CLI-Sales', Description: 'DEPT001' },
      { Identity: 'Tag:CLI-Support', Description: 'DEPT002' },
    ]);
  });

  it('finds one policy by -Identity with or without Tag:', () => {
    const { run } = connectedTenant();
    expect(resultOf(run('Get-CsOnlineVoiceRoutingPolicy', { Identity: 'VRP-NL' }))).toMatchObject([{ Identity: 'Tag:VRP-NL', Description: null }]);
    expect(resultOf(run('Get-CsTenantDialPlan', { Identity: 'Tag:DP-NL' }))).toMatchObject([{ Identity: 'Tag:DP-NL', Description: null }]);
  });
});

describe('batch policy assignment', () => {
  const submit = (run: ReturnType<typeof connectedTenant>['run'], identities: unknown, policyName: string | null = 'VRP-NL') =>
    run('New-CsBatchPolicyAssignmentOperation', { PolicyType: 'OnlineVoiceRoutingPolicy', PolicyName: policyName, Identity: identities });

  it('returns an operation id and moves NotStarted → InProgress → Completed on successive polls', () => {
    const { run, tenant } = connectedTenant();
    const operationId = resultOf(submit(run, [ANNA, BRAM])) as string;
    expect(operationId).toMatch(/^[0-9a-f-]{36}$/);
    const poll = () => resultOf(run('Get-CsBatchPolicyAssignmentOperation', { OperationId: operationId })) as Record<string, unknown>;
    expect(poll().OverallStatus).toBe('NotStarted');
    expect(poll().OverallStatus).toBe('InProgress');
    expect(tenant.user(ANNA)?.policies.OnlineVoiceRoutingPolicy).toBeNull();
    expect(poll()).toMatchObject({ OverallStatus: 'Completed', CompletedCount: 2, ErrorCount: 0 });
    expect(tenant.user(BRAM)?.policies.OnlineVoiceRoutingPolicy).toBe('VRP-NL');
  });

  it('completes on the clock without polling', () => {
    const { run, tenant, clock } = connectedTenant();
    resultOf(submit(run, [ANNA]));
    clock.advance(60_000);
    expect(tenant.user(ANNA)?.policies.OnlineVoiceRoutingPolicy).toBe('VRP-NL');
  });

  it('reports per-user errors for users it cannot find', () => {
    const { run, clock } = connectedTenant();
    const operationId = resultOf(submit(run, [ANNA, 'ghost@contoso.example'])) as string;
    clock.advance(60_000);
    expect(resultOf(run('Get-CsBatchPolicyAssignmentOperation', { OperationId: operationId }))).toMatchObject({
      OverallStatus: 'Completed',
      CompletedCount: 1,
      ErrorCount: 1,
      UserState: [
        { Id: ANNA, Result: 'Success', State: 'Completed' },
        { Id: 'ghost@contoso.example', Result: 'Management object not found for identity "ghost@contoso.example".', State: 'Completed' },
      ],
    });
  });

  it('refuses more than 5,000 identities', () => {
    const { run } = connectedTenant();
    const identities = Array.from({ length: 5001 }, (_, i) => `user${i}@contoso.example`);
    expect(errorOf(submit(run, identities)).message).toBe(
      "Cannot validate argument on parameter 'Identity'. The number of provided arguments (5001) exceeds the maximum number of allowed arguments (5000). Provide fewer than 5000 arguments, and then try the command again.",
    );
  });

  it('refuses an unknown policy when the operation is submitted', () => {
    const { run } = connectedTenant();
    expect(errorOf(submit(run, [ANNA], 'VRP-XX')).message).toBe('Cannot find policy "VRP-XX" of type OnlineVoiceRoutingPolicy in scope "Tag"');
  });

  it('does not know an operation id it never issued', () => {
    const { run } = connectedTenant();
    expect(errorOf(run('Get-CsBatchPolicyAssignmentOperation', { OperationId: 'nope' })).fullyQualifiedErrorId).toBe(
      'NotFound,Get-CsBatchPolicyAssignmentOperation',
    );
  });
});
