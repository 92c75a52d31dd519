import { z } from 'zod';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DirectoryUser } from '../../shared/contracts/messages.js';
import type { Clock } from '../../shared/ports/clock.js';
import { SimDirectory } from './directory.js';
import { FaultInjector, type GraphFaults } from './faults.js';
import { GraphSimError, graphErrorBody, sendJson } from './responses.js';
import { parseBatch, lowerKeys, type BatchRequest } from './batch.js';
import { SimPermissions } from './permissions.js';
import { SimEntra, type EntraSimState } from './applications.js';
import { findRoute } from './routes.js';
import { NotificationDelivery, emptyDeliveryMetrics, type DeliveryMetrics, type DeliveryTimers, type WebhookTransport } from './notifications.js';
import { SimSubscriptions } from './subscriptions.js';
import { SimTeamsAdmin, type TeamsAdminSimOptions } from './teams-admin.js';
import type { SimTenant } from '../teams-sim/tenant.js';
import type { SandboxTenantFile } from '../teams-sim/tenant-file.js';
import { readGraphTenant, type DirectoryChangeEvent } from './tenant.js';

export type { GraphFaultRule, GraphFaults } from './faults.js';
export type { DirectoryChangeEvent } from './tenant.js';
export type { EntraSimState } from './applications.js';
export type { DeliveryMetrics, DeliveryTimers, WebhookTransport } from './notifications.js';

export interface GraphSimulatorOptions {
  /** Validated where it was loaded; the simulator checks its own part again (planStatus, set). */
  tenant: SandboxTenantFile;
  clock: Clock;
  /** Sandbox time zero for appearsAfterMs / licensedAfterMs / atMs; default the clock's startedAt, else now. */
  startMs?: number;
  faults?: GraphFaults;
  /** Seed for probabilistic faults. */
  seed?: number;
  /** Users per /users page when the request has no $top (Graph: 100). */
  listPageSize?: number;
  /** Users per /users/delta page unless the client sends Prefer: odata.maxpagesize (default 100). */
  deltaPageSize?: number;
  /**
   * Deliver change notifications to subscriptions' notification URLs as Graph does (validation
   * handshake, clientState, ≤ 1,000 per POST, retries). Without it subscriptions are kept but
   * nothing is delivered.
   */
  notifications?: { transport: WebhookTransport; timers: DeliveryTimers; tenantId: string; lagMs?: number };
  /**
   * Serve Graph's Teams administration API (`/admin/teams/...`) over this Teams tenant, the one
   * the pwsh stand-ins use, so the Graph voice backend and the PowerShell worker see one tenant.
   */
  teams?: { tenant: SimTenant } & TeamsAdminSimOptions;
  /**
   * A sandbox with several tenants: this simulator is this tenant's Graph, and a token must name
   * it (`sandbox-token;tid=<tenant id>`, sandboxGraphToken): a token of another tenant, or one that
   * names none, is refused 401, as Graph never serves one tenant's directory to another's token.
   */
  tokenTenant?: string;
  /** Applications, service principals and role assignments saved by an earlier command (GraphSimulator.exportEntra). */
  entra?: EntraSimState;
  /** Subscriptions saved by an earlier sandbox command (GraphSimulator.exportSubscriptions). */
  subscriptions?: GraphSubscriptionsState;
  /**
   * Where to listen (default 127.0.0.1, a random port) and the base URL clients reach it at (for
   * paging links), when other containers call it (compose/simulators.ts).
   */
  listen?: { host: string; port: number; publicBaseUrl?: string };
}

export const GraphSubscriptionsStateSchema = z.object({
  items: z.array(
    z.object({
      id: z.string(),
      resource: z.string(),
      changeType: z.string(),
      notificationUrl: z.string(),
      lifecycleNotificationUrl: z.string().nullable(),
      expirationDateTime: z.string(),
      clientState: z.string().nullable(),
    }),
  ),
  created: z.number().int().nonnegative(),
});
export type GraphSubscriptionsState = z.infer<typeof GraphSubscriptionsStateSchema>;

export interface GraphSimulatorMetrics {
  /** HTTP requests (a $batch is one). */
  requests: number;
  /** $batch requests, and the sub-requests they carried. */
  batches: number;
  batchedRequests: number;
  /** Requests answered 429. */
  throttled: number;
  /** Requests answered 503. */
  unavailable: number;
  byRoute: Record<string, number>;
  /** Injected faults by status and route (`429 GET /admin/teams`), so a run can say which calls they hit. */
  faultsByRoute: Record<string, number>;
  notifications: DeliveryMetrics;
}

export interface GraphSimulator {
  /** http://127.0.0.1:<port>/v1.0 */
  baseUrl: string;
  metrics(): GraphSimulatorMetrics;
  setFaults(faults: GraphFaults): void;
  onChange(callback: (change: DirectoryChangeEvent) => void): void;
  /** Applies every scheduled directory change due at `now` (requests do this lazily too). */
  advanceTo(now: Date): void;
  /** The user as Graph would return it now; undefined while not synced yet. */
  user(id: string): DirectoryUser | undefined;
  /** Applications, service principals and role assignments, for the sandbox state (restored with options.entra). */
  exportEntra(): EntraSimState;
  /** The subscriptions, for the sandbox state (restored with options.subscriptions). */
  exportSubscriptions(): GraphSubscriptionsState;
  close(): Promise<void>;
}

/** Serves a simulated Microsoft Graph /users API over real HTTP on 127.0.0.1 (random port). */
export async function startGraphSimulator(options: GraphSimulatorOptions): Promise<GraphSimulator> {
  const { clock } = options;
  const startMs = options.startMs ?? (clock as { startedAt?: number }).startedAt ?? clock.now().getTime();
  const directory = new SimDirectory(readGraphTenant(options.tenant), startMs);
  const faults = new FaultInjector(options.faults, options.seed);
  const pageSizes = { list: options.listPageSize ?? 100, delta: options.deltaPageSize ?? 100 };
  const metrics: Omit<GraphSimulatorMetrics, 'notifications'> = { requests: 0, batches: 0, batchedRequests: 0, throttled: 0, unavailable: 0, byRoute: {}, faultsByRoute: {} };
  const delivery = options.notifications
    ? new NotificationDelivery(options.notifications.transport, options.notifications.timers, options.notifications.tenantId, options.notifications.lagMs)
    : undefined;
  const subscriptions = new SimSubscriptions(delivery ? (url) => delivery.validate(url) : undefined, options.subscriptions);
  if (delivery) {
    directory.onChange((change) => {
      if (change.notify) delivery.notify(change, subscriptions.live(change.at.getTime()));
    });
  }
  const teamsAdmin = options.teams ? new SimTeamsAdmin(options.teams.tenant, clock, options.teams) : undefined;
  let baseUrl = '';

  const permissions = new SimPermissions(options.tenant.graphApp, new Date(startMs));
  const entra = new SimEntra(permissions, () => clock.now(), options.entra);

  /** One Graph request, from the wire or from inside a $batch: routes it and answers, errors included. */
  const dispatch = async (method: string, url: URL, headers: IncomingHttpHeaders, readBody: () => Promise<unknown>, inBatch: boolean): Promise<Answer> => {
    const route = findRoute(method, url.pathname);
    const subscriptionPath = /^\/v1\.0\/subscriptions(?:\/([^/]+))?\/?$/.exec(url.pathname);
    const adminPath = url.pathname.startsWith('/v1.0/admin/teams/');
    const routeName =
      route?.name ?? (subscriptionPath ? `${method} /subscriptions` : adminPath ? `${method} /admin/teams` : url.pathname === '/v1.0/$batch' ? 'POST /$batch' : 'other');
    metrics.byRoute[routeName] = (metrics.byRoute[routeName] ?? 0) + 1;
    const now = clock.now();
    directory.advanceTo(now.getTime());
    try {
      // A $batch's sub-requests are throttled one by one (as Graph does); the envelope is not.
      const fault = url.pathname === '/v1.0/$batch' ? undefined : faults.next(safeDecode(url.pathname + url.search));
      if (fault) {
        if (fault.status === 429) metrics.throttled += 1;
        else if (fault.status === 503) metrics.unavailable += 1;
        const faultKey = `${fault.status} ${routeName}`;
        metrics.faultsByRoute[faultKey] = (metrics.faultsByRoute[faultKey] ?? 0) + 1;
        const faultHeaders: Record<string, string> = fault.retryAfterSeconds === undefined ? {} : { 'retry-after': String(fault.retryAfterSeconds) };
        if (fault.status === 403) throw new GraphSimError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
        throw fault.status === 429
          ? new GraphSimError(429, 'TooManyRequests', 'Too many requests. Please retry after the time given in Retry-After.', faultHeaders)
          : new GraphSimError(503, 'serviceNotAvailable', 'Service is unavailable. Please try again.', faultHeaders);
      }
      const entraAnswer = entra.handle(method, url.pathname, url.searchParams, readBody, baseUrl);
      if (entraAnswer) {
        const answer = await entraAnswer;
        return { status: answer.status, headers: {}, ...(answer.body === undefined ? {} : { body: answer.body }) };
      }
      const sp = permissions.handle(method, url.pathname, url.searchParams, baseUrl);
      if (sp) return { status: 200, headers: {}, body: sp };
      permissions.check(method, url.pathname);
      if (url.pathname === '/v1.0/$batch') {
        if (inBatch) throw new GraphSimError(400, 'BadRequest', 'A batch request cannot contain another batch request.');
        if (method !== 'POST') throw new GraphSimError(405, 'BadRequest', 'The batch endpoint accepts only POST.');
        return await batch(await readBody(), headers);
      }
      if (subscriptionPath) {
        const answer = await subscriptions.handle(method, subscriptionPath[1], await readBody(), now.getTime());
        return { status: answer.status, headers: {}, body: answer.body };
      }
      if (adminPath && teamsAdmin) {
        const body = method === 'POST' ? await readBody() : undefined;
        const answer = teamsAdmin.handle(method, url.pathname, url.searchParams, body, baseUrl);
        if (answer) return { status: answer.status, headers: answer.headers ?? {}, ...(answer.body === undefined ? {} : { body: answer.body }) };
      }
      if (!route) {
        throw new GraphSimError(400, 'BadRequest', `Resource not found for the segment '${url.pathname.split('/').pop() ?? ''}'.`);
      }
      return { status: 200, headers: {}, body: route.handle({ directory, now: now.getTime(), baseUrl, url, headers, pageSizes }) };
    } catch (error) {
      const graphError = error instanceof GraphSimError ? error : new GraphSimError(500, 'generalException', 'An internal server error occurred.');
      return errorAnswer(graphError, now);
    }
  };

  /**
   * POST /$batch, as Graph's JSON batching does it: at most 20 requests, each with a unique id,
   * a method and a relative URL (a body needs a Content-Type header); every sub-request is
   * routed (and throttled) on its own and answered with its own status, headers and body.
   * dependsOn runs a request after the ones it names and answers 424 when one of them failed;
   * an unknown id in dependsOn fails the whole batch with 400.
   */
  const batch = async (body: unknown, outerHeaders: IncomingHttpHeaders): Promise<Answer> => {
    const requests = parseBatch(body);
    metrics.batches += 1;
    const answers = new Map<string, Answer>();
    const responses: Record<string, unknown>[] = [];
    const run = async (request: BatchRequest): Promise<void> => {
      if (answers.has(request.id)) return;
      for (const dep of request.dependsOn) {
        const target = requests.find((r) => r.id === dep);
        if (target) await run(target);
      }
      const failedDependency = request.dependsOn.some((dep) => (answers.get(dep)?.status ?? 200) >= 400);
      let answer: Answer;
      if (failedDependency) {
        answer = errorAnswer(new GraphSimError(424, 'FailedDependency', 'The request could not be processed because a request it depends on failed.'), clock.now());
      } else {
        metrics.batchedRequests += 1;
        const inner = new URL(`/v1.0${request.url.startsWith('/') ? '' : '/'}${request.url}`, 'http://127.0.0.1');
        const headers: IncomingHttpHeaders = { ...outerHeaders, ...lowerKeys(request.headers) };
        answer = await dispatch(request.method, inner, headers, async () => request.body, true);
      }
      answers.set(request.id, answer);
      responses.push({ id: request.id, status: answer.status, headers: answer.headers, ...(answer.body === undefined ? {} : { body: answer.body }) });
    };
    for (const request of requests) await run(request);
    return { status: 200, headers: {}, body: { responses } };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    metrics.requests += 1;
    const now = clock.now();
    let answer: Answer;
    try {
      const latency = faults.latencyMs();
      if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency));
      const bearer = /^Bearer\s+(\S+)/i.exec(req.headers.authorization ?? '');
      if (!bearer) {
        throw new GraphSimError(401, 'InvalidAuthenticationToken', 'Access token is empty.');
      }
      if (options.tokenTenant !== undefined && tenantOfToken(bearer[1] ?? '') !== options.tokenTenant.toLowerCase()) {
        throw new GraphSimError(401, 'InvalidAuthenticationToken', 'Access token validation failure. The token was not issued for this tenant.');
      }
      answer = await dispatch(req.method ?? 'GET', url, req.headers, () => readJson(req), false);
    } catch (error) {
      answer = errorAnswer(error instanceof GraphSimError ? error : new GraphSimError(500, 'generalException', 'An internal server error occurred.'), now);
    }
    if (answer.body === undefined) {
      res.writeHead(answer.status, { 'content-length': '0', ...answer.headers });
      res.end();
    } else sendJson(res, answer.status, answer.body, answer.headers);
  };

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.listen?.port ?? 0, options.listen?.host ?? '127.0.0.1', () => resolve());
  });
  baseUrl = options.listen?.publicBaseUrl ?? `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1.0`;

  return {
    baseUrl,
    metrics: () => ({
      ...metrics,
      byRoute: { ...metrics.byRoute },
      faultsByRoute: { ...metrics.faultsByRoute },
      notifications: { ...(delivery?.metrics ?? emptyDeliveryMetrics()) },
    }),
    setFaults: (f) => faults.set(f),
    onChange: (callback) => directory.onChange(callback),
    advanceTo: (now) => directory.advanceTo(now.getTime()),
    exportSubscriptions: () => subscriptions.exportState(),
    exportEntra: () => entra.exportState(),
    user: (id) => {
      const now = clock.now().getTime();
      directory.advanceTo(now);
      return directory.visibleUser(id, now);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** The placeholder token the sandbox's Graph clients send for one tenant (GraphSimulatorOptions.tokenTenant). */
export function sandboxGraphToken(tenantId: string): string {
  return `sandbox-token;tid=${tenantId.toLowerCase()}`;
}

function tenantOfToken(token: string): string | undefined {
  return /;tid=([^;]+)$/.exec(token)?.[1]?.toLowerCase();
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body?: unknown;
}

function errorAnswer(error: GraphSimError, now: Date): Answer {
  const { body, requestId } = graphErrorBody(error, now);
  return { status: error.status, headers: { ...error.headers, 'request-id': requestId }, body };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new GraphSimError(400, 'BadRequest', 'The request body is not JSON.');
  }
}
