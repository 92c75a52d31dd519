/**
 * `npm run bench`: how much the warm PowerShell pool saves over the per-person
 * connect-and-run pattern of classic connectors, measured in one run on the same simulated
 * tenant with the same Teams latencies. Figures are ratios against the baseline of this run,
 * not absolute times (they depend on the machine).
 */
import { parseVoicePolicy } from '../../shared/domain/policy.js';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Table from 'cli-table3';
import { runSandbox, type SandboxOptions } from '../../sandbox/host/sandbox.js';
import { SandboxTenantFileSchema } from '../../sandbox/teams-sim/tenant-file.js';
import type { SandboxInputs } from '../../sandbox/host/inputs.js';

const PEOPLE = Number(process.env.BENCH_PEOPLE ?? 24);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
/** Teams latencies in ms: Connect-MicrosoftTeams is the expensive part in the field. */
const LATENCY = { connect: 400, read: 15, write: 40 };

const data = (name: string) => readFileSync(fileURLToPath(new URL(`../../sandbox/data/${name}`, import.meta.url)), 'utf8');

function benchInputs(): SandboxInputs {
  const base = JSON.parse(data('tenant.json')) as Record<string, unknown>;
  const users = Array.from({ length: PEOPLE }, (_, i) => ({
    id: `00000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`,
    userPrincipalName: `person${i + 1}@contoso.example`,
    employeeId: `B${i + 1}`,
    department: 'Sales',
    officeLocation: i % 2 === 0 ? 'AMS' : 'RTM',
    accountEnabled: true,
    servicePlans: ['TEAMS1', 'MCOEV'],
    teams: { enterpriseVoiceEnabled: false, lineUri: null, policies: {} },
  }));
  const eventLines = users.map((u, i) =>
    JSON.stringify({
      eventId: `bench-${i + 1}`,
      type: 'joiner',
      occurredAt: '2026-11-02T08:00:00Z',
      person: { employeeId: u.employeeId, userPrincipalName: u.userPrincipalName, site: u.officeLocation, departmentId: i % 2 === 0 ? 'DEPT001' : 'DEPT002' },
    }),
  );
  return {
    tenant: SandboxTenantFileSchema.parse({ ...base, users, externalAssignments: [] }),
    eventLines,
    policy: parseVoicePolicy(data('voice-policy.yaml'), 'yaml', 'voice-policy.yaml'),
    pools: JSON.parse(data('numbers.json')).pools,
    sources: { tenant: 'bench', events: 'bench', policy: 'voice-policy.yaml', numbers: 'numbers.json' },
  };
}

interface Variant {
  name: string;
  options: SandboxOptions;
}

const common: SandboxOptions = { storage: 'memory', teams: { latencyMs: LATENCY } };
const variants: Variant[] = [
  {
    name: 'baseline: connect per person, one at a time (classic connector)',
    options: { ...common, workerTuning: { maxSessions: 1, maxSessionsPerTenant: 1, concurrentSessions: 1, maxSessionAgeMs: 1 } },
  },
  {
    name: 'warm pool, one session',
    options: { ...common, workerTuning: { maxSessions: 1, maxSessionsPerTenant: 1, concurrentSessions: 1 } },
  },
  {
    name: 'warm pool, four sessions (default)',
    options: { ...common, workerTuning: { maxSessions: 4, maxSessionsPerTenant: 4, concurrentSessions: 4 } },
  },
];

async function measure(variant: Variant) {
  const inputs = benchInputs();
  const started = process.hrtime.bigint();
  const { report } = await runSandbox(inputs, variant.options);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const provisioned = report.users.filter((u) => u.teams.lineUri).length;
  if (provisioned !== PEOPLE) throw new Error(`${variant.name}: only ${provisioned} of ${PEOPLE} provisioned`);
  return { ms, connects: report.metrics.connects, cmdlets: report.metrics.cmdlets };
}

const results: { name: string; ms: number; connects: number; cmdlets: number }[] = [];
for (const variant of variants) {
  const runs = [];
  for (let r = 0; r < ROUNDS; r++) runs.push(await measure(variant));
  const best = runs.reduce((a, b) => (a.ms <= b.ms ? a : b));
  results.push({ name: variant.name, ...best });
}
const baseline = results[0]!;
const table = new Table({ head: ['variant', 'connects', 'cmdlets', 'speed-up vs baseline', 'ms (this machine)'] });
for (const r of results) {
  table.push([r.name, r.connects, r.cmdlets, `${(baseline.ms / r.ms).toFixed(2)}×`, Math.round(r.ms)]);
}
console.log(`${PEOPLE} joiners, Teams latency connect ${LATENCY.connect} ms / read ${LATENCY.read} ms / write ${LATENCY.write} ms, best of ${ROUNDS}`);
console.log(table.toString());

const { benchMemoryBus } = await import('./bus-bench.js');
await benchMemoryBus();
