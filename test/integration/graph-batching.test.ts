/**
 * A burst of HR events: correlate asks Graph for the users in $batch requests of at most 20
 * (issue 11 item 3), so the pipeline stays at or under 1.1 Graph requests per event even with
 * plan's readiness read. Runs on both backends (on-graph-backend.test.ts imports it).
 */
import { describe, expect, it } from 'vitest';
import { zeroLatencyModel } from '../../sandbox/latency-model.js';
import type { Sandbox } from '../../sandbox/host/sandbox.js';
import { currentTeamsBackend, hrEvent, inputs, played, tenantWith, user } from './sandbox-fixtures.js';

const people = 40;
const id = (i: number) => `00000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`;
const tenant = () => tenantWith(Array.from({ length: people }, (_, i) => user(id(i), `p${i + 1}@contoso.example`, `E${i + 1}`)));
const burst = () =>
  Array.from({ length: people }, (_, i) =>
    hrEvent(`e${i + 1}`, 'joiner', '2026-11-02T08:00:00Z', { employeeId: `E${i + 1}`, userPrincipalName: `p${i + 1}@contoso.example`, site: i % 2 ? 'RTM' : 'AMS', departmentId: 'DEPT001' }),
  );

/** Directory requests (everything but /admin/teams), and the /admin/teams requests. */
function split(sandbox: Sandbox): { directory: number; teams: number } {
  const m = sandbox.graph.metrics();
  const teams = Object.entries(m.byRoute)
    .filter(([route]) => route.includes('/admin/teams'))
    .reduce((n, [, c]) => n + c, 0);
  return { directory: m.requests - teams, teams };
}

describe(`a burst of HR events in Graph $batch requests (${currentTeamsBackend()} backend)`, () => {
  it('looks the users up in batches of at most 20, keeping the pipeline at or under 1.1 Graph requests per event', async () => {
    const { report, sandbox } = await played(inputs({ tenant: tenant(), eventLines: burst() }), { latency: zeroLatencyModel });
    expect(report.deadLetters).toEqual([]);
    expect(report.users.filter((u) => u.teams.lineUri !== null)).toHaveLength(people);
    const m = sandbox.graph.metrics();
    expect(m.batches).toBeGreaterThan(0);
    expect(m.batchedRequests / m.batches).toBeLessThanOrEqual(20);
    expect(m.byRoute['GET /users/{id}']).toBe(people);
    const { directory, teams } = split(sandbox);
    // correlate: 40 lookups in 3 invocations of up to 16 messages, one $batch each.
    expect(directory / people).toBeLessThanOrEqual(0.1);
    if (currentTeamsBackend() === 'powershell') {
      // The rest is plan's readiness read, one per person: 1.1 Graph requests per event at most.
      expect(sandbox.graph.metrics().requests / people).toBeLessThanOrEqual(1.1);
      expect(teams).toBe(people);
    }
  });

  it('reschedules only the events whose sub-request Graph throttled, at its Retry-After, and provisions everyone', async () => {
    const { report, sandbox } = await played(inputs({ tenant: tenant(), eventLines: burst() }), {
      latency: zeroLatencyModel,
      graphFaults: { rules: [{ status: 429, times: 3, path: /users\/p(7|8|9)@/, retryAfterSeconds: 120 }] },
    });
    expect(report.deadLetters).toEqual([]);
    expect(report.users.filter((u) => u.teams.lineUri !== null)).toHaveLength(people);
    const rescheduled = sandbox.logger.lines.filter((l) => l.includes('message rescheduled') && l.includes('"stage":"correlate"'));
    expect(rescheduled).toHaveLength(3);
    expect(sandbox.graph.metrics().throttled).toBe(3);
  });
});
