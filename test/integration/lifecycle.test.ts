import { describe, expect, it } from 'vitest';
import { queueNames } from '../../shared/contracts/messages.js';
import { settleDeadLetters } from '../../shared/usecases/dead-letters.js';
import { currentTeamsBackend, hrEvent, inputs, numberOf, played, teamsOf, tenantWith, user } from './sandbox-fixtures.js';

const U1 = '00000000-0000-4000-8000-000000000001';
const U2 = '00000000-0000-4000-8000-000000000002';
const carla = (extra: Record<string, unknown> = {}) => ({ employeeId: 'E1', userPrincipalName: 'carla@contoso.example', ...extra });
const singleUser = () => tenantWith([user(U1, 'carla@contoso.example', 'E1')]);

describe('joiner, mover and leaver lifecycle', () => {
  it('keeps the number of a mover who stays in the same pool and changes only the policies', async () => {
    const events = [
      hrEvent('e1', 'joiner', '2026-11-02T08:00:00Z', carla({ site: 'AMS', departmentId: 'DEPT001' })),
      hrEvent('e2', 'mover', '2026-11-05T08:00:00Z', carla({ site: 'AMS', departmentId: 'DEPT002' })),
    ];
    const { report } = await played(inputs({ tenant: singleUser(), eventLines: events }));
    expect(teamsOf(report, U1)).toMatchObject({ lineUri: 'tel:+31201234000', policies: { CallingLineIdentity: 'CLI-Support' } });
    expect(report.numbers.filter((n) => n.userId === U1).map((n) => [n.number, n.state])).toEqual([['+31201234000', 'assigned']]);
  });

  it('removes a leaver\'s number, turns Enterprise Voice off, resets the policies and quarantines the number', async () => {
    const events = [
      hrEvent('e1', 'joiner', '2026-11-02T08:00:00Z', carla({ site: 'AMS', departmentId: 'DEPT001' })),
      hrEvent('e2', 'leaver', '2026-11-09T17:00:00Z', carla()),
    ];
    const { report } = await played(inputs({ tenant: singleUser(), eventLines: events }));
    expect(teamsOf(report, U1)).toMatchObject({
      enterpriseVoiceEnabled: false,
      lineUri: null,
      policies: { CallingLineIdentity: null, OnlineVoiceRoutingPolicy: null, TenantDialPlan: null },
    });
    expect(numberOf(report, '+31201234000')).toMatchObject({ state: 'quarantined', userId: U1 });
  });

  it('gives a rehire within quarantine the same number back, even when others joined since', async () => {
    const tenant = tenantWith([user(U1, 'carla@contoso.example', 'E1'), user(U2, 'dirk@contoso.example', 'E2')]);
    const events = [
      hrEvent('e1', 'joiner', '2026-11-02T08:00:00Z', carla({ site: 'AMS', departmentId: 'DEPT001' })),
      hrEvent('e2', 'leaver', '2026-11-09T17:00:00Z', carla()),
      hrEvent('e3', 'joiner', '2026-11-10T08:00:00Z', { employeeId: 'E2', userPrincipalName: 'dirk@contoso.example', site: 'AMS', departmentId: 'DEPT001' }),
      hrEvent('e4', 'joiner', '2026-11-20T08:00:00Z', carla({ site: 'AMS', departmentId: 'DEPT001' })),
    ];
    const { report } = await played(inputs({ tenant, eventLines: events }));
    expect(teamsOf(report, U1).lineUri).toBe('tel:+31201234000');
    expect(teamsOf(report, U2).lineUri).toBe('tel:+31201234001');
  });

  it('treats a person the policy gives no voice like a leaver for voice', async () => {
    const events = [
      hrEvent('e1', 'joiner', '2026-11-02T08:00:00Z', carla({ site: 'AMS', departmentId: 'DEPT001' })),
      hrEvent('e2', 'mover', '2026-11-05T08:00:00Z', carla({ site: 'AMS', departmentId: 'DEPT001', jobTitle: 'Intern (summer)' })),
    ];
    const { report } = await played(inputs({ tenant: singleUser(), eventLines: events }));
    expect(teamsOf(report, U1)).toMatchObject({ enterpriseVoiceEnabled: false, lineUri: null });
    expect(numberOf(report, '+31201234000')?.state).toBe('quarantined');
  });

  it('removes voice when the Teams Phone licence is removed later (Graph change notification)', async () => {
    const tenant = tenantWith([user(U1, 'carla@contoso.example', 'E1')], {
      directoryChanges: [{ atMs: 3 * 24 * 3_600_000, userId: U1, set: { servicePlans: ['TEAMS1'] }, notify: true }],
    });
    const events = [hrEvent('e1', 'joiner', '2026-11-02T08:00:00Z', carla({ site: 'AMS', departmentId: 'DEPT001' }))];
    const { report } = await played(inputs({ tenant, eventLines: events }));
    expect(teamsOf(report, U1)).toMatchObject({ enterpriseVoiceEnabled: false, lineUri: null });
    expect(numberOf(report, '+31201234000')).toMatchObject({ state: 'quarantined', userId: U1 });
  });
});

describe('numbers held outside Dialtone and exhausted pools', () => {
  it('blocks a number Teams says belongs to someone else and re-plans with the next free one', async () => {
    const tenant = tenantWith([user(U1, 'carla@contoso.example', 'E1')], {
      externalAssignments: [{ number: '+31201234003', assignedTo: 'someone-outside-dialtone@contoso.example' }],
    });
    const pools = [{ id: 'ams', ranges: [{ from: '+31201234003', to: '+31201234005' }], quarantineDays: 90 }];
    const events = [hrEvent('e1', 'joiner', '2026-11-02T08:00:00Z', carla({ site: 'AMS', departmentId: 'DEPT001' }))];
    const { report } = await played(inputs({ tenant, pools, eventLines: events }));
    expect(teamsOf(report, U1).lineUri).toBe('tel:+31201234004');
    expect(numberOf(report, '+31201234003')).toMatchObject({ state: 'blocked' });
    expect(numberOf(report, '+31201234004')).toMatchObject({ state: 'assigned', userId: U1 });
    expect(report.deadLetters).toEqual([]);
  });

  it('dead-letters PoolExhausted, and after a range is added a replay provisions the person', async () => {
    const tenant = tenantWith([user(U1, 'carla@contoso.example', 'E1'), user(U2, 'dirk@contoso.example', 'E2')]);
    const pools = [{ id: 'ams', ranges: [{ from: '+31201234000', to: '+31201234000' }], quarantineDays: 90 }];
    const events = [
      hrEvent('e1', 'joiner', '2026-11-02T08:00:00Z', carla({ site: 'AMS', departmentId: 'DEPT001' })),
      hrEvent('e2', 'joiner', '2026-11-02T08:05:00Z', { employeeId: 'E2', userPrincipalName: 'dirk@contoso.example', site: 'AMS', departmentId: 'DEPT001' }),
    ];
    let before: { reason: string; description: string }[] = [];
    const { report } = await played(inputs({ tenant, pools, eventLines: events }), {}, async (sandbox) => {
      before = (await sandbox.report()).deadLetters.map((d) => ({ reason: d.reason, description: d.description }));
      await sandbox.inventory.importPools(
        [{ id: 'ams', ranges: [{ from: '+31201234000', to: '+31201234009' }], quarantineDays: 90 }],
        { now: sandbox.clock.now() },
      );
      const replayed = await settleDeadLetters(sandbox.bus, [queueNames.userChanges], { reason: 'PoolExhausted' }, 'replay');
      expect(replayed.map((r) => r.action)).toEqual(['replayed']);
      await sandbox.runUntilQuiet();
    });
    expect(before.map((d) => d.reason)).toEqual(['PoolExhausted']);
    expect(before[0]?.description).toMatch(/^dirk@contoso\.example: .*ams/);
    expect(report.deadLetters).toEqual([]);
    expect(teamsOf(report, U2).lineUri).toBe('tel:+31201234001');
  });
});

describe('replaying a failed voice result', () => {
  // Teams refuses every number assignment until the operator has fixed it. Through the worker the
  // cmdlet fails: the worker pauses the tenant, sets the command aside, and gives it up after its
  // window with a transient result, which record dead-letters on voice-results. Through Graph the
  // assignment call answers 503: graphVoice gives the command up after its retries and it is
  // dead-lettered on voice-commands itself, with no result. Either way one replay provisions them.
  const graph = currentTeamsBackend() === 'graph';
  it(graph
    ? 'dead-letters the command when Graph answers 503 to every assignment, and a replay once Graph recovers provisions the person'
    : 're-plans the person when a result Teams failed is replayed once Teams recovers, so the replay provisions them (it used to record the same failure again)', async () => {
    const events = [hrEvent('e1', 'joiner', '2026-11-02T08:00:00Z', carla({ site: 'AMS', departmentId: 'DEPT001' }))];
    const faults = graph
      ? { graphFaults: { rules: [{ status: 503 as const, path: /numberAssignments\/assignNumber/ }] } }
      : { teams: { faults: [{ kind: 'unavailable' as const, cmdlet: 'Set-CsPhoneNumberAssignment' }] } };
    const failedOn = graph ? queueNames.voiceCommands : queueNames.voiceResults;
    let before: { queue: string; reason: string; description: string }[] = [];
    let replayed: string[] = [];
    const { report } = await played(inputs({ tenant: singleUser(), eventLines: events }), faults, async (sandbox) => {
      before = (await sandbox.report()).deadLetters.map((d) => ({ queue: d.queue, reason: d.reason, description: d.description }));
      if (graph) sandbox.graph.setFaults({});
      else sandbox.teams!.setFaults([]);
      replayed = (await settleDeadLetters(sandbox.bus, [failedOn], {}, 'replay')).map((r) => r.action);
      await sandbox.runUntilQuiet();
    });
    expect(before).toHaveLength(1);
    expect(before[0]).toMatchObject({ queue: failedOn, reason: 'ServiceUnavailable' });
    expect(before[0]?.description).toMatch(/replay/i);
    expect(replayed).toEqual(['replayed']);
    expect(report.deadLetters).toEqual([]);
    expect(teamsOf(report, U1)).toMatchObject({ enterpriseVoiceEnabled: true, lineUri: 'tel:+31201234000' });
    expect(numberOf(report, '+31201234000')).toMatchObject({ state: 'assigned', userId: U1 });
    if (!graph) {
      const lines = report.history.find((h) => h.userId === U1)?.entries.map((e) => e.outcome) ?? [];
      expect(lines).toContain('replayed');
    }
  }, 240_000);
});

describe('accounts deleted from the directory', () => {
  it('quarantines the number of a user deleted in Entra ID without sending a command Teams could not run', async () => {
    const tenant = tenantWith([user(U1, 'carla@contoso.example', 'E1')], {
      directoryChanges: [{ atMs: 2 * 24 * 3_600_000, userId: U1, set: { deleted: true }, notify: true }],
    });
    const events = [hrEvent('e1', 'joiner', '2026-11-02T08:00:00Z', carla({ site: 'AMS', departmentId: 'DEPT001' }))];
    const { report } = await played(inputs({ tenant, eventLines: events }));
    expect(numberOf(report, '+31201234000')).toMatchObject({ state: 'quarantined', userId: U1 });
    expect(report.commands).toHaveLength(1);
    expect(report.deadLetters).toEqual([]);
  });
});

describe('a leaver already gone from Entra ID', () => {
  it('is found through Dialtone\'s record by employee id and the number is quarantined', async () => {
    const tenant = tenantWith([user(U1, 'carla@contoso.example', 'E1')], {
      directoryChanges: [{ atMs: 2 * 24 * 3_600_000, userId: U1, set: { deleted: true }, notify: false }],
    });
    const events = [
      hrEvent('e1', 'joiner', '2026-11-02T08:00:00Z', carla({ site: 'AMS', departmentId: 'DEPT001' })),
      hrEvent('e2', 'leaver', '2026-11-06T17:00:00Z', { employeeId: 'E1' }),
    ];
    const { report } = await played(inputs({ tenant, eventLines: events }));
    expect(report.deadLetters).toEqual([]);
    expect(numberOf(report, '+31201234000')).toMatchObject({ state: 'quarantined', userId: U1 });
  });
});
