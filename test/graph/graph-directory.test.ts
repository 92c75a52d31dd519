import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createGraphDirectory, type GraphDirectory, type GraphDirectoryOptions } from '../../shared/adapters/graph-directory.js';
import { hasTeamsPhone } from '../../shared/domain/licensing.js';
import type { DialtoneError } from '../../shared/domain/errors.js';
import { ids, MCOEV, startSim, type SimFixture } from './fixtures.js';

let f: SimFixture;
let directory: GraphDirectory;
let counted: number;

function connect(overrides: Partial<GraphDirectoryOptions> = {}): GraphDirectory {
  return createGraphDirectory({ baseUrl: f.sim.baseUrl, accessToken: async () => 'sandbox-token', onRequest: () => (counted += 1), ...overrides });
}

async function failure(promise: Promise<unknown>): Promise<DialtoneError> {
  return promise.then(
    () => expect.unreachable('the call should fail'),
    (error: unknown) => error as DialtoneError,
  );
}

beforeEach(async () => {
  f = await startSim();
  counted = 0;
  directory = connect();
});

afterEach(async () => {
  await f.sim.close();
});

describe('GraphDirectory.findUsers by userPrincipalName', () => {
  it('returns the user with its assigned plans in one request', async () => {
    const users = await directory.findUsers('userPrincipalName', 'anna.devries@contoso.example');
    expect(users.map((u) => u.id)).toEqual([ids.anna]);
    expect(users[0]?.department).toBe('Sales');
    expect(hasTeamsPhone(users[0]?.assignedPlans ?? [])).toBe(true);
    expect(f.sim.metrics().requests).toBe(1);
    expect(f.sim.metrics().byRoute).toEqual({ 'GET /users/{id}': 1 });
  });

  it('returns no users when Graph answers 404', async () => {
    expect(await directory.findUsers('userPrincipalName', 'nobody@contoso.example')).toEqual([]);
    expect(f.sim.metrics().requests).toBe(1);
  });
});

describe('GraphDirectory.findUsers by employeeId', () => {
  it('returns the one match', async () => {
    const users = await directory.findUsers('employeeId', 'E1001');
    expect(users.map((u) => u.userPrincipalName)).toEqual(['anna.devries@contoso.example']);
    expect(f.sim.metrics().requests).toBe(1);
  });

  it('returns both users when two share the employeeId', async () => {
    const users = await directory.findUsers('employeeId', 'E2000');
    expect(users.map((u) => u.id)).toEqual([ids.carl, ids.carla]);
  });

  it('returns no users when nobody has the employeeId', async () => {
    expect(await directory.findUsers('employeeId', 'E9999')).toEqual([]);
    expect(f.sim.metrics().requests).toBe(1);
  });

  it('escapes a single quote in the value by doubling it', async () => {
    const users = await directory.findUsers('employeeId', "O'6");
    expect(users.map((u) => u.id)).toEqual([ids.sean]);
  });

  it('sends ConsistencyLevel: eventual, which Graph requires for this advanced query', async () => {
    const sent: (string | null)[] = [];
    const spy = connect({
      fetch: (input, init) => {
        sent.push(new Headers(init?.headers).get('ConsistencyLevel'));
        return fetch(input, init);
      },
    });
    await spy.findUsers('employeeId', 'E1001');
    expect(sent).toEqual(['eventual']);
  });

  it('follows @odata.nextLink, one request per page', async () => {
    await f.sim.close();
    f = await startSim({ listPageSize: 1 });
    directory = connect();
    const users = await directory.findUsers('employeeId', 'E2000');
    expect(users.map((u) => u.id)).toEqual([ids.carl, ids.carla]);
    expect(f.sim.metrics().requests).toBe(2);
    expect(counted).toBe(2);
  });
});

describe('GraphDirectory.findUsers by mail', () => {
  it('finds the user whose mail has an apostrophe', async () => {
    const users = await directory.findUsers('mail', "Sean.O'Brien@contoso.example");
    expect(users.map((u) => u.id)).toEqual([ids.sean]);
    expect(f.sim.metrics().requests).toBe(1);
  });
});

describe('GraphDirectory.getUser', () => {
  it('reads the user by object id in one request', async () => {
    const user = await directory.getUser(ids.anna);
    expect(user?.userPrincipalName).toBe('anna.devries@contoso.example');
    expect(f.sim.metrics().requests).toBe(1);
    expect(counted).toBe(1);
  });

  it('returns undefined for an unknown id', async () => {
    expect(await directory.getUser('00000000-0000-0000-0000-000000000000')).toBeUndefined();
  });

  it('does not see a user before directory sync and sees it once the clock passes appearsAfterMs', async () => {
    expect(await directory.getUser(ids.dora)).toBeUndefined();
    f.clock.advance(60_000);
    expect((await directory.getUser(ids.dora))?.userPrincipalName).toBe('dora@contoso.example');
  });

  it('has no MCOEV plan before licensedAfterMs and an enabled one after', async () => {
    const before = await directory.getUser(ids.bram);
    expect(before?.assignedPlans).toEqual([]);
    f.clock.advance(30_000);
    const after = await directory.getUser(ids.bram);
    expect(after?.assignedPlans.find((p) => p.servicePlanId === MCOEV)?.capabilityStatus).toBe('Enabled');
    expect(hasTeamsPhone(after?.assignedPlans ?? [])).toBe(true);
  });

  it('sees a scheduled directory change once the clock passes it', async () => {
    f.clock.advance(120_000);
    expect((await directory.getUser(ids.anna))?.department).toBe('Support');
  });
});

describe('GraphDirectory failures', () => {
  it('turns 429 into a transient Throttled error with Retry-After in ms, without retrying', async () => {
    f.sim.setFaults({ rules: [{ status: 429, times: 1, retryAfterSeconds: 7 }] });
    const error = await failure(directory.getUser(ids.anna));
    expect(error).toMatchObject({ name: 'DialtoneError', code: 'Throttled', transient: true, retryAfterMs: 7000 });
    expect(f.sim.metrics()).toMatchObject({ requests: 1, throttled: 1 });
  });

  it('asks for 30 s when a 429 has no Retry-After', async () => {
    f.sim.setFaults({ rules: [{ status: 429, times: 1, retryAfterSeconds: null }] });
    const error = await failure(directory.findUsers('employeeId', 'E1001'));
    expect(error).toMatchObject({ code: 'Throttled', transient: true, retryAfterMs: 30_000 });
  });

  it('turns 503 into a transient ServiceUnavailable error', async () => {
    f.sim.setFaults({ rules: [{ status: 503, times: 1, retryAfterSeconds: 5 }] });
    const error = await failure(directory.findUsers('userPrincipalName', 'anna.devries@contoso.example'));
    expect(error).toMatchObject({ code: 'ServiceUnavailable', transient: true, retryAfterMs: 5000 });
    expect(error.message).toBe('Graph find user by userPrincipalName failed: 503 serviceNotAvailable: Service is unavailable. Please try again.');
    expect(f.sim.metrics().requests).toBe(1);
  });

  it('turns an unreachable endpoint into a transient ServiceUnavailable error', async () => {
    const baseUrl = f.sim.baseUrl;
    await f.sim.close();
    const offline = createGraphDirectory({ baseUrl, accessToken: async () => 't' });
    const error = await failure(offline.getUser(ids.anna));
    expect(error).toMatchObject({ code: 'ServiceUnavailable', transient: true, retryAfterMs: 30_000 });
    f = await startSim();
  });

  it('turns another 4xx into a permanent Unexpected error with Graph code and message, never the token', async () => {
    const denied = connect({
      accessToken: async () => 'secret-token-123',
      fetch: async () =>
        new Response(JSON.stringify({ error: { code: 'Authorization_RequestDenied', message: 'Insufficient privileges to complete the operation.' } }), {
          status: 403,
          headers: { 'content-type': 'application/json' },
        }),
    });
    const error = await failure(denied.getUser(ids.anna));
    expect(error).toMatchObject({ code: 'Unexpected', transient: false });
    expect(error.message).toBe('Graph get user failed: 403 Authorization_RequestDenied: Insufficient privileges to complete the operation.');
    expect(JSON.stringify({ message: error.message, details: error.details })).not.toContain('secret-token-123');
  });

  it('does not mistake a 404 that is not Request_ResourceNotFound for a missing user', async () => {
    const misrouted = connect({
      fetch: async () =>
        new Response(JSON.stringify({ error: { code: 'BadRequest', message: 'Invalid version: v2.0' } }), {
          status: 404,
          headers: { 'content-type': 'application/json' },
        }),
    });
    const error = await failure(misrouted.getUser(ids.anna));
    expect(error).toMatchObject({ code: 'Unexpected', transient: false, message: 'Graph get user failed: 404 BadRequest: Invalid version: v2.0' });
  });

  it('refuses to follow a nextLink to another host, so the token stays with Graph', async () => {
    const calls: string[] = [];
    const redirected = connect({
      fetch: async (input) => {
        calls.push(String(input));
        return new Response(JSON.stringify({ value: [], '@odata.nextLink': 'https://elsewhere.example/v1.0/users?$skiptoken=x' }), {
          status: 200,
          headers: { 'content-type': 'application/json' },
        });
      },
    });
    const error = await failure(redirected.findUsers('mail', 'a@b'));
    expect(error).toMatchObject({ code: 'Unexpected', message: `Graph returned a paging link outside ${f.sim.baseUrl}` });
    expect(calls).toHaveLength(1);
  });

  it('refuses a baseUrl that is not a URL', () => {
    expect(() => createGraphDirectory({ baseUrl: 'graph.microsoft.com', accessToken: async () => 't' })).toThrow(
      "Graph baseUrl is not a URL: 'graph.microsoft.com'",
    );
  });

  it('rejects a malformed Graph user and names the field', async () => {
    const broken = connect({
      fetch: async () => new Response(JSON.stringify({ id: ids.anna, assignedPlans: [] }), { status: 200, headers: { 'content-type': 'application/json' } }),
    });
    const error = await failure(broken.getUser(ids.anna));
    expect(error).toMatchObject({ code: 'Unexpected', transient: false });
    expect(error.message).toMatch(/^Graph returned a malformed user: userPrincipalName: /);
  });

  it('names the element of a malformed users page', async () => {
    const broken = connect({
      fetch: async () =>
        new Response(JSON.stringify({ value: [{ id: ids.anna, userPrincipalName: 'a@b', assignedPlans: [{ servicePlanId: MCOEV }] }] }), {
          status: 200,
          headers: { 'content-type': 'application/json' },
        }),
    });
    const error = await failure(broken.findUsers('mail', 'a@b'));
    expect(error.message).toMatch(/^Graph returned a malformed users page: value\.0\.assignedPlans\.0\.capabilityStatus: /);
  });
});

describe('GraphDirectory tokens', () => {
  it('asks the credential for the Graph .default scope', async () => {
    const scopes: (string | string[])[] = [];
    const withCredential = connect({
      accessToken: undefined,
      credential: {
        getToken: async (scope) => {
          scopes.push(scope);
          return { token: 'from-credential', expiresOnTimestamp: Date.now() + 3_600_000 };
        },
      },
    });
    expect((await withCredential.getUser(ids.anna))?.id).toBe(ids.anna);
    expect(scopes).toEqual(['https://graph.microsoft.com/.default']);
  });

  it('reports a token failure as ConfigInvalid without calling Graph', async () => {
    const failing = connect({
      accessToken: async () => {
        throw new Error('ManagedIdentityCredential: no managed identity endpoint');
      },
    });
    const error = await failure(failing.getUser(ids.anna));
    expect(error).toMatchObject({ code: 'ConfigInvalid', transient: false });
    expect(error.message).toBe('Could not get a Microsoft Graph access token: ManagedIdentityCredential: no managed identity endpoint');
    expect(f.sim.metrics().requests).toBe(0);
  });
});

describe('GraphDirectory.listUsersDelta', () => {
  it('lists every synced user in the first round, across pages', async () => {
    await f.sim.close();
    f = await startSim({ deltaPageSize: 2 });
    directory = connect();
    const round = await directory.listUsersDelta();
    expect(round.users.map((u) => u.id)).toEqual([ids.anna, ids.bram, ids.carl, ids.carla, ids.sean]);
    expect(round.deltaLink).toMatch(new RegExp(`^${f.sim.baseUrl}/users/delta\\?\\$deltatoken=`));
    expect(f.sim.metrics().byRoute).toEqual({ 'GET /users/delta': 3 });
  });

  it('returns only users that appeared or changed since the delta link, not licence changes', async () => {
    const first = await directory.listUsersDelta();
    f.clock.advance(200_000);
    const second = await directory.listUsersDelta(first.deltaLink);
    expect(second.users.map((u) => u.id)).toEqual([ids.anna, ids.dora]);
    expect(second.users[0]?.department).toBe('Support');
    const third = await directory.listUsersDelta(second.deltaLink);
    expect(third.users).toEqual([]);
  });
});
