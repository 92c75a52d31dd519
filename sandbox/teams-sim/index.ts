/**
 * The Teams simulator: one simulated tenant in this process, served to any number of `pwsh`
 * stand-in processes. The worker spawns `pwshCommand` exactly where it would spawn pwsh.
 */
import type { Clock } from '../../shared/ports/clock.js';
import type { FaultRule, LatencyMs } from './faults.js';
import { TeamsSimServer, type SimulatedTime, type TeamsCallRecord, type TeamsMetrics } from './server.js';
import { SimTenant } from './tenant.js';
import { parseSandboxTenantFile, type SandboxTenantFile } from './tenant-file.js';
import { SIM_URL_ENV } from './wire.js';
import { standinScript } from './standin-command.js';

export type { FaultKind, FaultRule, LatencyMs } from './faults.js';
export { FaultRuleSchema } from './faults.js';
export type { SimulatedTime, TeamsCallRecord, TeamsMetrics } from './server.js';
export type { PhoneNumberRow, SimUserView } from './tenant.js';
export { SimTenant } from './tenant.js';
export { TeamsTenantStateSchema, type TeamsTenantState } from './tenant-state.js';
export { SandboxTenantFileSchema, type SandboxTenantFile } from './tenant-file.js';

export interface TeamsSimulatorOptions {
  tenant: SandboxTenantFile;
  /** Further tenants behind the same stand-in (a sandbox with several tenants); each session works in the tenant it connected to. */
  extraTenants?: readonly SandboxTenantFile[];
  clock: Clock;
  /** Real milliseconds each request waits, by kind; defaults to the tenant file's teamsSimulator.latencyMs, else 0. */
  latencyMs?: LatencyMs;
  /** Charge the latency model on the sandbox clock instead (then latencyMs is not used). */
  simulatedTime?: SimulatedTime;
  /** Defaults to the tenant file's teamsSimulator.faults. */
  faults?: FaultRule[];
  seed?: number;
  /** A state saved by `tenant.exportState()` in an earlier run, to continue from. */
  state?: unknown;
  /** The same for further tenants, by lower-case tenant id. */
  extraStates?: Record<string, unknown>;
  /** Sandbox time at which licensedAfterMs / appearsAfterMs count from; defaults to clock.startedAt (SimClock) or now. */
  startedAtMs?: number;
  /** Where the server listens; default 127.0.0.1 on a random port. */
  listen?: { host: string; port: number };
  /** Each cmdlet a session ran, with its start and end on `clock` (the bench's timeline, order-of-events tests). */
  trace?: (call: TeamsCallRecord) => void;
}

export interface TeamsSimulator {
  /** How to start one pwsh stand-in: spawn(command, args, { env: { ...process.env, ...env } }). */
  pwshCommand: { command: string; args: string[]; env: Record<string, string> };
  tenant: SimTenant;
  /** Every tenant served, the first one first. */
  tenants: readonly SimTenant[];
  metrics(): TeamsMetrics;
  setFaults(faults: FaultRule[]): void;
  setLatency(latencyMs: LatencyMs): void;
  /** Stand-ins currently attached to the server (started and not yet exited). */
  liveProcesses(): number;
  /** Live stand-ins hung on a cmdlet (a `hang` fault), until their process is killed. */
  hungProcesses(): number;
  /** Live stand-ins that have completed Connect-MicrosoftTeams. */
  connectedSessions(): number;
  /** The certificate thumbprint each of those connected with (undefined unless Entra checks certificates); of one tenant's sessions when `tenantId` is given. */
  connectedThumbprints(tenantId?: string): (string | undefined)[];
  close(): Promise<void>;
}


export async function startTeamsSimulator(options: TeamsSimulatorOptions): Promise<TeamsSimulator> {
  const file = parseSandboxTenantFile(options.tenant);
  const batchMs = options.simulatedTime
    ? (users: number) => options.simulatedTime!.model.batchOperationMs + users * options.simulatedTime!.model.batchOperationPerUserMs
    : undefined;
  const tenant = new SimTenant(file, options.clock, options.startedAtMs, batchMs);
  if (options.state !== undefined) tenant.importState(options.state);
  const others = (options.extraTenants ?? []).map((t) => {
    const other = new SimTenant(parseSandboxTenantFile(t), options.clock, options.startedAtMs, batchMs);
    const kept = options.extraStates?.[t.tenantId.toLowerCase()];
    if (kept !== undefined) other.importState(kept);
    return other;
  });
  const settings = file.teamsSimulator;
  const latencyMs = options.latencyMs ?? settings?.latencyMs;
  const faults = options.faults ?? settings?.faults;
  const seed = options.seed ?? settings?.seed;
  const standin = await standinScript();
  const server = await TeamsSimServer.start({
    tenant,
    ...(others.length > 0 ? { others } : {}),
    ...(latencyMs === undefined ? {} : { latencyMs }),
    ...(faults === undefined ? {} : { faults }),
    ...(seed === undefined ? {} : { seed }),
    ...(options.simulatedTime ? { simulatedTime: options.simulatedTime } : {}),
    ...(options.listen ? { listen: options.listen } : {}),
    ...(options.trace ? { trace: { clock: options.clock, record: options.trace } } : {}),
  });
  return {
    pwshCommand: { command: process.execPath, args: [standin], env: { [SIM_URL_ENV]: server.baseUrl } },
    tenant,
    tenants: [tenant, ...others],
    metrics: () => server.metrics(),
    setFaults: (rules) => server.setFaults(rules),
    setLatency: (latency) => server.setLatency(latency),
    liveProcesses: () => server.liveProcesses(),
    hungProcesses: () => server.hungProcesses(),
    connectedSessions: () => server.connectedSessions(),
    connectedThumbprints: (tenantId) => server.connectedThumbprints(tenantId),
    close: () => server.close(),
  };
}
