import { beforeAll, describe, expect, it } from 'vitest';
import type { SandboxReport } from '../../sandbox/host/report.js';
import { zeroLatencyModel } from '../../sandbox/latency-model.js';
import { ANNA, BRAM, currentTeamsBackend, hrEvent, inputs, numberOf, played, teamsOf, tenantWith, user } from './sandbox-fixtures.js';

const U1 = '00000000-0000-4000-8000-000000000001';
const U2 = '00000000-0000-4000-8000-000000000002';

describe('the sample tenant, end to end through the worker', () => {
  // One run of the sample for the tests that only read its outcome (CI time: the suite runs twice, once per backend).
  let sample: SandboxReport;
  beforeAll(async () => {
    sample = (await played(inputs())).report;
  }, 120_000);

  it('gives Anna a Rotterdam number after her move and quarantines her Amsterdam one', async () => {
    const report = sample;
    expect(teamsOf(report, ANNA)).toMatchObject({
      enterpriseVoiceEnabled: true,
      lineUri: 'tel:+31101234500',
      policies: { CallingLineIdentity: 'CLI-Support', OnlineVoiceRoutingPolicy: 'VRP-NL', TenantDialPlan: 'DP-NL' },
    });
    expect(numberOf(report, '+31201234000')).toMatchObject({ state: 'quarantined', userId: ANNA });
    expect(numberOf(report, '+31101234500')).toMatchObject({ state: 'assigned', userId: ANNA });
  });

  it('dead-letters Bram, who never gets Teams Phone, as NotLicensed after the window', async () => {
    const report = sample;
    expect(report.deadLetters).toHaveLength(1);
    expect(report.deadLetters[0]).toMatchObject({ queue: 'user-changes', reason: 'NotLicensed' });
    expect(report.deadLetters[0]?.description).toMatch(
      /^bram\.jansen@contoso\.example has no enabled Teams Phone \(MCOEV\) service plan yet; .* Still the case after \d+ attempts over 23 hours \(window 24 hours\)\.$/,
    );
    expect(teamsOf(report, BRAM)).toMatchObject({ enterpriseVoiceEnabled: false, lineUri: null });
  });

  it('reports real metrics from the simulators', async () => {
    // Free calls, so the makespan is exactly Bram's retry window (latency is tested in functions-hosted).
    const { report } = await played(inputs(), { latency: zeroLatencyModel });
    expect(report.metrics.eventsIn).toBe(4);
    if (currentTeamsBackend() === 'graph') {
      // Graph applies the commands: no pwsh session, no connect, no cmdlet.
      expect(report.metrics).toMatchObject({ connects: 0, cmdlets: 0, writeCmdlets: 0 });
    } else {
      // One connect per day the sample's commands run on (2 Nov, 20 Nov, 30 Nov): between them the
      // warm session idles longer than production's 10-minute idle timeout, on the sandbox clock.
      expect(report.metrics.connects).toBe(3);
      expect(report.metrics.writeCmdlets).toBeGreaterThan(0);
      expect(report.metrics.cmdlets).toBeGreaterThan(report.metrics.writeCmdlets);
    }
    expect(report.metrics.graphRequests).toBeGreaterThan(0);
    expect(report.metrics.simulatedMs).toBe(Date.parse('2026-11-30T17:00:00Z') - Date.parse('2026-11-02T08:00:00Z'));
  });

  it('makes about one Graph request per HR event when nobody has to wait', async () => {
    const tenant = tenantWith([user(U1, 'carla@contoso.example', 'E1'), user(U2, 'dirk@contoso.example', 'E2')]);
    const events = [
      hrEvent('e1', 'joiner', '2026-11-02T08:00:00Z', { employeeId: 'E1', userPrincipalName: 'carla@contoso.example', site: 'AMS', departmentId: 'DEPT001' }),
      hrEvent('e2', 'joiner', '2026-11-02T08:01:00Z', { employeeId: 'E2', userPrincipalName: 'dirk@contoso.example', site: 'RTM', departmentId: 'DEPT002' }),
    ];
    const { report, sandbox } = await played(inputs({ tenant, eventLines: events }));
    // Directory reads only: the graph backend's /admin/teams requests are the apply step, not correlation.
    const teamsAdmin = Object.entries(sandbox.graph.metrics().byRoute).filter(([route]) => route.includes('/admin/teams')).reduce((n, [, c]) => n + c, 0);
    expect(report.metrics.graphRequests - teamsAdmin).toBe(2);
    expect(teamsOf(report, U1).lineUri).toBe('tel:+31201234000');
    expect(teamsOf(report, U2).lineUri).toBe('tel:+31101234500');
  });
});

describe('correlation and settlement through the sandbox bus', () => {
  it('provisions a joiner that directory sync shows only later', async () => {
    const tenant = tenantWith([user(U1, 'late@contoso.example', 'E1', { appearsAfterMs: 20 * 60_000 })]);
    const events = [hrEvent('e1', 'joiner', '2026-11-02T08:00:00Z', { employeeId: 'E1', userPrincipalName: 'late@contoso.example', site: 'AMS', departmentId: 'DEPT001' })];
    const { report } = await played(inputs({ tenant, eventLines: events }));
    expect(report.deadLetters).toEqual([]);
    expect(teamsOf(report, U1)).toMatchObject({ enterpriseVoiceEnabled: true, lineUri: 'tel:+31201234000' });
  });

  it('dead-letters a user not found after the window as UserNotFound', async () => {
    const tenant = tenantWith([user(U1, 'someone@contoso.example', 'E1')]);
    const events = [hrEvent('e1', 'joiner', '2026-11-02T08:00:00Z', { employeeId: 'E404', site: 'AMS' })];
    const { report } = await played(inputs({ tenant, eventLines: events }));
    expect(report.deadLetters.map((d) => [d.queue, d.reason])).toEqual([['hr-events', 'UserNotFound']]);
    expect(report.deadLetters[0]?.description).toMatch(/^No Entra ID user matches employeeId 'E404' yet \(directory sync can lag\)\./);
  });

  it('dead-letters two users with the same employeeId as UserAmbiguous, naming both', async () => {
    const tenant = tenantWith([user(U1, 'a@contoso.example', 'E7'), user(U2, 'b@contoso.example', 'E7')]);
    const events = [hrEvent('e1', 'joiner', '2026-11-02T08:00:00Z', { employeeId: 'E7', site: 'AMS' })];
    const { report } = await played(inputs({ tenant, eventLines: events }));
    expect(report.deadLetters).toHaveLength(1);
    expect(report.deadLetters[0]).toMatchObject({ queue: 'hr-events', reason: 'UserAmbiguous' });
    expect(report.deadLetters[0]?.description).toBe(
      `2 Entra ID users have employeeId 'E7': a@contoso.example (${U1}), b@contoso.example (${U2}). Dialtone will not guess. Make the attribute unique in Entra ID (or give the HR event a userPrincipalName), then replay this message.`,
    );
    expect(report.metrics.cmdlets).toBe(0);
  });

  it('dead-letters a malformed event as InvalidMessage naming the field and processes the events after it', async () => {
    const tenant = tenantWith([user(U1, 'carla@contoso.example', 'E1')]);
    const events = [
      JSON.stringify({ eventId: 'bad-1', type: 'joiner', occurredAt: '2026-11-02T08:00:00Z', person: { displayName: 'No Id' } }),
      'this is not json',
      hrEvent('e1', 'joiner', '2026-11-02T08:01:00Z', { employeeId: 'E1', site: 'AMS', departmentId: 'DEPT001' }),
    ];
    const { report } = await played(inputs({ tenant, eventLines: events }));
    expect(report.deadLetters.map((d) => [d.reason, d.description])).toEqual([
      ['InvalidMessage', 'Invalid hr-events message: person.employeeId: Invalid input: expected string, received undefined'],
      ['InvalidMessage', 'Invalid hr-events message: (message): Invalid input: expected object, received string'],
    ]);
    expect(teamsOf(report, U1).lineUri).toBe('tel:+31201234000');
  });

  it('sends one command for a duplicated event', async () => {
    const tenant = tenantWith([user(U1, 'carla@contoso.example', 'E1')]);
    const line = hrEvent('e1', 'joiner', '2026-11-02T08:00:00Z', { employeeId: 'E1', site: 'AMS', departmentId: 'DEPT001' });
    const { report } = await played(inputs({ tenant, eventLines: [line, line] }));
    expect(report.commands).toHaveLength(1);
    expect(report.metrics.eventsIn).toBe(2);
    expect(report.deadLetters).toEqual([]);
  });

  it('completes an HR event older than the one already applied as stale, without changing Teams', async () => {
    const tenant = tenantWith([user(U1, 'carla@contoso.example', 'E1')]);
    const events = [hrEvent('e2', 'leaver', '2026-11-10T08:00:00Z', { employeeId: 'E1' })];
    const { report } = await played(inputs({ tenant, eventLines: events }), {}, async (sandbox) => {
      await sandbox.enqueueEvents([hrEvent('e1', 'joiner', '2026-11-02T08:00:00Z', { employeeId: 'E1', site: 'AMS', departmentId: 'DEPT001' })]);
      await sandbox.runUntilQuiet();
    });
    expect(report.deadLetters).toEqual([]);
    expect(teamsOf(report, U1)).toMatchObject({ enterpriseVoiceEnabled: false, lineUri: null });
    const history = report.history.find((h) => h.userId === U1)?.entries ?? [];
    expect(history.some((e) => e.outcome === 'stale' && e.eventId === 'e1')).toBe(true);
  });
});
