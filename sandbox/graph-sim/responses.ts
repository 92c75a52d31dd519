import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';

/** A Graph error: status, the `error.code` Graph uses and its message. */
export class GraphSimError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8',
    'content-length': Buffer.byteLength(text).toString(),
    'request-id': randomUUID(),
    ...headers,
  });
  res.end(text);
}

/** The error body Graph sends: `{ error: { code, message, innerError: { date, request-id, client-request-id } } }`. */
export function sendGraphError(res: ServerResponse, error: GraphSimError, now: Date): void {
  const { body, requestId } = graphErrorBody(error, now);
  sendJson(res, error.status, body, { ...error.headers, 'request-id': requestId });
}

export function graphErrorBody(error: GraphSimError, now: Date): { body: unknown; requestId: string } {
  const requestId = randomUUID();
  return {
    requestId,
    body: {
      error: {
        code: error.code,
        message: error.message,
        innerError: {
          date: now.toISOString().replace(/\.\d{3}Z$/, ''),
          'request-id': requestId,
          'client-request-id': requestId,
        },
      },
    },
  };
}
