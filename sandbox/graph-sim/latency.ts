import type { FetchLike } from '../../shared/adapters/graph-middleware.js';

/**
 * The Graph simulator's latency on the sandbox clock: the client receives each answer
 * `ms` of sandbox time after it asked. Given to the real Graph client as its fetch, so the
 * adapters under test stay exactly as in production.
 */
export function simulatedGraphFetch(sleep: (ms: number, key: string) => Promise<void>, ms: number, inner: FetchLike = fetch): FetchLike {
  if (ms <= 0) return inner;
  return async (input, init) => {
    const response = await inner(input, init);
    const body = response.status === 204 || response.status === 304 ? null : await response.arrayBuffer();
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    await sleep(ms, `graph|${decodeURIComponent(url.pathname + url.search).toLowerCase()}`);
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}
