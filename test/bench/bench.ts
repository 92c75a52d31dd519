/**
 * `npm run bench [-- --json] [--people N]`: Dialtone against the connector style of the field
 * and the per-user floor, on the field latency model in sandbox time (sandbox/latency-model.ts).
 *
 * Every scenario runs in its own child process (clean CPU and peak RSS figures) through the
 * real sandbox: the real Functions, the real worker, the pwsh stand-ins, the Graph simulator
 * over HTTP. Simulated seconds are the sandbox's makespan; CPU seconds and peak RSS are this
 * machine's cost of simulating it (the pwsh stand-in processes are not included).
 *
 * Baseline (the connector style): connect per person, read the user, run every write, no diff,
 * one person at a time: people × (Connect + Get-CsOnlineUser + Set-CsPhoneNumberAssignment +
 * one Grant per managed policy) on the same model. Floor: people × Set-CsPhoneNumberAssignment
 * ÷ the tenant session limit (policy grants in bulk cost nothing per person).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Table from 'cli-table3';
import { parseVoicePolicy } from '../../shared/domain/policy.js';
import type { PoolDefinition } from '../../shared/domain/numbers.js';
import { Sandbox, type SandboxOptions } from '../../sandbox/host/sandbox.js';
import type { SandboxInputs } from '../../sandbox/host/inputs.js';
import type { SandboxReport } from '../../sandbox/host/report.js';
import { describeLatencyModel, fieldLatencyModel, type LatencyModel } from '../../sandbox/latency-model.js';
import type { TeamsCallRecord } from '../../sandbox/teams-sim/index.js';
import { SandboxTenantFileSchema } from '../../sandbox/teams-sim/tenant-file.js';
import { formatTimeline } from './timeline.js';

/** The tenant session limit the benchmark assumes (issue 11: default 4). */
export const TENANT_SESSION_LIMIT = 4;
/** People each worker keeps in flight on its bulk path (the production default, DIALTONE_BULK_USERS). */
const BULK_USERS = 500;
/** The managed policies the sample voice policy grants each person (CLI, routing, dial plan). */
const GRANTS_PER_PERSON = 3;
/** HR events start at 01:00 UTC: a bulk run sits between two graphResync rounds (00:45, 12:45). */
const START = Date.parse('2026-11-02T01:00:00Z');

const here = dirname(fileURLToPath(import.meta.url));
const data = (name: string) => readFileSync(`${here}/../../sandbox/data/${name}`, 'utf8');

export interface Measurement {
  name: string;
  people: number;
  events: number;
  simulatedMs: number;
  graphRequests: number;
  cmdlets: number;
  writeCmdlets: number;
  connects: number;
  provisioned: number;
  cpuSeconds: number;
  peakRssMb: number;
  realSeconds: number;
  workers: number;
  sessions: number;
}

export interface BenchScenario {
  name: string;
  people: number;
  simulatedSeconds: number;
  ratioToBaseline: number;
  ratioToFloor: number;
  graphRequestsPerEvent: number;
  cmdletsPerPerson: number;
  writeCmdletsPerPerson: number;
  connects: number;
  cpuSeconds: number;
  peakRssMb: number;
  /** Extra detail (not in the contract). */
  baselineSeconds: number;
  floorSeconds: number;
  realSeconds: number;
  workers: number;
  sessions: number;
}

// ---- the population ----

const userId = (i: number) => `00000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`;
const site = (i: number) => (i % 2 === 0 ? 'AMS' : 'RTM');
const dept = (i: number) => (i % 3 === 0 ? 'DEPT002' : 'DEPT001');

function pools(people: number): PoolDefinition[] {
  const span = (from: number, count: number) => ({ from: `+${from}`, to: `+${from + count - 1}` });
  // Each pool holds every person twice over: movers between sites need a second number.
  return [
    { id: 'ams', ranges: [span(31201000000, people * 2 + 10)], quarantineDays: 90 },
    { id: 'rtm', ranges: [span(31101000000, people * 2 + 10)], quarantineDays: 90 },
  ] as PoolDefinition[];
}

function benchInputs(people: number): SandboxInputs {
  const base = JSON.parse(data('tenant.json')) as Record<string, unknown>;
  const users = Array.from({ length: people }, (_, i) => ({
    id: userId(i),
    userPrincipalName: `person${i + 1}@contoso.example`,
    employeeId: `B${i + 1}`,
    department: 'Sales',
    officeLocation: site(i),
    accountEnabled: true,
    servicePlans: ['TEAMS1', 'MCOEV'],
    teams: { enterpriseVoiceEnabled: false, lineUri: null, policies: {} },
  }));
  return {
    tenant: SandboxTenantFileSchema.parse({ ...base, users, externalAssignments: [] }),
    eventLines: joiners(people, 'bench', START),
    policy: parseVoicePolicy(data('voice-policy.yaml'), 'yaml', 'voice-policy.yaml'),
    pools: pools(people),
    sources: { tenant: 'bench', events: 'bench', policy: 'voice-policy.yaml', numbers: 'bench' },
  };
}

function joiners(people: number, prefix: string, at: number): string[] {
  return Array.from({ length: people }, (_, i) =>
    JSON.stringify({
      eventId: `${prefix}-${i + 1}`,
      type: 'joiner',
      occurredAt: new Date(at).toISOString(),
      person: { employeeId: `B${i + 1}`, userPrincipalName: `person${i + 1}@contoso.example`, site: site(i), departmentId: dept(i) },
    }),
  );
}

/** Movers: 80% change nothing voice-relevant (a new job title), 10% move site, 10% department. */
function movers(people: number, at: number): string[] {
  return Array.from({ length: people }, (_, i) => {
    const kind = i % 10;
    const person = {
      employeeId: `B${i + 1}`,
      userPrincipalName: `person${i + 1}@contoso.example`,
      site: kind === 8 ? (site(i) === 'AMS' ? 'RTM' : 'AMS') : site(i),
      departmentId: kind === 9 ? (dept(i) === 'DEPT001' ? 'DEPT002' : 'DEPT001') : dept(i),
      jobTitle: `Title ${i % 7}`,
    };
    return JSON.stringify({ eventId: `move-${i + 1}`, type: 'mover', occurredAt: new Date(at).toISOString(), person });
  });
}

// ---- one scenario, in this process ----

interface Phase {
  report: SandboxReport;
  from: number;
  to: number;
}

/**
 * Runs one child's scenarios in one sandbox: `bulk` alone, or `bulk` followed by a second
 * phase over the same people (`rerun`: the same joiners with new event ids; `steady-movers`),
 * each phase measured on its own (sandbox time, calls, CPU).
 */
async function runScenario(name: string, people: number, latency: LatencyModel): Promise<Measurement[]> {
  const workers = name.startsWith('workers-') ? Number(name.slice('workers-'.length)) : 1;
  const timelineFile = process.env.DIALTONE_BENCH_TIMELINE;
  const calls: TeamsCallRecord[] = [];
  // The scaling scenario: one session per worker, so 1 / 2 / 4 workers stay within the tenant limit.
  const sessionsPerWorker = name.startsWith('workers-') ? 1 : TENANT_SESSION_LIMIT;
  const options: SandboxOptions = {
    storage: 'memory',
    latency,
    workerCount: workers,
    workerTuning: { maxSessions: sessionsPerWorker, maxSessionsPerTenant: sessionsPerWorker, concurrentSessions: sessionsPerWorker, bulk: { users: BULK_USERS } },
    tenantSessionLimit: TENANT_SESSION_LIMIT,
    stallTimeoutMs: 300_000,
    // The same bulk onboarding applied through Graph's Teams administration API: no pwsh, no connects.
    teamsBackend: name === 'bulk-graph' ? 'graph' : 'powershell',
    // DIALTONE_BENCH_TIMELINE=file: every cmdlet each session ran, written as a timeline (timeline.ts).
    ...(timelineFile ? { teams: { trace: (call: TeamsCallRecord) => void calls.push(call) } } : {}),
  };
  const inputs = benchInputs(people);
  const sandbox = await Sandbox.start(inputs, options);
  const measure = async (label: string, lines: string[], before?: SandboxReport['metrics']): Promise<Measurement & { report: SandboxReport }> => {
    const cpu = process.cpuUsage();
    const real = performance.now();
    const done = await phase(sandbox, lines);
    const used = process.cpuUsage(cpu);
    const m = done.report.metrics;
    return {
      name: label,
      people,
      events: lines.length,
      simulatedMs: done.to - done.from,
      graphRequests: m.graphRequests - (before?.graphRequests ?? 0),
      cmdlets: m.cmdlets - (before?.cmdlets ?? 0),
      writeCmdlets: m.writeCmdlets - (before?.writeCmdlets ?? 0),
      connects: m.connects - (before?.connects ?? 0),
      provisioned: done.report.users.filter((u) => u.teams.lineUri !== null).length,
      cpuSeconds: (used.user + used.system) / 1e6,
      peakRssMb: process.resourceUsage().maxRSS / 1024,
      realSeconds: (performance.now() - real) / 1000,
      workers,
      sessions: workers * sessionsPerWorker,
      report: done.report,
    };
  };
  try {
    const first = await measure(name.startsWith('workers-') || name === 'bulk-graph' ? name : 'bulk', inputs.eventLines);
    if (process.env.DIALTONE_BENCH_DEBUG) process.stderr.write(`${JSON.stringify({ byCmdlet: sandbox.teams?.metrics().byCmdlet, worker: sandbox.workerStats() })}\n`);
    if (timelineFile) writeFileSync(timelineFile, formatTimeline(calls, START));
    if (first.provisioned !== people) throw new Error(`${name}: only ${first.provisioned} of ${people} people provisioned`);
    const out: Measurement[] = [strip(first)];
    if (name === 'bulk+rerun') out.push(strip(await measure('rerun', joiners(people, 'rerun', sandbox.clock.nowMs()), first.report.metrics)));
    if (name === 'bulk+steady') out.push(strip(await measure('steady-movers', movers(people, sandbox.clock.nowMs()), first.report.metrics)));
    return out;
  } finally {
    await sandbox.stop();
  }
}

function strip(m: Measurement & { report: SandboxReport }): Measurement {
  const { report: _report, ...rest } = m;
  return rest;
}

async function phase(sandbox: Sandbox, lines: string[]): Promise<Phase> {
  const from = sandbox.clock.nowMs();
  await sandbox.enqueueEvents(lines);
  await sandbox.runUntilQuiet();
  const report = await sandbox.report();
  return { report, from, to: sandbox.clock.startedAt + report.metrics.simulatedMs };
}

// ---- figures ----

export function baselineSeconds(people: number, model: LatencyModel): number {
  const set = model.cmdletMs['Set-CsPhoneNumberAssignment'] ?? model.writeMs;
  const read = model.cmdletMs['Get-CsOnlineUser'] ?? model.readMs;
  return (people * (model.connectMs + read + set + GRANTS_PER_PERSON * model.grantMs)) / 1000;
}

export function floorSeconds(people: number, model: LatencyModel, sessions = TENANT_SESSION_LIMIT): number {
  return (people * (model.cmdletMs['Set-CsPhoneNumberAssignment'] ?? model.writeMs)) / sessions / 1000;
}

function toScenario(m: Measurement, model: LatencyModel): BenchScenario {
  const simulatedSeconds = m.simulatedMs / 1000;
  // The work a scenario must do: joiners need a number each; movers and re-runs only what changed.
  const baseline = baselineSeconds(m.people, model);
  const floor = floorSeconds(m.people, model, Math.min(m.sessions, TENANT_SESSION_LIMIT));
  const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;
  return {
    name: m.name,
    people: m.people,
    simulatedSeconds: round(simulatedSeconds, 1),
    ratioToBaseline: round(simulatedSeconds > 0 ? baseline / simulatedSeconds : Number.POSITIVE_INFINITY, 2),
    ratioToFloor: round(simulatedSeconds / floor, 2),
    graphRequestsPerEvent: round(m.graphRequests / m.events),
    cmdletsPerPerson: round(m.cmdlets / m.people),
    writeCmdletsPerPerson: round(m.writeCmdlets / m.people),
    connects: m.connects,
    cpuSeconds: round(m.cpuSeconds, 1),
    peakRssMb: Math.round(m.peakRssMb),
    baselineSeconds: round(baseline, 1),
    floorSeconds: round(floor, 1),
    realSeconds: round(m.realSeconds, 1),
    workers: m.workers,
    sessions: m.sessions,
  };
}

// ---- the chart ----

function chart(bulk: BenchScenario[], scaling: BenchScenario[]): string {
  const W = 900;
  const H = 360;
  const pad = { l: 70, r: 20, t: 40, b: 50 };
  const half = (W - 40) / 2;
  const hours = (s: number) => s / 3600;
  const maxPeople = Math.max(...bulk.map((b) => b.people));
  const maxHours = Math.max(...bulk.map((b) => hours(b.baselineSeconds)));
  const x1 = (p: number) => pad.l + (p / maxPeople) * (half - pad.l - pad.r);
  const y1 = (h: number) => H - pad.b - (h / maxHours) * (H - pad.t - pad.b);
  const line = (pts: [number, number][], color: string, label: string, dy: number) => {
    const d = pts.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${x.toFixed(1)},${y.toFixed(1)}`).join(' ');
    const [lx, ly] = pts[pts.length - 1]!;
    return `<path d="${d}" fill="none" stroke="${color}" stroke-width="2"/>${pts.map(([x, y]) => `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="3" fill="${color}"/>`).join('')}<text x="${(lx - 4).toFixed(1)}" y="${(ly + dy).toFixed(1)}" text-anchor="end" font-size="12" fill="${color}">${label}</text>`;
  };
  const sorted = [...bulk].sort((a, b) => a.people - b.people);
  const origin: [number, number] = [x1(0), y1(0)];
  const left = [
    `<text x="${pad.l}" y="24" font-size="14" font-weight="bold">People vs simulated hours (field latency model)</text>`,
    `<line x1="${pad.l}" y1="${H - pad.b}" x2="${half - pad.r}" y2="${H - pad.b}" stroke="#333"/>`,
    `<line x1="${pad.l}" y1="${pad.t}" x2="${pad.l}" y2="${H - pad.b}" stroke="#333"/>`,
    `<text x="${(pad.l + half) / 2}" y="${H - 12}" font-size="12" text-anchor="middle">people (joiners)</text>`,
    `<text x="18" y="${H / 2}" font-size="12" transform="rotate(-90 18 ${H / 2})" text-anchor="middle">hours</text>`,
    `<text x="${pad.l - 6}" y="${y1(maxHours) + 4}" font-size="11" text-anchor="end">${maxHours.toFixed(0)}</text>`,
    `<text x="${pad.l - 6}" y="${H - pad.b + 4}" font-size="11" text-anchor="end">0</text>`,
    `<text x="${x1(maxPeople)}" y="${H - pad.b + 16}" font-size="11" text-anchor="middle">${maxPeople}</text>`,
    line([origin, ...sorted.map((b): [number, number] => [x1(b.people), y1(hours(b.baselineSeconds))])], '#c0392b', 'baseline (connector style)', -8),
    line([origin, ...sorted.map((b): [number, number] => [x1(b.people), y1(hours(b.simulatedSeconds))])], '#2471a3', 'Dialtone', -8),
    line([origin, ...sorted.map((b): [number, number] => [x1(b.people), y1(hours(b.floorSeconds))])], '#27ae60', 'floor', 16),
  ];
  const ox = half + 40;
  const perHour = scaling.map((s) => ({ workers: s.workers, rate: s.people / hours(s.simulatedSeconds) }));
  const maxRate = Math.max(...perHour.map((p) => p.rate), 1);
  const maxWorkers = Math.max(...perHour.map((p) => p.workers), 1);
  const x2 = (w: number) => ox + pad.l + (w / maxWorkers) * (half - pad.l - pad.r);
  const y2 = (r: number) => H - pad.b - (r / maxRate) * (H - pad.t - pad.b);
  const ideal = perHour[0] ? perHour[0].rate / perHour[0].workers : 0;
  const right = [
    `<text x="${ox + pad.l}" y="24" font-size="14" font-weight="bold">Throughput vs workers (one session each)</text>`,
    `<line x1="${ox + pad.l}" y1="${H - pad.b}" x2="${ox + half - pad.r}" y2="${H - pad.b}" stroke="#333"/>`,
    `<line x1="${ox + pad.l}" y1="${pad.t}" x2="${ox + pad.l}" y2="${H - pad.b}" stroke="#333"/>`,
    `<text x="${ox + (pad.l + half) / 2}" y="${H - 12}" font-size="12" text-anchor="middle">workers</text>`,
    `<text x="${ox + 18}" y="${H / 2}" font-size="12" transform="rotate(-90 ${ox + 18} ${H / 2})" text-anchor="middle">people per simulated hour</text>`,
    `<text x="${ox + pad.l - 6}" y="${y2(maxRate) + 4}" font-size="11" text-anchor="end">${Math.round(maxRate)}</text>`,
    ...perHour.map((p) => `<text x="${x2(p.workers)}" y="${H - pad.b + 16}" font-size="11" text-anchor="middle">${p.workers}</text>`),
    line([[x2(0), y2(0)], ...perHour.map((p): [number, number] => [x2(p.workers), y2(ideal * p.workers)])], '#999', 'linear', 16),
    line([[x2(0), y2(0)], ...perHour.map((p): [number, number] => [x2(p.workers), y2(p.rate)])], '#2471a3', 'Dialtone', -8),
  ];
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n${[...left, ...right].join('\n')}\n</svg>\n`;
}

// ---- the command ----

function argValue(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

function positiveInt(text: string | undefined, fallback: number, what: string): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 100_000) throw new Error(`${what} must be a whole number from 1 to 100000, not '${text}'`);
  return n;
}

const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

function child(name: string, people: number): Promise<Measurement[]> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', tsxLoader, fileURLToPath(import.meta.url), '--scenario', name, '--people', String(people)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    proc.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    proc.on('error', reject);
    proc.on('close', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0) return reject(new Error(`scenario ${name} (${people} people) exited ${code}`));
      resolve(JSON.parse(line) as Measurement[]);
    });
  });
}

/** Runs one of the other benches in a child process and returns what it printed as JSON. */
function childJson(which: 'inventory' | 'pwsh', extra: string[] = []): Promise<unknown> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, ['--import', tsxLoader, fileURLToPath(import.meta.url), '--part', which, ...extra], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    proc.on('error', (error) => resolve({ skipped: `the ${which} bench could not start: ${error.message}` }));
    proc.on('close', (code) => {
      if (code !== 0) return resolve({ skipped: `the ${which} bench exited ${code}` });
      try {
        resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as unknown);
      } catch {
        resolve({ skipped: `the ${which} bench printed no JSON` });
      }
    });
  });
}

function describeInventory(value: unknown): string {
  const r = value as { skipped?: string; poolSize?: number; runs?: { adapter: string; concurrency: number; allocationsPerSecond: number; p95Ms: number; queriesPerAllocation: number }[] };
  if (r.skipped !== undefined) return `skipped: ${r.skipped}`;
  return `${r.poolSize}-number pool; ${(r.runs ?? []).map((x) => `${x.adapter} ×${x.concurrency}: ${x.allocationsPerSecond}/s, p95 ${x.p95Ms} ms, ${x.queriesPerAllocation} queries/allocation`).join('; ')}`;
}

function describePwsh(value: unknown): string {
  const r = value as { skipped?: string; pwshVersion?: string; coldStartMs?: { median: number }; connectMs?: { median: number }; roundTripMs?: Record<string, { median: number }> };
  if (r.skipped !== undefined) return `skipped: ${r.skipped}`;
  const trips = Object.entries(r.roundTripMs ?? {}).map(([k, v]) => `${k} ${v.median} ms`).join(', ');
  return `pwsh ${r.pwshVersion}: cold start ${r.coldStartMs?.median} ms, connect ${r.connectMs?.median} ms, median round trips ${trips}`;
}

async function main(args: string[]): Promise<void> {
  const people = positiveInt(argValue(args, '--people'), 10_000, '--people');
  const model = fieldLatencyModel;
  const part = argValue(args, '--part');
  if (part === 'inventory') {
    // The memory twin by default: importing a 100,000-number pool into Azurite takes longer than
    // the rest of the bench (hours on a loaded 2-core box, docs/PERFORMANCE.md); --inventory-azurite adds it.
    const { runInventoryBench } = await import('./inventory.js');
    const adapters: ('memory' | 'azurite')[] = args.includes('--inventory-azurite') ? ['memory', 'azurite'] : ['memory'];
    process.stdout.write(`${JSON.stringify(await runInventoryBench({ adapters }))}\n`);
    return;
  }
  if (part === 'pwsh') {
    const { measurePwsh } = await import('./pwsh.js');
    process.stdout.write(`${JSON.stringify(await measurePwsh())}\n`);
    return;
  }
  const scenario = argValue(args, '--scenario');
  if (scenario !== undefined) {
    process.stdout.write(`${JSON.stringify(await runScenario(scenario, people, model))}\n`);
    return;
  }
  const json = args.includes('--json');
  const log = (line: string) => (json ? process.stderr.write(`${line}\n`) : process.stdout.write(`${line}\n`));
  const steady = Math.max(10, Math.round(people / 10));
  // bulk at N (then the re-run), at N/3.3, N/10 (then the movers), N/33 and N/100: the
  // people-vs-time curve and the CPU growth; workers 1 / 2 / 4 with one session each at N/10.
  const plan: [string, number][] = [
    ['bulk+rerun', people],
    ['bulk', Math.max(10, Math.round(people / 3.33))],
    ['bulk+steady', steady],
    // Small bursts, where a batch operation's fixed minute weighs most (the curve's left end).
    ['bulk', Math.max(10, Math.round(people / 33.3))],
    ['bulk', Math.max(10, Math.round(people / 100))],
    ['workers-1', steady],
    ['workers-2', steady],
    ['workers-4', steady],
    // Side by side with bulk at N/3.3: the graph backend (issue 15 item 5).
    ['bulk-graph', Math.max(10, Math.round(people / 3.33))],
  ];
  const measured: Measurement[] = [];
  for (const [name, n] of plan) {
    log(`running ${name} with ${n} people …`);
    measured.push(...(await child(name, n)));
  }
  const scenarios = measured.map((m) => toScenario(m, model));
  const named = scenarios.map((s) => ({ ...s, name: s.name === 'bulk' || s.name === 'bulk-graph' ? `${s.name}-${s.people}` : s.name }));
  const bulk = named.filter((s) => /^bulk-\d+$/.test(s.name));
  const scaling = named.filter((s) => s.name.startsWith('workers-'));
  // The other parts of the report: the number inventory (issue 11 item 5) and real pwsh (what a
  // cmdlet costs this host in real time), each in its own child as well.
  let inventory: unknown;
  if (args.includes('--no-inventory')) inventory = { skipped: 'not asked for (--no-inventory)' };
  else {
    log('running the inventory bench …');
    inventory = await childJson('inventory', args.includes('--inventory-azurite') ? ['--inventory-azurite'] : []);
  }
  let pwsh: unknown;
  if (args.includes('--no-pwsh')) pwsh = { skipped: 'not asked for (--no-pwsh)' };
  else {
    log('running the pwsh bench …');
    pwsh = await childJson('pwsh');
  }
  const svg = chart(bulk, scaling);
  const svgPath = fileURLToPath(new URL('../../docs/performance.svg', import.meta.url));
  mkdirSync(dirname(svgPath), { recursive: true });
  writeFileSync(svgPath, svg);
  if (json) {
    process.stdout.write(`${JSON.stringify({ latencyModel: model, sessionLimit: TENANT_SESSION_LIMIT, scenarios: named, inventory, pwsh }, null, 2)}\n`);
    return;
  }
  log(`Latency model: ${describeLatencyModel(model)}; tenant session limit ${TENANT_SESSION_LIMIT}.`);
  const table = new Table({
    head: ['scenario', 'people', 'sim h', '× baseline', '× floor', 'Graph/event', 'cmdlets/p', 'writes/p', 'connects', 'CPU s', 'RSS MB', 'real s'],
  });
  for (const s of named) {
    table.push([
      s.name,
      s.people,
      (s.simulatedSeconds / 3600).toFixed(2),
      s.ratioToBaseline.toFixed(1),
      s.ratioToFloor.toFixed(2),
      s.graphRequestsPerEvent,
      s.cmdletsPerPerson,
      s.writeCmdletsPerPerson,
      s.connects,
      s.cpuSeconds,
      s.peakRssMb,
      s.realSeconds,
    ]);
  }
  log(table.toString());
  log(`Chart written to ${svgPath}.`);
  log(`Number inventory (test/bench/inventory.ts): ${describeInventory(inventory)}`);
  log(`Real pwsh (test/bench/pwsh.ts): ${describePwsh(pwsh)}`);
  // Extra sections of other parts of the sandbox, printed after the scenarios.
  const { benchMemoryBus } = await import('./bus-bench.js');
  await benchMemoryBus();
}

await main(process.argv.slice(2));
