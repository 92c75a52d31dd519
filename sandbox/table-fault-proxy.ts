import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { TableFaultPlan, type TableFaultCounts, type TableFaults } from '../shared/adapters/memory-table-client.js';

/**
 * A loopback HTTP proxy in front of Azurite's Table service that injects the same seeded faults
 * as the in-memory twin (`TableFaults`: 503 ServerBusy storms, 412 storms on conditional writes,
 * timeouts whose write was applied anyway), answered as Table Storage answers them. Everything
 * else passes through untouched, so the real Azure Table adapter and the SDK's own retry policy
 * meet the faults exactly as they would meet them from the service (the twin throws at the port;
 * here the SDK sees the HTTP answer first and retries 503 and 500 itself).
 *
 * Conditional writes are single-entity PUT / MERGE / PATCH / DELETE with an If-Match other than
 * `*`, and batches (`POST /$batch`) with such an If-Match inside their changeset. A 412 for a batch
 * is Azurite's own: the proxy makes one If-Match inside the changeset stale and forwards it, so the
 * answer is the service's multipart response with the failed operation's 412 inside it, and none of
 * the batch is applied — as when another writer changed that entity first.
 */
export interface TableFaultProxy {
  /** The connection string to hand to the adapters: Azurite's account, the proxy's port. */
  connectionString: string;
  setFaults(faults: TableFaults | undefined): void;
  faultCounts(): TableFaultCounts;
  stop(): Promise<void>;
}

const JSON_ERROR = 'application/json;odata=minimalmetadata;streaming=true;charset=utf-8';

/** Table Storage's JSON error body and headers for `code`. */
function errorAnswer(res: http.ServerResponse, status: number, code: string, message: string): void {
  const body = JSON.stringify({ 'odata.error': { code, message: { lang: 'en-US', value: `${message}\nRequestId:00000000-0000-0000-0000-000000000000\nTime:${new Date().toISOString()}` } } });
  res.writeHead(status, { 'content-type': JSON_ERROR, 'x-ms-error-code': code, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function isConditionalWrite(req: http.IncomingMessage): boolean {
  const ifMatch = req.headers['if-match'];
  return ['PUT', 'MERGE', 'PATCH', 'DELETE'].includes(req.method ?? '') && typeof ifMatch === 'string' && ifMatch.trim() !== '*';
}

function isBatch(req: http.IncomingMessage): boolean {
  return req.method === 'POST' && (req.url ?? '').split('?')[0]!.endsWith('$batch');
}

/** An If-Match header line inside a batch's changeset, with a value other than `*`. */
const BATCH_IF_MATCH = /^(If-Match:[ \t]*)(?!\*[ \t]*\r?$)(.+?)(\r?)$/im;

/** An etag no entity has: the time Table Storage's etags carry, long past. */
const STALE_ETAG = `W/"datetime'1970-01-01T00%3A00%3A00.0000000Z'"`;

/** The batch body with its first conditional If-Match made stale, or undefined when it has none. */
export function withStaleIfMatch(body: Buffer): Buffer | undefined {
  const text = body.toString('utf8');
  if (!BATCH_IF_MATCH.test(text)) return undefined;
  return Buffer.from(text.replace(BATCH_IF_MATCH, (_all, name: string, _value: string, cr: string) => `${name}${STALE_ETAG}${cr}`), 'utf8');
}

function isWrite(req: http.IncomingMessage): boolean {
  return req.method !== 'GET' && req.method !== 'HEAD';
}

/**
 * Starts the proxy on a free loopback port in front of `target` (Azurite's table endpoint origin,
 * e.g. http://127.0.0.1:10002) for the account in `connectionString`.
 */
export async function startTableFaultProxy(target: { host: string; port: number }, accountConnectionString: (port: number) => string): Promise<TableFaultProxy> {
  const plan = new TableFaultPlan(undefined);
  const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

  const forward = (req: http.IncomingMessage, body: Buffer): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> =>
    new Promise((resolve, reject) => {
      // The body is read whole (and a batch's may have been rewritten): sent with its own length.
      const { 'transfer-encoding': _chunked, ...headers } = req.headers;
      const upstream = http.request(
        { host: target.host, port: target.port, method: req.method, path: req.url, headers: { ...headers, host: `${target.host}:${target.port}`, 'content-length': String(body.length) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }));
          res.on('error', reject);
        },
      );
      upstream.on('error', reject);
      upstream.end(body);
    });

  const relay = (res: http.ServerResponse, answer: { status: number; headers: http.IncomingHttpHeaders; body: Buffer }): void => {
    const headers = { ...answer.headers };
    delete headers['transfer-encoding'];
    headers['content-length'] = String(answer.body.length);
    res.writeHead(answer.status, headers);
    res.end(answer.body);
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const body = Buffer.concat(chunks);
        try {
          plan.beforeRequest();
        } catch {
          errorAnswer(res, 503, 'ServerBusy', 'The server is busy.');
          return;
        }
        if (isConditionalWrite(req) && plan.conditionalWriteFails()) {
          errorAnswer(res, 412, 'UpdateConditionNotSatisfied', 'The update condition specified in the request was not satisfied.');
          return;
        }
        const stale = isBatch(req) ? withStaleIfMatch(body) : undefined;
        if (stale && plan.conditionalWriteFails()) {
          relay(res, await forward(req, stale));
          return;
        }
        const timeout = plan.timeout();
        if (timeout && !(timeout.applied && isWrite(req))) {
          await sleep(timeout.delayMs);
          errorAnswer(res, 500, 'OperationTimedOut', 'Operation could not be completed within the specified time.');
          return;
        }
        const answer = await forward(req, body);
        if (timeout) {
          // Applied, but the answer is lost: the client sees a timeout.
          await sleep(timeout.delayMs);
          errorAnswer(res, 500, 'OperationTimedOut', 'Operation could not be completed within the specified time.');
          return;
        }
        relay(res, answer);
      })().catch((error: unknown) => {
        if (!res.headersSent) errorAnswer(res, 502, 'ProxyError', error instanceof Error ? error.message : String(error));
        else res.destroy();
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    connectionString: accountConnectionString(port),
    setFaults: (faults) => plan.set(faults),
    faultCounts: () => ({ ...plan.counts }),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
