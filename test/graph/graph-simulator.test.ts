import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SimClock } from '../../sandbox/clock.js';
import { startGraphSimulator, type DirectoryChangeEvent } from '../../sandbox/graph-sim/index.js';
import { ids, MCOEV, rawGet, singleUserTenant, startSim, TEAMS1, tenant, type SimFixture } from './fixtures.js';

let f: SimFixture;

beforeEach(async () => {
  f = await startSim();
});

afterEach(async () => {
  await f.sim.close();
});

async function json(response: Response): Promise<Record<string, unknown>> {
  return (await response.json()) as Record<string, unknown>;
}

describe('Graph simulator: requests', () => {
  it('listens on 127.0.0.1 under /v1.0', () => {
    expect(f.sim.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1\.0$/);
  });

  it('answers 401 InvalidAuthenticationToken without a bearer token', async () => {
    const response = await rawGet(f.sim, `/users/${ids.anna}`, {});
    expect(response.status).toBe(401);
    const body = await json(response);
    expect(body.error).toMatchObject({ code: 'InvalidAuthenticationToken', message: 'Access token is empty.' });
  });

  it('answers 404 with the Graph error body for an unknown user', async () => {
    const response = await rawGet(f.sim, '/users/ghost@contoso.example');
    expect(response.status).toBe(404);
    const body = (await json(response)) as { error: { code: string; message: string; innerError: Record<string, string> } };
    expect(body.error.code).toBe('Request_ResourceNotFound');
    expect(body.error.message).toBe("Resource 'ghost@contoso.example' does not exist or one of its queried reference-property objects are not present.");
    expect(Object.keys(body.error.innerError).sort()).toEqual(['client-request-id', 'date', 'request-id']);
  });

  it('returns only the $select properties plus id', async () => {
    const body = await json(await rawGet(f.sim, `/users/anna.devries@contoso.example?$select=department,assignedPlans`));
    const { '@odata.context': _context, ...user } = body;
    expect(user).toEqual({
      id: ids.anna,
      department: 'Sales',
      assignedPlans: [
        { assignedDateTime: '2026-11-02T08:00:00Z', capabilityStatus: 'Enabled', service: 'TeamspaceAPI', servicePlanId: TEAMS1 },
        { assignedDateTime: '2026-11-02T08:00:00Z', capabilityStatus: 'Enabled', service: 'MicrosoftCommunicationsOnline', servicePlanId: MCOEV },
      ],
    });
  });

  it('rejects an unknown $select property', async () => {
    const response = await rawGet(f.sim, `/users/${ids.anna}?$select=shoeSize`);
    expect(response.status).toBe(400);
    expect((await json(response)).error).toMatchObject({ message: "Could not find a property named 'shoeSize' on type 'microsoft.graph.user'." });
  });

  it('refuses an employeeId filter without ConsistencyLevel: eventual', async () => {
    const response = await rawGet(f.sim, "/users?$filter=employeeId eq 'E1001'");
    expect(response.status).toBe(400);
    expect((await json(response)).error).toMatchObject({
      code: 'Request_UnsupportedQuery',
      message: "Unsupported or invalid query filter clause specified for property 'employeeId' of resource 'User'.",
    });
  });

  it('answers an advanced query with @odata.count and pages through $skiptoken', async () => {
    const headers = { Authorization: 'Bearer test', ConsistencyLevel: 'eventual' };
    const first = await json(await rawGet(f.sim, "/users?$filter=employeeId eq 'E2000'&$count=true&$top=1&$select=id", headers));
    expect(first['@odata.count']).toBe(2);
    expect(first.value).toEqual([{ id: ids.carl }]);
    const next = String(first['@odata.nextLink']);
    expect(next).toMatch(/\$skiptoken=/);
    const second = await json(await fetch(next, { headers }));
    expect(second.value).toEqual([{ id: ids.carla }]);
    expect(second['@odata.nextLink']).toBeUndefined();
  });

  it('rejects $top above 999', async () => {
    const response = await rawGet(f.sim, '/users?$top=1000');
    expect(response.status).toBe(400);
    expect((await json(response)).error).toMatchObject({ message: "Invalid page size specified: '1000'. Must be between 1 and 999 inclusive." });
  });

  it('counts requests by route', async () => {
    await rawGet(f.sim, `/users/${ids.anna}`);
    await rawGet(f.sim, "/users?$filter=mail eq 'x@y'");
    await rawGet(f.sim, '/users/delta');
    await rawGet(f.sim, '/groups');
    expect(f.sim.metrics()).toMatchObject({
      requests: 4,
      byRoute: { 'GET /users/{id}': 1, 'GET /users': 1, 'GET /users/delta': 1, other: 1 },
    });
  });
});

describe('Graph simulator: licences', () => {
  it('applies a per-user planStatus override', async () => {
    const clock = new SimClock();
    const sim = await startGraphSimulator({
      tenant: singleUserTenant({ servicePlans: ['MCOEV'], planStatus: { MCOEV: 'Suspended' } }),
      clock,
    });
    try {
      expect(sim.user('u1')?.assignedPlans).toMatchObject([{ servicePlanId: MCOEV, capabilityStatus: 'Suspended' }]);
    } finally {
      await sim.close();
    }
  });

  it('keeps a removed plan as Deleted, like Graph', async () => {
    const clock = new SimClock();
    const sim = await startGraphSimulator({
      tenant: singleUserTenant({ servicePlans: ['TEAMS1', 'MCOEV'] }, [{ atMs: 1000, userId: 'u1', set: { servicePlans: ['TEAMS1'] } }]),
      clock,
    });
    try {
      clock.advance(1000);
      expect(sim.user('u1')?.assignedPlans.map((p) => [p.servicePlanId, p.capabilityStatus])).toEqual([
        [TEAMS1, 'Enabled'],
        [MCOEV, 'Deleted'],
      ]);
    } finally {
      await sim.close();
    }
  });

  it('accepts a service plan id in place of its name', async () => {
    const sim = await startGraphSimulator({ tenant: singleUserTenant({ servicePlans: [MCOEV.toUpperCase()] }), clock: new SimClock() });
    try {
      expect(sim.user('u1')?.assignedPlans).toMatchObject([{ servicePlanId: MCOEV, service: 'MicrosoftCommunicationsOnline' }]);
    } finally {
      await sim.close();
    }
  });

  it('refuses an unknown planStatus and names the field', async () => {
    await expect(
      startGraphSimulator({ tenant: singleUserTenant({ planStatus: { MCOEV: 'Paused' } }), clock: new SimClock() }),
    ).rejects.toThrow(/^tenant file: users\.0\.planStatus\.MCOEV: /);
  });

  it('gives a plan added by a directory change its change time', () => {
    f.clock.advance(180_000);
    expect(f.sim.user(ids.carl)?.assignedPlans.find((p) => p.servicePlanId === MCOEV)).toEqual({
      assignedDateTime: '2026-11-02T08:03:00Z',
      capabilityStatus: 'Enabled',
      service: 'MicrosoftCommunicationsOnline',
      servicePlanId: MCOEV,
    });
  });
});

describe('Graph simulator: directory changes', () => {
  it('reports a change through onChange when advanceTo passes its time', () => {
    const seen: DirectoryChangeEvent[] = [];
    f.sim.onChange((c) => seen.push(c));
    f.sim.advanceTo(new Date(f.clock.startedAt + 119_999));
    expect(seen).toEqual([]);
    f.sim.advanceTo(new Date(f.clock.startedAt + 200_000));
    expect(seen).toEqual([
      { userId: ids.anna, changeType: 'updated', notify: true, at: new Date('2026-11-02T08:02:00Z'), fields: ['department'] },
      { userId: ids.carl, changeType: 'updated', notify: false, at: new Date('2026-11-02T08:03:00Z'), fields: ['servicePlans'] },
    ]);
  });

  it('applies due changes lazily when a request arrives', async () => {
    const seen: string[] = [];
    f.sim.onChange((c) => seen.push(c.userId));
    f.clock.advance(120_000);
    const body = await json(await rawGet(f.sim, `/users/${ids.anna}?$select=department`));
    expect(body.department).toBe('Support');
    expect(seen).toEqual([ids.anna]);
  });

  it('refuses a change for a user the tenant file does not have, naming the entry', async () => {
    const bad = tenant();
    bad.directoryChanges = [{ atMs: 1, userId: 'nobody', set: { department: 'X' } }];
    await expect(startGraphSimulator({ tenant: bad, clock: new SimClock() })).rejects.toThrow("directoryChanges.0.userId: unknown user 'nobody'");
  });
});

describe('Graph simulator: delta', () => {
  it('pages with Prefer: odata.maxpagesize and ends with a delta link', async () => {
    const headers = { Authorization: 'Bearer test', Prefer: 'odata.maxpagesize=3' };
    const first = await json(await rawGet(f.sim, '/users/delta?$select=id', headers));
    expect(first.value).toEqual([{ id: ids.anna }, { id: ids.bram }, { id: ids.carl }]);
    const second = await json(await fetch(String(first['@odata.nextLink']), { headers }));
    expect(second.value).toEqual([{ id: ids.carla }, { id: ids.sean }]);
    expect(second['@odata.deltaLink']).toMatch(/\/users\/delta\?\$deltatoken=/);
  });
});

describe('Graph simulator: faults', () => {
  it('throttles the next N requests with Retry-After, then serves again', async () => {
    f.sim.setFaults({ rules: [{ status: 429, times: 2, retryAfterSeconds: 3 }] });
    const a = await rawGet(f.sim, `/users/${ids.anna}`);
    const b = await rawGet(f.sim, `/users/${ids.anna}`);
    const c = await rawGet(f.sim, `/users/${ids.anna}`);
    expect([a.status, b.status, c.status]).toEqual([429, 429, 200]);
    expect(a.headers.get('retry-after')).toBe('3');
    expect(f.sim.metrics()).toMatchObject({ requests: 3, throttled: 2 });
  });

  it('fails only the requests whose path matches the rule', async () => {
    f.sim.setFaults({ rules: [{ status: 503, path: /\/users\/delta/ }] });
    expect((await rawGet(f.sim, '/users/delta')).status).toBe(503);
    expect((await rawGet(f.sim, `/users/${ids.anna}`)).status).toBe(200);
    expect(f.sim.metrics()).toMatchObject({ unavailable: 1, throttled: 0 });
  });

  it('draws probabilistic faults from the seed, the same way every run', async () => {
    const statuses = async (seed: number): Promise<number[]> => {
      const run = await startSim({ seed, faults: { rules: [{ status: 429, probability: 0.5 }] } });
      try {
        const out: number[] = [];
        for (let i = 0; i < 12; i += 1) out.push((await rawGet(run.sim, `/users/${ids.anna}`)).status);
        return out;
      } finally {
        await run.sim.close();
      }
    };
    const first = await statuses(42);
    expect(await statuses(42)).toEqual(first);
    expect(first).toContain(429);
    expect(first).toContain(200);
  });

  it('delays every response by the configured real-time latency', async () => {
    f.sim.setFaults({ latencyMs: 60 });
    const started = performance.now();
    await rawGet(f.sim, `/users/${ids.anna}`);
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
  });
});
