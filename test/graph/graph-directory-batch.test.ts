/** correlate's lookups in Graph $batch requests, through the real adapter against the simulator. */
import { afterEach, describe, expect, it } from 'vitest';
import { createGraphDirectory } from '../../shared/adapters/graph-directory.js';
import { chunks } from '../../shared/domain/graph-batch.js';
import { lookupKey } from '../../shared/ports/directory.js';
import { ids, startSim, type SimFixture } from './fixtures.js';

let f: SimFixture | undefined;
afterEach(async () => {
  await f?.sim.close();
  f = undefined;
});

describe('Graph $batch lookups', () => {
  it('splits into batches of at most 20, Graph\'s limit', () => {
    expect(chunks(Array.from({ length: 41 }, (_, i) => i)).map((c) => c.length)).toEqual([20, 20, 1]);
    expect(() => chunks([1], 21)).toThrow(RangeError);
  });

  it('answers 25 lookups in two HTTP requests: found, not found and filtered, each as findUsers would', async () => {
    f = await startSim();
    let requests = 0;
    const directory = createGraphDirectory({ baseUrl: f.sim.baseUrl, accessToken: async () => 't', onRequest: () => (requests += 1) });
    const lookups = [
      { strategy: 'userPrincipalName' as const, value: 'anna.devries@contoso.example' },
      { strategy: 'userPrincipalName' as const, value: 'ghost@contoso.example' },
      { strategy: 'employeeId' as const, value: 'E2000' },
      { strategy: 'mail' as const, value: "sean.o'brien@contoso.example" },
      ...Array.from({ length: 21 }, (_, i) => ({ strategy: 'userPrincipalName' as const, value: `nobody${i}@contoso.example` })),
    ];
    const answers = await directory.findUsersBatch(lookups);
    expect(requests).toBe(2);
    expect(f.sim.metrics()).toMatchObject({ batches: 2, batchedRequests: 25 });
    const users = (strategy: 'userPrincipalName' | 'employeeId' | 'mail', value: string) => {
      const a = answers.get(lookupKey(strategy, value));
      return a?.kind === 'users' ? a.users.map((u) => u.id).sort() : a;
    };
    expect(users('userPrincipalName', 'anna.devries@contoso.example')).toEqual([ids.anna]);
    expect(users('userPrincipalName', 'ghost@contoso.example')).toEqual([]);
    expect(users('employeeId', 'E2000')).toEqual([ids.carl, ids.carla].sort());
    expect(users('mail', "sean.o'brien@contoso.example")).toEqual([ids.sean]);
    // The same answers one request each would give.
    expect((await directory.findUsers('employeeId', 'E2000')).map((u) => u.id).sort()).toEqual([ids.carl, ids.carla].sort());
  });

  it('turns a throttled sub-request into a transient error with its own Retry-After, leaving the others answered', async () => {
    f = await startSim({ faults: { rules: [{ status: 429, times: 1, path: /users\/bram/, retryAfterSeconds: 42 }] } });
    const directory = createGraphDirectory({ baseUrl: f.sim.baseUrl, accessToken: async () => 't' });
    const answers = await directory.findUsersBatch([
      { strategy: 'userPrincipalName', value: 'anna.devries@contoso.example' },
      { strategy: 'userPrincipalName', value: 'bram.jansen@contoso.example' },
    ]);
    expect(answers.get(lookupKey('userPrincipalName', 'anna.devries@contoso.example'))).toMatchObject({ kind: 'users' });
    const throttled = answers.get(lookupKey('userPrincipalName', 'bram.jansen@contoso.example'));
    expect(throttled).toMatchObject({ kind: 'error', error: { code: 'Throttled', transient: true, retryAfterMs: 42_000 } });
  });
});
