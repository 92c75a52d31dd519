import { describe, expect, it } from 'vitest';
import { defaultCallRetryPolicy } from '../../shared/domain/call-retry.js';
import { zeroLatencyModel } from '../../sandbox/latency-model.js';
import { Sandbox } from '../../sandbox/host/sandbox.js';
import { currentTeamsBackend, hrEvent, inputs, numberOf, played, teamsOf, tenantWith, user } from './sandbox-fixtures.js';

const U1 = '00000000-0000-4000-8000-000000000001';
const U2 = '00000000-0000-4000-8000-000000000002';
const HOUR = 3_600_000;
const carla = { employeeId: 'E1', userPrincipalName: 'carla@contoso.example', site: 'AMS', departmentId: 'DEPT001' };
const joiner = hrEvent('e1', 'joiner', '2026-11-02T08:00:00Z', carla);

describe('the sandbox hosts every Function', { timeout: 240_000 }, () => {
  it('creates the Graph subscription at the graphSubscription schedule, after the validation handshake', async () => {
    const tenant = tenantWith([user(U1, 'carla@contoso.example', 'E1')]);
    await played(inputs({ tenant, eventLines: [joiner] }), {}, async (sandbox) => {
      // The run ended a few seconds after 08:00 UTC; '0 15 */6 * * *' is next due at 12:15.
      expect(sandbox.graph.metrics().notifications.validations).toBe(0);
      await sandbox.runFor(Date.parse('2026-11-02T12:14:00Z') - sandbox.clock.nowMs());
      expect(sandbox.graph.metrics().notifications.validations).toBe(0);
      await sandbox.runFor(2 * 60_000);
      // notificationUrl and lifecycleNotificationUrl are both validated before the subscription exists.
      expect(sandbox.graph.metrics().notifications.validations).toBe(2);
      expect(sandbox.logger.lines.some((l) => l.includes('graph subscription created'))).toBe(true);
    });
  });

  it('delivers a notified licence removal to the graphNotifications webhook, which re-plans the person', async () => {
    const tenant = tenantWith([user(U1, 'carla@contoso.example', 'E1')], {
      directoryChanges: [{ atMs: 2 * 24 * HOUR, userId: U1, set: { servicePlans: ['TEAMS1'] }, notify: true }],
    });
    const { report, sandbox } = await played(inputs({ tenant, eventLines: [joiner] }));
    expect(teamsOf(report, U1)).toMatchObject({ enterpriseVoiceEnabled: false, lineUri: null });
    expect(sandbox.graph.metrics().notifications).toMatchObject({ deliveries: 1, notifications: 1, failedDeliveries: 0 });
    const history = report.history.find((h) => h.userId === U1)?.entries ?? [];
    expect(JSON.stringify(history)).toContain('graph');
  });

  it('answers Graph within its 3 s when Service Bus is busy: a retry fits, and a broker that stays busy gets a 5xx in time and the delivery again later', async () => {
    const tenant = tenantWith([user(U1, 'carla@contoso.example', 'E1'), user(U2, 'dirk@contoso.example', 'E2')], {
      directoryChanges: [
        { atMs: 30 * HOUR, userId: U1, set: { servicePlans: ['TEAMS1'] }, notify: true },
        { atMs: 40 * HOUR, userId: U2, set: { servicePlans: ['TEAMS1'] }, notify: true },
      ],
    });
    const dirk = hrEvent('e2', 'joiner', '2026-11-02T08:00:00Z', { employeeId: 'E2', userPrincipalName: 'dirk@contoso.example', site: 'AMS', departmentId: 'DEPT001' });
    const sandbox = await Sandbox.start(inputs({ tenant, eventLines: [joiner, dirk] }), { storage: 'memory', teamsBackend: currentTeamsBackend() });
    try {
      await sandbox.enqueueEvents([joiner, dirk]);
      await sandbox.runFor(29 * HOUR);
      // Carla's notification: the broker is busy for one send. Dirk's: busy for ten minutes.
      sandbox.bus.setFaults({ rules: [{ code: 'ServiceBusy', operations: ['send'], queue: 'user-changes', times: 1 }] });
      await sandbox.runFor(39 * HOUR - sandbox.clock.nowMs() + Date.parse('2026-11-02T08:00:00Z'));
      sandbox.bus.setFaults({ rules: [{ code: 'ServiceBusy', operations: ['send'], queue: 'user-changes' }] });
      await sandbox.runFor(HOUR + 10 * 60_000);
      sandbox.bus.setFaults(undefined);
      await sandbox.runUntilQuiet();
      const report = await sandbox.report();
      const delivered = sandbox.graph.metrics().notifications;
      // Every answer in time; Dirk's POST failed while the broker stayed busy and went through after.
      expect(delivered).toMatchObject({ lateDeliveries: 0, slowDeliveries: 0, deliveries: 2, notifications: 2, dropped: 0 });
      expect(delivered.failedDeliveries).toBeGreaterThan(0);
      expect(delivered.slowestDeliveryMs).toBeLessThan(2_900);
      expect(teamsOf(report, U1)).toMatchObject({ enterpriseVoiceEnabled: false, lineUri: null });
      expect(teamsOf(report, U2)).toMatchObject({ enterpriseVoiceEnabled: false, lineUri: null });
    } finally {
      await sandbox.stop();
    }
  });

  it('catches an account disabled with its notification lost through the delta resync within 72 hours', async () => {
    const tenant = tenantWith([user(U1, 'carla@contoso.example', 'E1')], {
      directoryChanges: [{ atMs: 30 * HOUR, userId: U1, set: { accountEnabled: false }, notify: false }],
    });
    await played(inputs({ tenant, eventLines: [joiner] }), {}, async (sandbox) => {
      let report = await sandbox.report();
      // Nothing told Dialtone: the phone is still there when the change happens.
      expect(teamsOf(report, U1).lineUri).toBe('tel:+31201234000');
      await sandbox.runFor(72 * HOUR);
      report = await sandbox.report();
      expect(teamsOf(report, U1)).toMatchObject({ enterpriseVoiceEnabled: false, lineUri: null });
      expect(numberOf(report, '+31201234000')?.state).toBe('quarantined');
      expect(sandbox.graph.metrics().notifications.deliveries).toBe(0);
      expect(report.history.find((h) => h.userId === U1)?.entries.some((e) => JSON.stringify(e).includes('resync'))).toBe(true);
    });
  });

  it('catches a Teams Phone licence removed with its notification lost through the daily full resync round (users delta does not report licences)', async () => {
    const tenant = tenantWith([user(U1, 'carla@contoso.example', 'E1')], {
      directoryChanges: [{ atMs: 30 * HOUR, userId: U1, set: { servicePlans: ['TEAMS1'] }, notify: false }],
    });
    await played(inputs({ tenant, eventLines: [joiner] }), {}, async (sandbox) => {
      await sandbox.runFor(72 * HOUR);
      const report = await sandbox.report();
      expect(teamsOf(report, U1)).toMatchObject({ enterpriseVoiceEnabled: false, lineUri: null });
      expect(numberOf(report, '+31201234000')?.state).toBe('quarantined');
      expect(sandbox.graph.metrics().notifications.deliveries).toBe(0);
    });
  });

  it('completes, without waiting for a licence, the daily re-plan of someone whose voice went with their licence (no NotLicensed dead letter)', async () => {
    const tenant = tenantWith([user(U1, 'carla@contoso.example', 'E1')], {
      directoryChanges: [{ atMs: 2 * HOUR, userId: U1, set: { servicePlans: ['TEAMS1'] }, notify: false }],
    });
    await played(inputs({ tenant, eventLines: [joiner] }), {}, async (sandbox) => {
      // The first round (12:45) takes the voice away; the full rounds of the next days re-plan her again.
      await sandbox.runFor(96 * HOUR);
      await sandbox.runUntilQuiet();
      const report = await sandbox.report();
      expect(teamsOf(report, U1)).toMatchObject({ enterpriseVoiceEnabled: false, lineUri: null });
      expect(report.deadLetters).toEqual([]);
    });
  });

  it('retries a resync round that a transient Graph error failed minutes later, as the timer retry policy does, not 12 hours later', async () => {
    const tenant = tenantWith([user(U1, 'carla@contoso.example', 'E1')], {
      directoryChanges: [{ atMs: 2 * HOUR, userId: U1, set: { accountEnabled: false }, notify: false }],
    });
    // The first round (12:45) meets more 503s on /users/delta than one call's retries take, so the
    // round fails; nothing told Dialtone of the disable.
    const graphFaults = { rules: [{ status: 503 as const, times: defaultCallRetryPolicy.maxAttempts, path: /\/users\/delta/ }] };
    await played(inputs({ tenant, eventLines: [joiner] }), { graphFaults }, async (sandbox) => {
      await sandbox.runFor(Date.parse('2026-11-02T14:00:00Z') - sandbox.clock.nowMs());
      const report = await sandbox.report();
      expect(sandbox.logger.lines.some((l) => l.includes('timer function failed'))).toBe(true);
      expect(teamsOf(report, U1)).toMatchObject({ enterpriseVoiceEnabled: false, lineUri: null });
      expect(numberOf(report, '+31201234000')?.state).toBe('quarantined');
    });
  });

  it("times every invocation in sandbox time against host.json's functionTimeout: a resync round that waits out a Graph 429's Retry-After lasts that long", async () => {
    const tenant = tenantWith([user(U1, 'carla@contoso.example', 'E1')]);
    const graphFaults = { rules: [{ status: 429 as const, times: 1, retryAfterSeconds: 40, path: /\/users\/delta/ }] };
    await played(inputs({ tenant, eventLines: [joiner] }), { graphFaults }, async (sandbox) => {
      await sandbox.runFor(Date.parse('2026-11-02T14:00:00Z') - sandbox.clock.nowMs());
      const { timeoutMs, byFunction } = sandbox.functionDurations();
      expect(timeoutMs).toBe(5 * 60_000);
      expect(byFunction.graphResync?.longestMs).toBeGreaterThanOrEqual(40_000);
      for (const name of ['correlate', 'plan', 'record', 'graphSubscription', 'graphResync']) expect(byFunction[name]?.invocations, name).toBeGreaterThan(0);
      for (const [name, d] of Object.entries(byFunction)) expect([name, d.overTimeout]).toEqual([name, 0]);
    });
  });

  it('runs each Function App instance on its own clock when their clocks are skewed', async () => {
    const tenant = tenantWith([user(U1, 'carla@contoso.example', 'E1')]);
    // One instance whose clock is five minutes fast: what its stages write carries its time.
    const { report } = await played(inputs({ tenant, eventLines: [joiner] }), { functionClockSkewsMs: [5 * 60_000] });
    const entries = report.history.find((h) => h.userId === U1)?.entries ?? [];
    expect(entries.length).toBeGreaterThan(0);
    for (const e of entries) expect(Date.parse(e.at)).toBeGreaterThanOrEqual(Date.parse('2026-11-02T08:05:00Z'));
    expect(teamsOf(report, U1).lineUri).toBe('tel:+31201234000');
  });

  it('gives the same report for the same inputs, with two competing Function instances', async () => {
    const people = Array.from({ length: 6 }, (_, i) => user(`00000000-0000-4000-8000-00000000001${i}`, `p${i}@contoso.example`, `P${i}`));
    const tenant = tenantWith(people, {
      directoryChanges: [{ atMs: 5 * HOUR, userId: people[0]!.id, set: { servicePlans: ['TEAMS1'] }, notify: true }],
    });
    const events = people.map((p, i) =>
      hrEvent(`j${i}`, 'joiner', '2026-11-02T08:00:00Z', { employeeId: p.employeeId, userPrincipalName: p.userPrincipalName, site: i % 2 ? 'RTM' : 'AMS', departmentId: 'DEPT001' }),
    );
    const options = { instances: 2, seed: 42, startJitterMs: 500 };
    const first = (await played(inputs({ tenant, eventLines: events }), options)).report;
    const second = (await played(inputs({ tenant, eventLines: events }), options)).report;
    expect(first.users.filter((u) => u.teams.lineUri !== null)).toHaveLength(5);
    if (process.env.DIALTONE_DEBUG_DETERMINISM) {
      const { writeFileSync } = await import('node:fs');
      writeFileSync('/tmp/engine-first.json', JSON.stringify(first, null, 1));
      writeFileSync('/tmp/engine-second.json', JSON.stringify(second, null, 1));
    }
    expect(JSON.stringify(second)).toBe(JSON.stringify(first));
  });
});

describe('latency in sandbox time', { timeout: 240_000 }, () => {
  it('charges every cmdlet and Graph request on the sandbox clock: one person costs the sum of the field model', async () => {
    const tenant = tenantWith([user(U1, 'carla@contoso.example', 'E1')]);
    const { report, sandbox } = await played(inputs({ tenant, eventLines: [joiner] }));
    const model = sandbox.latency;
    const byCmdlet = sandbox.teams!.metrics().byCmdlet;
    let teamsMs = 0;
    for (const [cmdlet, count] of Object.entries(byCmdlet)) {
      const ms = cmdlet === 'Connect-MicrosoftTeams' ? model.connectMs : cmdlet === 'Exit' ? 0 : (model.cmdletMs[cmdlet] ?? (cmdlet.startsWith('Grant-') ? model.grantMs : model.readMs));
      teamsMs += ms * count;
    }
    // One person is one chain of calls: the makespan is their sum, and far more than zero.
    expect(report.metrics.simulatedMs).toBe(teamsMs + report.metrics.graphRequests * model.graphRequestMs);
    expect(report.metrics.simulatedMs).toBeGreaterThan(15_000);
  });

  it('runs Teams sessions on their own timelines, never more at once than the worker may hold', async () => {
    const people = Array.from({ length: 12 }, (_, i) => user(`00000000-0000-4000-8000-0000000002${String(i).padStart(2, '0')}`, `q${i}@contoso.example`, `Q${i}`));
    const tenant = tenantWith(people);
    const events = people.map((p, i) => hrEvent(`q${i}`, 'joiner', '2026-11-02T08:00:00Z', { employeeId: p.employeeId, userPrincipalName: p.userPrincipalName, site: 'AMS', departmentId: 'DEPT001' }));
    const { report, sandbox } = await played(inputs({ tenant, eventLines: events }), { workerTuning: { maxSessions: 4, maxSessionsPerTenant: 4, concurrentSessions: 4 } });
    expect(report.users.filter((u) => u.teams.lineUri !== null)).toHaveLength(12);
    const single = (await played(inputs({ tenant: tenantWith([people[0]!]), eventLines: [events[0]!] }))).report.metrics.simulatedMs;
    // Four sessions in parallel: well under twelve people one after another, never under a quarter of it.
    expect(report.metrics.simulatedMs).toBeLessThan(12 * single * 0.5);
    expect(report.metrics.simulatedMs).toBeGreaterThanOrEqual((12 * (single - 10_000)) / 4);
    expect(sandbox.scheduler.peakSleeping('teams')).toBeLessThanOrEqual(4);
  });

  it('costs no sandbox time with the zero model', async () => {
    const tenant = tenantWith([user(U1, 'carla@contoso.example', 'E1'), user(U2, 'dirk@contoso.example', 'E2')]);
    const { report } = await played(inputs({ tenant, eventLines: [joiner] }), { latency: zeroLatencyModel });
    expect(report.metrics.simulatedMs).toBe(0);
    expect(teamsOf(report, U1).lineUri).toBe('tel:+31201234000');
  });
});
