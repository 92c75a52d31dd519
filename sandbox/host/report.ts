import { queueNames } from '../../shared/contracts/messages.js';
import { describeRepeats } from '../../shared/domain/history.js';
import { policyTypes } from '../../shared/domain/voice-state.js';
import type { OutgoingMessage } from '../../shared/ports/bus.js';
import type { NumberInventory } from '../../shared/ports/number-inventory.js';
import type { ProvisioningRecord, ProvisioningRecords } from '../../shared/ports/provisioning-records.js';
import type { MemoryBus } from '../bus/memory-bus.js';
import type { SimClock } from '../clock.js';
import type { GraphSimulator } from '../graph-sim/index.js';
import type { TeamsSimulator } from '../teams-sim/index.js';
import type { SandboxInputs } from './inputs.js';

/** The `sandbox run --json` report (the contract in DESIGN.md "Sandbox contracts"). */
export interface SandboxReport {
  users: {
    id: string;
    /** With several tenants (`--tenant A --tenant B`): the tenant the user is in. */
    tenantId?: string;
    userPrincipalName: string;
    teams: { enterpriseVoiceEnabled: boolean; lineUri: string | null; policies: Record<string, string | null> };
  }[];
  /** With several tenants, `tenantId` is the tenant of the number's holder (none while nobody holds it). */
  numbers: { number: string; pool: string; state: string; userId: string | null; tenantId?: string | null }[];
  /** With several tenants, `tenantId` is the tenant the message names (its body, else its session id), null when it names none. */
  deadLetters: { queue: string; reason: string; description: string; body: unknown; tenantId?: string | null }[];
  metrics: {
    eventsIn: number;
    graphRequests: number;
    cmdlets: number;
    writeCmdlets: number;
    connects: number;
    simulatedMs: number;
  };
  /** Extra detail for people; other tools rely only on the fields above. */
  history: { userId: string; userPrincipalName: string; entries: ProvisioningRecord['history'] }[];
  commands: { userId: string; commandId: string; reason: string; desired: unknown }[];
  workerRan: boolean;
}

export interface ReportSources {
  inputs: SandboxInputs;
  eventsIn: number;
  bus: MemoryBus;
  clock: SimClock;
  inventory: NumberInventory;
  records: ProvisioningRecords;
  graph: GraphSimulator;
  /** The Graph of each further tenant, in the order of inputs.extraTenants. */
  extraGraphs?: readonly GraphSimulator[];
  teams: TeamsSimulator | undefined;
  sent: { queue: string; message: OutgoingMessage }[];
  workerRan: boolean;
  /** The makespan: sandbox time from the start to the end of the last work (not idle timers). */
  simulatedMs?: number;
  /** HR lines the bus refused at send: reported with the dead letters, since they never entered a queue. */
  refused?: readonly { line: number; eventId: string | undefined; code: string; message: string; attempts?: number }[];
}

export async function buildReport(s: ReportSources): Promise<SandboxReport> {
  const multi = (s.inputs.extraTenants?.length ?? 0) > 0;
  const files = [s.inputs.tenant, ...(s.inputs.extraTenants ?? [])];
  const tenantOfUser = new Map(files.flatMap((f) => f.users.map((u) => [u.id, f.tenantId.toLowerCase()] as const)));
  const users = files.flatMap((file, i) => file.users.map((u) => ({ u, sim: s.teams?.tenants[i] ?? (i === 0 ? s.teams?.tenant : undefined), tenantId: file.tenantId.toLowerCase() }))).map(({ u, sim, tenantId }) => {
    const live = sim?.user(u.id);
    const source = live ?? {
      enterpriseVoiceEnabled: u.teams?.enterpriseVoiceEnabled ?? false,
      lineUri: u.teams?.lineUri ?? null,
      policies: u.teams?.policies ?? {},
    };
    const policies: Record<string, string | null> = {};
    for (const type of policyTypes) {
      const value = (source.policies as Record<string, string | null | undefined>)[type];
      if (value !== undefined) policies[type] = value;
    }
    return {
      id: u.id,
      ...(multi ? { tenantId } : {}),
      userPrincipalName: u.userPrincipalName,
      teams: { enterpriseVoiceEnabled: source.enterpriseVoiceEnabled, lineUri: source.lineUri ?? null, policies },
    };
  });
  // Each further tenant's numbers are in its own inventory partition.
  const held = [...(await s.inventory.list()), ...(await Promise.all((s.inputs.extraTenants ?? []).map((t) => s.inventory.forTenant(t.tenantId.toLowerCase()).list()))).flat()];
  const numbers = held.map((n) => ({
    number: n.number,
    pool: n.pool,
    state: n.state,
    userId: n.userId,
    ...(multi ? { tenantId: n.userId ? (tenantOfUser.get(n.userId) ?? null) : null } : {}),
  }));
  const deadLetters = s.bus.deadLetterMessages().map((m) => ({
    queue: m.queue,
    reason: m.deadLetterReason ?? '',
    description: m.deadLetterErrorDescription ?? '',
    body: m.body,
    ...(multi ? { tenantId: messageTenant(m.body, m.sessionId) } : {}),
  }));
  for (const r of s.refused ?? []) {
    deadLetters.push({
      queue: queueNames.hrEvents,
      reason: r.code,
      description: `HR event line ${r.line}${r.eventId ? ` (${r.eventId})` : ''} was refused by Service Bus when sent and never entered the pipeline: ${r.message.slice(0, 512)} ${whatToDo(r)}`,
      body: { line: r.line, ...(r.eventId ? { eventId: r.eventId } : {}) },
    });
  }
  const teamsMetrics = s.teams?.metrics() ?? { cmdlets: 0, writeCmdlets: 0, connects: 0 };
  const records = await s.records.list();
  return {
    users,
    numbers,
    deadLetters,
    metrics: {
      eventsIn: s.eventsIn,
      graphRequests: s.graph.metrics().requests + (s.extraGraphs ?? []).reduce((n, g) => n + g.metrics().requests, 0),
      cmdlets: teamsMetrics.cmdlets,
      writeCmdlets: teamsMetrics.writeCmdlets,
      connects: teamsMetrics.connects,
      simulatedMs: s.simulatedMs ?? s.clock.elapsedMs(),
    },
    history: records.map((r) => ({ userId: r.userId, userPrincipalName: r.userPrincipalName, entries: r.history })),
    commands: s.sent
      .filter((x) => x.queue === queueNames.voiceCommands)
      .map((x) => {
        const body = x.message.body as { userId: string; commandId: string; reason: string; desired: unknown };
        return { userId: body.userId, commandId: body.commandId, reason: body.reason, desired: body.desired };
      }),
    workerRan: s.workerRan,
  };
}

/** The tenant a message names: its body's tenantId, else the tenant part of a tenant-scoped session id. */
function messageTenant(body: unknown, sessionId: string | undefined): string | null {
  const named = (body as { tenantId?: unknown } | null | undefined)?.tenantId;
  if (typeof named === 'string') return named.toLowerCase();
  const colon = sessionId?.indexOf(':') ?? -1;
  return sessionId && colon > 0 ? sessionId.slice(0, colon).toLowerCase() : null;
}

const when = (iso: string): string => iso.replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, ' UTC');

function describeTeams(t: SandboxReport['users'][number]['teams']): string {
  if (!t.enterpriseVoiceEnabled && !t.lineUri) return 'no Teams Phone';
  // A policy at Global is the default: naming all six would bury the ones Dialtone granted.
  const policies = Object.entries(t.policies)
    .filter(([, v]) => v !== null)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return `${t.lineUri ?? 'no number'}, Enterprise Voice ${t.enterpriseVoiceEnabled ? 'on' : 'off'}${policies ? `, ${policies}` : ''}`;
}

/** What happened to each person, in words a Teams admin uses, and a summary. */
export function formatReport(report: SandboxReport): string {
  const out: string[] = [];
  const byUser = new Map(report.history.map((h) => [h.userId, h]));
  for (const user of report.users) {
    out.push(`${user.userPrincipalName}`);
    for (const e of byUser.get(user.id)?.entries ?? []) {
      if (e.stage === 'plan' && e.outcome === 'command') continue;
      // A directory re-plan is named by its source: its event id is a hash (the JSON report has it).
      const cause = e.source === 'resync' || e.source === 'graph' ? e.source : e.eventId;
      out.push(`  ${when(e.firstAt ?? e.at)}  ${cause.padEnd(10)} ${e.stage === 'record' ? 'Teams' : 'plan '}  ${e.detail}${describeRepeats(e, when)}`);
    }
    out.push(`  now in Teams: ${report.workerRan ? describeTeams(user.teams) : '(worker not run: commands stay queued)'}`);
    out.push('');
  }
  if (!report.workerRan && report.commands.length > 0) {
    out.push('Voice commands queued for the hybrid worker:');
    for (const c of report.commands) out.push(`  ${c.commandId} ${c.reason} for ${c.userId}: ${JSON.stringify(c.desired)}`);
    out.push('');
  }
  if (report.deadLetters.length > 0) {
    out.push('Needs attention (dead letters; fix the cause, then replay):');
    for (const d of report.deadLetters) out.push(`  [${d.queue}] ${d.reason}: ${d.description}`);
    out.push('');
  }
  const states = new Map<string, number>();
  for (const n of report.numbers) states.set(n.state, (states.get(n.state) ?? 0) + 1);
  const m = report.metrics;
  out.push(
    `Summary: ${m.eventsIn} HR events, ${report.users.filter((u) => u.teams.lineUri).length} of ${report.users.length} people with a number, ${report.deadLetters.length} dead letters.`,
  );
  out.push(`Numbers: ${[...states].map(([k, v]) => `${v} ${k}`).join(', ') || 'none imported'}.`);
  out.push(
    `Work: ${m.graphRequests} Graph requests, ${m.cmdlets} cmdlets (${m.writeCmdlets} writes), ${m.connects} Teams connects, ${Math.round(m.simulatedMs / 60_000)} simulated minutes.`,
  );
  return out.join('\n');
}

/**
 * The report as rows, for `-o tsv` and `-o jsonl`: one per user, number and dead letter, then
 * one of metrics. The first cell (and `kind` in JSON) says which; each kind has fixed columns,
 * `tenantId` last (empty with one tenant):
 *
 *     user        id  userPrincipalName  enterpriseVoiceEnabled  lineUri  policies (Type=Name,…)  tenantId
 *     number      number  pool  state  userId  tenantId
 *     deadLetter  queue  reason  description  body (compact JSON)  tenantId
 *     metrics     eventsIn  graphRequests  cmdlets  writeCmdlets  connects  simulatedMs
 */
export interface ReportRow {
  kind: 'user' | 'number' | 'deadLetter' | 'metrics';
  cells: unknown[];
  json: Record<string, unknown>;
}

const tenantOf = (entry: object): string => {
  const id = (entry as { tenantId?: unknown }).tenantId;
  return typeof id === 'string' ? id : '';
};

export function reportRows(report: SandboxReport): ReportRow[] {
  const rows: ReportRow[] = [];
  for (const u of report.users) {
    const policies = Object.entries(u.teams.policies)
      .map(([type, name]) => `${type}=${name ?? ''}`)
      .join(',');
    rows.push({ kind: 'user', cells: ['user', u.id, u.userPrincipalName, u.teams.enterpriseVoiceEnabled, u.teams.lineUri, policies, tenantOf(u)], json: { kind: 'user', ...u } });
  }
  for (const n of report.numbers) rows.push({ kind: 'number', cells: ['number', n.number, n.pool, n.state, n.userId, tenantOf(n)], json: { kind: 'number', ...n } });
  for (const d of report.deadLetters) {
    rows.push({ kind: 'deadLetter', cells: ['deadLetter', d.queue, d.reason, d.description, JSON.stringify(d.body ?? null), tenantOf(d)], json: { kind: 'deadLetter', ...d } });
  }
  const m = report.metrics;
  rows.push({ kind: 'metrics', cells: ['metrics', m.eventsIn, m.graphRequests, m.cmdlets, m.writeCmdlets, m.connects, m.simulatedMs], json: { kind: 'metrics', ...m } });
  return rows;
}

/** What the operator does about an HR line Service Bus refused at send, by what it answered. */
function whatToDo(r: { code: string; attempts?: number }): string {
  if (r.code === 'QuotaExceeded') return `${queueNames.hrEvents} was full: send it again once it has drained.`;
  if (r.code === 'ServiceBusy' || r.code === 'ServiceTimeout') return `Service Bus was still busy after ${r.attempts ?? 1} tries: send it again.`;
  return "Send it again within Service Bus's limits.";
}
