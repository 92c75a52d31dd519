import { describe, expect, it } from 'vitest';
import { retryAfterMs, toGraphDialtoneError } from '../../shared/adapters/graph-errors.js';

const graphError = (statusCode: number, code: string | null, headers: Record<string, string> = {}) =>
  Object.assign(new Error('Graph said no'), { statusCode, code, requestId: 'req-1', headers: new Headers(headers) });

describe('retryAfterMs', () => {
  it('reads seconds', () => {
    expect(retryAfterMs(new Headers({ 'retry-after': '12' }), 30_000)).toBe(12_000);
  });

  it('reads an HTTP date against the response Date header', () => {
    const headers = new Headers({ 'retry-after': 'Mon, 02 Nov 2026 08:01:30 GMT', date: 'Mon, 02 Nov 2026 08:00:00 GMT' });
    expect(retryAfterMs(headers, 30_000)).toBe(90_000);
  });

  it('falls back when the header is absent or unreadable', () => {
    expect(retryAfterMs(new Headers(), 30_000)).toBe(30_000);
    expect(retryAfterMs(new Headers({ 'retry-after': 'soon' }), 30_000)).toBe(30_000);
  });
});

describe('toGraphDialtoneError', () => {
  it('treats 504 as a transient outage', () => {
    expect(toGraphDialtoneError(graphError(504, 'GatewayTimeout'), 'get user', 30_000)).toMatchObject({
      code: 'ServiceUnavailable',
      transient: true,
      retryAfterMs: 30_000,
      details: { operation: 'get user', status: 504, graphCode: 'GatewayTimeout', requestId: 'req-1' },
    });
  });

  it('treats 400 as permanent and keeps the Graph code in the message', () => {
    const error = toGraphDialtoneError(graphError(400, 'Request_BadRequest'), 'get user', 30_000);
    expect(error).toMatchObject({ code: 'Unexpected', transient: false });
    expect(error.message).toBe('Graph get user failed: 400 Request_BadRequest: Graph said no');
  });

  it('wraps something that is not a Graph error as Unexpected', () => {
    expect(toGraphDialtoneError(new TypeError('boom'), 'get user', 30_000)).toMatchObject({
      code: 'Unexpected',
      message: 'Graph get user failed: boom',
      transient: false,
    });
  });
});
