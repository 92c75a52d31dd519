/** The Graph simulator's $batch endpoint and the Function App's permissions, as strict as Graph. */
import { afterEach, describe, expect, it } from 'vitest';
import { SimClock } from '../../sandbox/clock.js';
import { startGraphSimulator, type GraphSimulator } from '../../sandbox/graph-sim/index.js';
import { appRoleId, GRAPH_APP_ID, SANDBOX_FUNCTION_PRINCIPAL_ID } from '../../sandbox/graph-sim/permissions.js';
import { parseSandboxTenantFile } from '../../sandbox/teams-sim/tenant-file.js';
import { ids, startSim, tenant } from './fixtures.js';

let sim: GraphSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const auth = { Authorization: 'Bearer test', 'Content-Type': 'application/json' };

async function post(s: GraphSimulator, path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${s.baseUrl}${path}`, { method: 'POST', headers: auth, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

type BatchResponse = { id: string; status: number; headers: Record<string, string>; body?: Record<string, unknown> };
const responses = (body: Record<string, unknown>) => (body.responses as BatchResponse[]).slice().sort((a, b) => a.id.localeCompare(b.id));
const get = (id: string, url: string) => ({ id, method: 'GET', url });

describe('Graph simulator: $batch', () => {
  it('answers every sub-request with its own status and body, in one HTTP request', async () => {
    const f = await startSim();
    sim = f.sim;
    const before = sim.metrics().requests;
    const r = await post(sim, '/$batch', {
      requests: [get('1', `/users/${ids.anna}?$select=id,department`), get('2', '/users/ghost@contoso.example'), get('3', 'users/carl@contoso.example')],
    });
    expect(r.status).toBe(200);
    const [one, two, three] = responses(r.body);
    expect(one).toMatchObject({ id: '1', status: 200, body: { id: ids.anna, department: 'Sales' } });
    expect(two).toMatchObject({ id: '2', status: 404, body: { error: { code: 'Request_ResourceNotFound' } } });
    expect(three).toMatchObject({ id: '3', status: 200, body: { id: ids.carl } });
    expect(sim.metrics()).toMatchObject({ requests: before + 1, batches: 1, batchedRequests: 3 });
  });

  it('refuses more than 20 requests in one batch with 400, running none of them', async () => {
    const f = await startSim();
    sim = f.sim;
    const r = await post(sim, '/$batch', { requests: Array.from({ length: 21 }, (_, i) => get(String(i), `/users/${ids.anna}`)) });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'BadRequest', message: 'The batch contains 21 requests; the limit is 20.' });
    expect(sim.metrics().batchedRequests).toBe(0);
  });

  it('refuses duplicate ids (without case), absolute URLs, a body without Content-Type and a nested batch', async () => {
    const f = await startSim();
    sim = f.sim;
    const cases: [unknown[], RegExp][] = [
      [[get('a', '/users/x'), get('A', '/users/y')], /ids must be unique/],
      [[get('a', 'https://graph.microsoft.com/v1.0/users/x')], /must be relative to the version/],
      [[get('a', '/v1.0/users/x')], /must be relative to the version/],
      [[{ id: 'a', method: 'POST', url: '/subscriptions', body: {} }], /must have a Content-Type header/],
      [[{ id: 'a', method: 'POST', url: '/$batch', headers: { 'Content-Type': 'application/json' }, body: { requests: [] } }], /cannot contain another batch/],
      [[{ ...get('a', '/users/x'), dependsOn: ['zz'] }], /depends on 'zz', which is not in the batch/],
      [[{ ...get('a', '/users/x'), dependsOn: ['b'] }, { ...get('b', '/users/y'), dependsOn: ['a'] }], /forms a cycle/],
    ];
    for (const [requests, message] of cases) {
      const r = await post(sim, '/$batch', { requests });
      expect(r.status).toBe(400);
      expect((r.body.error as { message: string }).message).toMatch(message);
    }
  });

  it('throttles sub-requests one by one, each 429 with its own Retry-After', async () => {
    const f = await startSim({ faults: { rules: [{ status: 429, times: 1, path: /users\/carl/, retryAfterSeconds: 7 }] } });
    sim = f.sim;
    const r = await post(sim, '/$batch', { requests: [get('1', `/users/${ids.anna}`), get('2', '/users/carl@contoso.example')] });
    expect(r.status).toBe(200);
    const [one, two] = responses(r.body);
    expect(one?.status).toBe(200);
    expect(two).toMatchObject({ status: 429, headers: { 'retry-after': '7' }, body: { error: { code: 'TooManyRequests' } } });
  });

  it('runs a request after the ones it depends on, and answers 424 when one of them failed', async () => {
    const f = await startSim();
    sim = f.sim;
    const r = await post(sim, '/$batch', {
      requests: [{ ...get('2', `/users/${ids.anna}`), dependsOn: ['1'] }, get('1', '/users/ghost@contoso.example'), { ...get('3', `/users/${ids.carl}`), dependsOn: ['4'] }, get('4', `/users/${ids.anna}`)],
    });
    const byId = Object.fromEntries(responses(r.body).map((x) => [x.id, x]));
    expect(byId['1']?.status).toBe(404);
    expect(byId['2']).toMatchObject({ status: 424, body: { error: { code: 'FailedDependency' } } });
    expect(byId['3']?.status).toBe(200);
    // The order Graph answered in: a dependency before its dependant.
    const order = (r.body.responses as BatchResponse[]).map((x) => x.id);
    expect(order.indexOf('1')).toBeLessThan(order.indexOf('2'));
    expect(order.indexOf('4')).toBeLessThan(order.indexOf('3'));
  });
});

describe('Graph simulator: application permissions', () => {
  async function withPermissions(permissions: string[]): Promise<GraphSimulator> {
    const clock = new SimClock('2026-11-02T08:00:00Z');
    const file = parseSandboxTenantFile({ ...tenant(), graphApp: { permissions } });
    return startGraphSimulator({ tenant: file, clock, startMs: clock.startedAt });
  }

  it("lists Graph's application roles and the app's appRoleAssignments, by role id", async () => {
    sim = await withPermissions(['User.Read.All']);
    const sp = (await (await fetch(`${sim.baseUrl}/servicePrincipals(appId='${GRAPH_APP_ID}')?$select=id,appRoles`, { headers: auth })).json()) as {
      id: string;
      appRoles: { id: string; value: string; allowedMemberTypes: string[] }[];
    };
    expect(sp.appRoles.find((r) => r.value === 'TeamsUserConfiguration.Read.All')).toMatchObject({ id: appRoleId('TeamsUserConfiguration.Read.All'), allowedMemberTypes: ['Application'] });
    const assignments = (await (await fetch(`${sim.baseUrl}/servicePrincipals/${SANDBOX_FUNCTION_PRINCIPAL_ID}/appRoleAssignments`, { headers: auth })).json()) as {
      value: { appRoleId: string; resourceId: string; principalId: string }[];
    };
    expect(assignments.value).toEqual([
      expect.objectContaining({ appRoleId: appRoleId('User.Read.All'), resourceId: sp.id, principalId: SANDBOX_FUNCTION_PRINCIPAL_ID }),
    ]);
    const unknown = await fetch(`${sim.baseUrl}/servicePrincipals/00000000-0000-4000-8000-000000000000/appRoleAssignments`, { headers: auth });
    expect(unknown.status).toBe(404);
  });

  it('refuses a request the app holds no permission for with 403, as Graph does', async () => {
    sim = await withPermissions(['TeamsUserConfiguration.Read.All']);
    const users = await fetch(`${sim.baseUrl}/users/${ids.anna}`, { headers: auth });
    expect(users.status).toBe(403);
    expect(((await users.json()) as { error: { code: string } }).error.code).toBe('Authorization_RequestDenied');
    // Inside a batch too: the sub-request gets the 403.
    const r = await post(sim, '/$batch', { requests: [get('1', `/users/${ids.anna}`)] });
    expect(responses(r.body)[0]).toMatchObject({ status: 403 });
  });
});
