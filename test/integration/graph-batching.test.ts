/**
 * A burst of HR events: correlate asks Graph for the users in $batch requests of at most 20
 * (issue 11 item 3), so the pipeline stays at or under 1.1 Graph requests per event even with
 * plan's readiness read. Runs on both backends (on-graph-backend.test.ts imports it), and in one
 * tenant and in two side by side (tenant-worlds.ts): the same 40 events, 20 per tenant, each
 * tenant's lookups batched in its own Graph only.
 */
import { describe, expect, it } from 'vitest';
import { zeroLatencyModel } from '../../sandbox/latency-model.js';
import type { GraphSimulator } from '../../sandbox/graph-sim/index.js';
import { currentTeamsBackend, hrEvent, inputs, tenantWith, user } from './sandbox-fixtures.js';
import { expectNoCrossing, playedIn, worlds, type WorldKind } from './tenant-worlds.js';

const events = 40;
const id = (i: number) => `00000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`;
/** The people of the scenario in each tenant: the burst is the same 40 events in either world. */
const perTenant = (world: WorldKind) => (world === 'single tenant' ? events : events / 2);
const tenant = (people: number) => tenantWith(Array.from({ length: people }, (_, i) => user(id(i), `p${i + 1}@contoso.example`, `E${i + 1}`)));
const burst = (people: number) =>
  Array.from({ length: people }, (_, i) =>
    hrEvent(`e${i + 1}`, 'joiner', '2026-11-02T08:00:00Z', { employeeId: `E${i + 1}`, userPrincipalName: `p${i + 1}@contoso.example`, site: i % 2 ? 'RTM' : 'AMS', departmentId: 'DEPT001' }),
  );

/** Directory requests (everything but /admin/teams), and the /admin/teams requests, of one tenant's Graph. */
function split(graph: GraphSimulator): { directory: number; teams: number } {
  const m = graph.metrics();
  const teams = Object.entries(m.byRoute)
    .filter(([route]) => route.includes('/admin/teams'))
    .reduce((n, [, c]) => n + c, 0);
  return { directory: m.requests - teams, teams };
}

describe.each(worlds)(`a burst of HR events in Graph $batch requests (${currentTeamsBackend()} backend, %s)`, (world) => {
  const people = perTenant(world);

  it('looks the users up in batches of at most 20, keeping the pipeline at or under 1.1 Graph requests per event', async () => {
    const { report, sandbox, tenants } = await playedIn(world, inputs({ tenant: tenant(people), eventLines: burst(people) }), { latency: zeroLatencyModel });
    expect(report.deadLetters).toEqual([]);
    expect(report.users.filter((u) => u.teams.lineUri !== null)).toHaveLength(events);
    let requests = 0;
    for (const t of tenants) {
      const m = t.graph.metrics();
      expect(m.batches).toBeGreaterThan(0);
      expect(m.batchedRequests / m.batches).toBeLessThanOrEqual(20);
      // Each tenant's Graph was asked for its own people only (its directory has no one else).
      expect(m.byRoute['GET /users/{id}']).toBe(people);
      const { directory, teams } = split(t.graph);
      // correlate: the lookups in 3 invocations of up to 16 messages, one $batch per tenant in each.
      expect(directory).toBeLessThanOrEqual(0.1 * events);
      if (currentTeamsBackend() === 'powershell') expect(teams).toBe(people);
      requests += m.requests;
    }
    // The rest is plan's readiness read, one per person. A $batch cannot span tenants, so with two
    // tenants an invocation makes one per tenant: at most 1.1 per event with one tenant, 1.2 with two.
    if (currentTeamsBackend() === 'powershell') expect(requests / events).toBeLessThanOrEqual(1 + (0.1 * tenants.length));
    await expectNoCrossing(sandbox, tenants);
  });

  it('reschedules only the events whose sub-request Graph throttled, at its Retry-After, and provisions everyone', async () => {
    // Graph throttles p7–p9 of the last tenant only: in two tenants, the other tenant's same people are not held back.
    const throttledDomain = world === 'single tenant' ? 'contoso' : 'fabrikam';
    const { report, sandbox, tenants } = await playedIn(world, inputs({ tenant: tenant(people), eventLines: burst(people) }), {
      latency: zeroLatencyModel,
      graphFaults: { rules: [{ status: 429, times: 3, path: new RegExp(`users/p(7|8|9)@${throttledDomain}`), retryAfterSeconds: 120 }] },
    });
    expect(report.deadLetters).toEqual([]);
    expect(report.users.filter((u) => u.teams.lineUri !== null)).toHaveLength(events);
    const rescheduled = sandbox.logger.lines.filter((l) => l.includes('message rescheduled') && l.includes('"stage":"correlate"'));
    expect(rescheduled).toHaveLength(3);
    for (const [i, t] of tenants.entries()) expect(t.graph.metrics().throttled).toBe(i === tenants.length - 1 ? 3 : 0);
    await expectNoCrossing(sandbox, tenants);
  });
});
