import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { acceptGraphNotifications, type WebhookDeps } from '../usecases/accept-graph-notifications.js';

/**
 * The largest body the webhook reads. Graph posts at most 1,000 notifications of well under 1 KB
 * each (no resource data for users); anything larger is not Graph, and is refused (413) before
 * it is read into memory or parsed.
 */
export const MAX_NOTIFICATION_BODY_BYTES = 4 * 1024 * 1024;

// Every answer says what it is and forbids content sniffing: the validation token is echoed,
// and a browser must never render an attacker's token as HTML.
const SECURITY_HEADERS = { 'x-content-type-options': 'nosniff' } as const;

type Body = { ok: true; text: string } | { ok: false };

/** Reads the body up to the limit; a larger one (declared or streamed) is refused unread. */
async function readBounded(request: HttpRequest, limit: number): Promise<Body> {
  const declared = Number(request.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limit) return { ok: false };
  if (!request.body) return { ok: true, text: '' };
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => undefined);
      return { ok: false };
    }
    chunks.push(value);
  }
  return { ok: true, text: Buffer.concat(chunks).toString('utf8') };
}

/** The HTTP adapter: read the query and the (bounded) raw body, call the use case, answer. */
export function createGraphWebhookHandler(deps: () => Promise<WebhookDeps>, options: { maxBodyBytes?: number } = {}) {
  const limit = options.maxBodyBytes ?? MAX_NOTIFICATION_BODY_BYTES;
  return async function graphWebhook(request: HttpRequest, context?: Pick<InvocationContext, 'traceContext'>): Promise<HttpResponseInit> {
    const validationToken = request.query.get('validationToken');
    let bodyText = '';
    if (validationToken === null) {
      const body = await readBounded(request, limit);
      if (!body.ok) {
        return { status: 413, body: `body larger than ${limit} bytes`, headers: { 'content-type': 'text/plain', ...SECURITY_HEADERS } };
      }
      bodyText = body.text;
    }
    // The caller's trace context, else the one the Functions host opened for this invocation.
    const traceparent = request.headers.get('traceparent') ?? context?.traceContext?.traceParent ?? undefined;
    const result = await acceptGraphNotifications({ validationToken, bodyText, traceparent }, deps);
    return {
      status: result.status,
      ...(result.body !== undefined ? { body: result.body } : {}),
      headers: { ...(result.contentType ? { 'content-type': result.contentType } : {}), ...SECURITY_HEADERS },
    };
  };
}
