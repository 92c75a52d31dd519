/**
 * Runs the simulated tenant in the calling process behind a small HTTP server on 127.0.0.1.
 * Each stand-in process holds one long-lived `attach` request open for its whole life, so the
 * server knows which "pwsh" sessions are alive (and forgets a session's connect state when its
 * process dies), and posts each protocol request to `invoke`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { canonicalCmdlet, cmdletKind } from './allow-list.js';
import { newSession, runCmdlet, type HostOutcome, type TeamsSession } from './cmdlets.js';
import { teamsErrors } from './cmdlet-error.js';
import { FaultPlan, type FaultRule, type LatencyMs } from './faults.js';
import { cmdletLatencyMs, type LatencyModel } from '../latency-model.js';
import type { Clock } from '../../shared/ports/clock.js';
import type { SimTenant } from './tenant.js';
import { CRASH_EXIT_CODE, type InvokeAction, type InvokeBody } from './wire.js';

export interface TeamsMetrics {
  /** Every cmdlet request except Connect-/Disconnect-MicrosoftTeams and the protocol's Exit. */
  cmdlets: number;
  /** Set-, Remove-, Grant- and New-CsBatch… requests (included in `cmdlets`). */
  writeCmdlets: number;
  connects: number;
  /** Every request by cmdlet name, Connect and Exit included. */
  byCmdlet: Record<string, number>;
  /** Requests a fault rule fired on. */
  faultsInjected: number;
  /** The same, by fault kind (`crash:after` for a fault after the cmdlet ran). */
  faultsByKind: Record<string, number>;
}

/** Sandbox time: a cmdlet's latency is a wait on the simulated clock, not in real time. */
export interface SimulatedTime {
  model: LatencyModel;
  /** Waits `ms` of sandbox time; `key` orders waits that end at the same instant. */
  sleep(ms: number, key: string): Promise<void>;
}

/**
 * One cmdlet as a session ran it, on the sandbox clock (a timeline for the bench and for tests
 * that check the order of events): which stand-in process (`session`), when it started and ended.
 */
export interface TeamsCallRecord {
  session: string;
  cmdlet: string;
  startMs: number;
  endMs: number;
  /** The users a filter or an -Identity list names (1 for a single -Identity). */
  users: number;
  /** The -Identity value(s), as sent (none for a filtered read). */
  identities: string[];
  ok: boolean;
}

export interface TeamsSimServerOptions {
  tenant: SimTenant;
  /** Called once per cmdlet request, after it ran (Exit and unknown cmdlets are not traced), with times on `clock`. */
  trace?: { clock: Clock; record(call: TeamsCallRecord): void };
  /**
   * Further tenants this Teams stand-in serves (a sandbox with several tenants): a session works
   * in the tenant its Connect-MicrosoftTeams -TenantId named, and only there, as a real session
   * does; an unknown tenant id fails the connect (AADSTS90002), as before.
   */
  others?: readonly SimTenant[];
  /** Real milliseconds per kind; ignored when `simulatedTime` is given. */
  latencyMs?: LatencyMs;
  simulatedTime?: SimulatedTime;
  faults?: readonly FaultRule[];
  seed?: number;
  /** Where to listen; default 127.0.0.1 on a random port (compose/simulators.ts listens for other containers). */
  listen?: { host: string; port: number };
}

interface Attached {
  session: TeamsSession;
  response: ServerResponse;
}

const SESSION_PATH = /^\/sessions\/([A-Za-z0-9._-]{1,100})\/(attach|invoke)$/;

export class TeamsSimServer {
  private readonly sessions = new Map<string, Attached>();
  /** Live sessions whose process hangs on a cmdlet (a `hang` fault) until the worker's deadline kills it. */
  private readonly hung = new Set<string>();
  /** The tenant each session connected to (the primary one until it connects). */
  private readonly connectedTo = new WeakMap<TeamsSession, SimTenant>();
  private readonly others: readonly SimTenant[];
  private readonly faults: FaultPlan;
  private latency: Required<LatencyMs>;
  private readonly simulatedTime: SimulatedTime | undefined;
  private readonly trace: TeamsSimServerOptions['trace'];
  private counts: TeamsMetrics = { cmdlets: 0, writeCmdlets: 0, connects: 0, byCmdlet: {}, faultsInjected: 0, faultsByKind: {} };
  private url = '';

  private constructor(
    private readonly tenant: SimTenant,
    private readonly server: Server,
    options: TeamsSimServerOptions,
  ) {
    this.faults = new FaultPlan(options.faults ?? [], options.seed ?? 1);
    this.others = options.others ?? [];
    this.latency = { connect: 0, read: 0, write: 0, ...options.latencyMs };
    this.simulatedTime = options.simulatedTime;
    this.trace = options.trace;
  }

  static async start(options: TeamsSimServerOptions): Promise<TeamsSimServer> {
    const server = createServer();
    const sim = new TeamsSimServer(options.tenant, server, options);
    server.on('request', (req, res) => sim.route(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.listen?.port ?? 0, options.listen?.host ?? '127.0.0.1', () => resolve());
    });
    sim.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return sim;
  }

  get baseUrl(): string {
    return this.url;
  }

  metrics(): TeamsMetrics {
    return { ...this.counts, byCmdlet: { ...this.counts.byCmdlet }, faultsByKind: { ...this.counts.faultsByKind } };
  }

  setFaults(faults: readonly FaultRule[]): void {
    this.faults.set(faults);
  }

  setLatency(latencyMs: LatencyMs): void {
    this.latency = { ...this.latency, ...latencyMs };
  }

  liveProcesses(): number {
    return this.sessions.size;
  }

  /**
   * Live stand-ins hung on a cmdlet: each waits, with the worker's call, for the worker's deadline
   * (on the sandbox clock when the sandbox runs it), so the sandbox counts it as waiting on its clock.
   */
  hungProcesses(): number {
    return this.hung.size;
  }

  /** Live stand-ins whose session completed Connect-MicrosoftTeams. */
  connectedSessions(): number {
    return [...this.sessions.values()].filter((s) => s.session.connected).length;
  }

  /** The certificate thumbprint of each live connected session (known when Entra checks certificates); of one tenant's sessions when named. */
  connectedThumbprints(tenantId?: string): (string | undefined)[] {
    return [...this.sessions.values()]
      .filter((s) => s.session.connected && (tenantId === undefined || (this.connectedTo.get(s.session) ?? this.tenant).tenantId.toLowerCase() === tenantId.toLowerCase()))
      .map((s) => s.session.thumbprint);
  }

  async close(): Promise<void> {
    for (const { response } of this.sessions.values()) response.destroy();
    this.sessions.clear();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
    const match = SESSION_PATH.exec(req.url ?? '');
    if (match === null) return void res.writeHead(404).end();
    const [, sessionId = '', verb] = match;
    if (verb === 'attach' && req.method === 'GET') return this.attach(sessionId, req, res);
    if (verb === 'invoke' && req.method === 'POST') {
      void this.invoke(sessionId, req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(error instanceof Error ? error.message : 'internal error');
      });
      return;
    }
    res.writeHead(405).end();
  }

  private attach(sessionId: string, req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.flushHeaders();
    this.sessions.set(sessionId, { session: newSession(), response: res });
    const forget = () => {
      if (this.sessions.get(sessionId)?.response === res) {
        this.sessions.delete(sessionId);
        this.hung.delete(sessionId);
      }
    };
    req.on('close', forget);
    res.on('close', forget);
  }

  private async invoke(sessionId: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const attached = this.sessions.get(sessionId);
    const body = JSON.parse(await readBody(req)) as InvokeBody;
    if (attached === undefined) return void res.writeHead(404, { 'content-type': 'text/plain' }).end('session not attached');
    const startMs = this.trace ? this.trace.clock.now().getTime() : 0;
    const action = await this.perform(attached.session, body);
    if (this.trace) {
      const cmdlet = canonicalCmdlet(body.cmdlet);
      if (cmdlet !== undefined && cmdlet !== 'Exit') {
        this.trace.record({ session: sessionId, cmdlet, startMs, endMs: this.trace.clock.now().getTime(), users: usersNamed(body.parameters), identities: identitiesNamed(body.parameters), ok: action.action === 'respond' && action.ok });
      }
    }
    if (action.action === 'hang' && this.sessions.get(sessionId) === attached) this.hung.add(sessionId);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(action));
  }

  /** The tenant a cmdlet runs in: the one the session connected to; a connect picks it by -TenantId. */
  private tenantOf(session: TeamsSession, cmdlet: string | undefined, parameters: Record<string, unknown>): SimTenant {
    if (cmdlet === 'Connect-MicrosoftTeams' && this.others.length > 0) {
      const named = Object.entries(parameters).find(([k]) => k.toLowerCase() === 'tenantid')?.[1];
      const tenant = [this.tenant, ...this.others].find((t) => typeof named === 'string' && t.tenantId.toLowerCase() === named.toLowerCase()) ?? this.tenant;
      this.connectedTo.set(session, tenant);
      return tenant;
    }
    return this.connectedTo.get(session) ?? this.tenant;
  }

  private async perform(session: TeamsSession, body: InvokeBody): Promise<InvokeAction> {
    const cmdlet = canonicalCmdlet(body.cmdlet);
    const tenant = this.tenantOf(session, cmdlet, body.parameters);
    this.count(cmdlet ?? body.cmdlet, cmdlet === undefined ? 'read' : cmdletKind(cmdlet));
    if (cmdlet === undefined || cmdlet === 'Exit') return respond(runCmdlet(tenant, session, body));

    const kind = cmdletKind(cmdlet);
    const identity = Object.entries(body.parameters).find(([k]) => k.toLowerCase() === 'identity')?.[1];
    const fault = this.faults.next({
      cmdlet,
      identities: typeof identity === 'string' ? tenant.identitiesOf(identity) : [],
      tenantId: tenant.tenantId,
      elapsedMs: tenant.elapsedMs(),
    });
    if (fault !== undefined) {
      this.counts.faultsInjected += 1;
      const key = fault.phase === 'after' ? `${fault.kind}:after` : fault.kind;
      this.counts.faultsByKind[key] = (this.counts.faultsByKind[key] ?? 0) + 1;
    }
    if (this.simulatedTime !== undefined) {
      // Each pwsh process is its own Teams session: its cmdlets run one after another on the
      // sandbox clock while other sessions run theirs.
      const ms = cmdletLatencyMs(this.simulatedTime.model, cmdlet, kind);
      if (ms > 0) await this.simulatedTime.sleep(ms, `${typeof identity === 'string' ? identity.toLowerCase() : ''}|${cmdlet}`);
    } else {
      const delay = kind === 'session' ? 0 : this.latency[kind];
      if (delay > 0) await sleep(delay);
    }

    if (fault !== undefined && fault.phase !== 'after') return this.fail(session, cmdlet, fault);
    const outcome = runCmdlet(tenant, session, body);
    return fault === undefined ? respond(outcome) : this.fail(session, cmdlet, fault);
  }

  private fail(session: TeamsSession, cmdlet: string, fault: FaultRule): InvokeAction {
    switch (fault.kind) {
      case 'throttle':
        return respond({ ok: false, error: teamsErrors.throttled(cmdlet).hostError });
      case 'busy':
        return respond({ ok: false, error: teamsErrors.sessionBusy(cmdlet).hostError });
      case 'unavailable':
        return respond({ ok: false, error: teamsErrors.unavailable(cmdlet).hostError });
      case 'unauthorized':
        session.tokenExpired = true;
        if (cmdlet === 'Connect-MicrosoftTeams') session.connected = false;
        return respond({ ok: false, error: teamsErrors.unauthorized(cmdlet).hostError });
      case 'crash':
        return { action: 'crash', exitCode: CRASH_EXIT_CODE };
      case 'hang':
        return { action: 'hang' };
      case 'drop':
        return { action: 'drop' };
    }
  }

  private count(cmdlet: string, kind: ReturnType<typeof cmdletKind>): void {
    this.counts.byCmdlet[cmdlet] = (this.counts.byCmdlet[cmdlet] ?? 0) + 1;
    if (kind === 'connect') this.counts.connects += 1;
    if (kind === 'read' || kind === 'write') this.counts.cmdlets += 1;
    if (kind === 'write') this.counts.writeCmdlets += 1;
  }
}

/** How many users a request names: the clauses of a -Filter, the entries of an -Identity list, or one. */
function usersNamed(parameters: Record<string, unknown>): number {
  const value = (name: string) => Object.entries(parameters).find(([k]) => k.toLowerCase() === name)?.[1];
  const filter = value('filter');
  if (typeof filter === 'string') return filter.split(/ -or /i).length;
  const identity = value('identity');
  return Array.isArray(identity) ? identity.length : identity === undefined ? 0 : 1;
}

function identitiesNamed(parameters: Record<string, unknown>): string[] {
  const identity = Object.entries(parameters).find(([k]) => k.toLowerCase() === 'identity')?.[1];
  const list = Array.isArray(identity) ? identity : [identity];
  return list.filter((i): i is string => typeof i === 'string');
}

function respond(outcome: HostOutcome): InvokeAction {
  return outcome.ok ? { action: 'respond', ok: true, result: outcome.result } : { action: 'respond', ok: false, error: outcome.error };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
