/**
 * Readiness before commands (issue 15 item 2): Entra ID shows Teams Phone long before Teams has
 * provisioned the user. plan reads Teams' user configuration through Graph and waits, with the
 * licence lag's backoff, instead of sending a command Teams refuses. Runs on both backends
 * (on-graph-backend.test.ts imports this file), and in one tenant and in two side by side
 * (tenant-worlds.ts): each tenant's readiness is read in its own Graph, about its own people.
 */
import { describe, expect, it } from 'vitest';
import { zeroLatencyModel } from '../../sandbox/latency-model.js';
import { currentTeamsBackend, hrEvent, inputs, tenantWith, user } from './sandbox-fixtures.js';
import { deadLettersOf, expectNoCrossing, playedIn, teamsIn, worlds } from './tenant-worlds.js';

const U1 = '00000000-0000-4000-8000-0000000000a1';
const joiner = hrEvent('e1', 'joiner', '2026-11-02T08:00:00Z', { employeeId: 'E1', userPrincipalName: 'lena@contoso.example', site: 'AMS', departmentId: 'DEPT001' });

describe.each(worlds)(`readiness before commands (${currentTeamsBackend()} backend, %s)`, (world) => {
  it('waits for Teams to list PhoneSystem after licensing, then provisions the joiner without a failed command', async () => {
    const tenant = tenantWith([user(U1, 'lena@contoso.example', 'E1', { teamsProvisioningLagMs: 2 * 60 * 60_000 })]);
    const { report, sandbox, tenants } = await playedIn(world, inputs({ tenant, eventLines: [joiner] }), { latency: zeroLatencyModel });
    expect(report.deadLetters).toEqual([]);
    for (const t of tenants) {
      expect(teamsIn(report, t, U1)).toMatchObject({ enterpriseVoiceEnabled: true, lineUri: t.lineUri('+31201234000') });
      // One command per person, sent once Teams was ready: nothing failed in Teams on the way.
      expect(report.commands.filter((c) => c.userId === t.id(U1))).toHaveLength(1);
      const history = report.history.find((h) => h.userId === t.id(U1))?.entries ?? [];
      expect(history.filter((e) => e.stage === 'record').map((e) => e.outcome)).toEqual(['applied']);
      // The tenant's own Graph was asked about its own person's Teams readiness.
      expect(Object.entries(t.graph.metrics().byRoute).some(([route, n]) => route.includes('/admin/teams') && n > 0)).toBe(true);
    }
    expect(report.commands).toHaveLength(tenants.length);
    const waits = sandbox.logger.lines.filter((l) => l.includes('message rescheduled') && l.includes('PhoneSystem'));
    expect(waits.length).toBeGreaterThanOrEqual(tenants.length);
    expect(report.metrics.simulatedMs).toBeGreaterThanOrEqual(2 * 60 * 60_000);
    await expectNoCrossing(sandbox, tenants);
  });

  it('dead-letters TeamsNotProvisioned with the reason when Teams never provisions the user within the window', async () => {
    const tenant = tenantWith([user(U1, 'lena@contoso.example', 'E1', { teamsProvisioningLagMs: 48 * 60 * 60_000 })]);
    const { report, sandbox, tenants } = await playedIn(world, inputs({ tenant, eventLines: [joiner] }), { latency: zeroLatencyModel });
    expect(report.deadLetters).toHaveLength(tenants.length);
    for (const t of tenants) {
      const dead = deadLettersOf(report, t);
      expect(dead.map((d) => [d.queue, d.reason])).toEqual([['user-changes', 'TeamsNotProvisioned']]);
      const upn = t.upn('lena@contoso.example').replace(/\./g, '\\.');
      expect(dead[0]?.description).toMatch(
        new RegExp(`^${upn}: Entra ID shows Teams Phone, but Teams does not list the PhoneSystem feature yet \\(featureTypes: Teams\\); .* Still the case after \\d+ attempts over \\d+ hours \\(window 24 hours\\)\\.$`),
      );
      // Nothing was sent to Teams and no number is held while waiting.
      expect(report.numbers.filter((n) => n.userId === t.id(U1))).toEqual([]);
      expect(teamsIn(report, t, U1)).toMatchObject({ enterpriseVoiceEnabled: false, lineUri: null });
    }
    expect(report.commands).toEqual([]);
    await expectNoCrossing(sandbox, tenants);
  });
});
