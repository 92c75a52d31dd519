import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MemoryTableService } from '../shared/adapters/memory-table-client.js';
import type { BusClient } from '../shared/ports/bus.js';
import type { NumberInventory } from '../shared/ports/number-inventory.js';
import type { ProvisioningRecords } from '../shared/ports/provisioning-records.js';
import type { WorkerReports } from '../shared/ports/worker-reports.js';
import { MemoryBus } from '../sandbox/bus/memory-bus.js';
import { SimClock } from '../sandbox/clock.js';
import { readSandboxState, writeSandboxState, type SandboxState } from '../sandbox/host/state.js';
import type { TenantsBackend } from './commands/tenants.js';
import { UsageError } from './errors.js';

/**
 * The inputs of the last `sandbox run --state DIR`, kept beside the state so that `plan`,
 * `doctor`, `policy validate` and the person resolver can work on the same tenant and policy.
 */
export interface SandboxRunInputs {
  version: 1;
  /** Each tenant file as it was read (validated by the run). */
  tenants: unknown[];
  policy: { file: string; text: string };
  /** The voice policy of each tenant whose tenant file names one (`voicePolicy`), by lower-case tenant id. */
  tenantPolicies?: Record<string, { file: string; text: string }>;
  /** The run's --teams-backend (runs before it was kept: powershell). */
  teamsBackend?: 'powershell' | 'graph';
}

const INPUTS = 'sandbox-inputs.json';

export async function writeSandboxInputs(dir: string, inputs: SandboxRunInputs): Promise<void> {
  const target = join(dir, INPUTS);
  await writeFile(`${target}.tmp`, JSON.stringify(inputs));
  await rename(`${target}.tmp`, target);
}

/** The inputs a `sandbox run --state DIR` kept, if any. */
export async function readSandboxInputs(dir: string): Promise<SandboxRunInputs | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, INPUTS), 'utf8')) as SandboxRunInputs;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * `--sandbox DIR`: every operator command works on the state a `sandbox run --state DIR` left,
 * on the sandbox's simulated clock, and a command that changes something writes it back with
 * `commit()` (before it prints), so a replay is picked up by the next `sandbox run --state DIR`.
 */
export class SandboxSession {
  private state: SandboxState | undefined;
  private bus: MemoryBus | undefined;
  private tables: MemoryTableService | undefined;
  private teams: { value: unknown } | undefined;
  private graph: { value: unknown } | undefined;
  private setup: { value: unknown } | undefined;
  /** The state of a sandbox this command hosted (its workers ran): written back whole. */
  private hosted: SandboxState | undefined;
  private inputs: SandboxRunInputs | undefined;

  constructor(readonly dir: string) {}

  private async load(): Promise<SandboxState> {
    this.state ??= await readSandboxState(this.dir);
    if (!this.state) throw new UsageError(`${this.dir} holds no sandbox state: run dialtone sandbox run --state ${this.dir} first`);
    return this.state;
  }

  /** The whole kept state, to host the sandbox on it (`cert rotate` runs its workers). */
  async runState(): Promise<SandboxState> {
    return this.load();
  }

  /** What a sandbox hosted by this command ended in (its queues, tables, Teams tenant and clock); written back by save(). */
  setHostedState(state: SandboxState): void {
    this.hosted = state;
  }

  /** The sandbox's simulated clock where the last run left it. */
  async clock(): Promise<SimClock> {
    const state = await this.load();
    const clock = new SimClock(new Date(state.clock.startedAt));
    clock.advanceTo(state.clock.now);
    return clock;
  }

  async now(): Promise<Date> {
    return new Date((await this.load()).clock.now);
  }

  /** The tenant files and policy of the run, when that run kept them (older states did not). */
  async runInputs(): Promise<SandboxRunInputs | undefined> {
    if (this.inputs) return this.inputs;
    try {
      this.inputs = JSON.parse(await readFile(join(this.dir, INPUTS), 'utf8')) as SandboxRunInputs;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    return this.inputs;
  }

  async busClient(): Promise<BusClient> {
    if (!this.bus) {
      const state = await this.load();
      // The sandbox host pulls in every simulator: loaded only by the commands that need the queues.
      const { sandboxQueues } = await import('../sandbox/host/sandbox.js');
      this.bus = new MemoryBus(await this.clock(), sandboxQueues);
      this.bus.restore(state.bus);
    }
    return this.bus;
  }

  private async service(): Promise<MemoryTableService> {
    const { createMemoryTableService } = await import('../shared/adapters/memory-table-client.js');
    this.tables ??= createMemoryTableService((await this.load()).tables);
    return this.tables;
  }

  async inventory(): Promise<NumberInventory> {
    const { createMemoryNumberInventory } = await import('../shared/adapters/memory-number-inventory.js');
    const first = (await this.runInputs())?.tenants[0] as { tenantId?: unknown } | undefined;
    return createMemoryNumberInventory({ service: await this.service(), ...(typeof first?.tenantId === 'string' ? { defaultTenantId: first.tenantId } : {}) });
  }

  async records(): Promise<ProvisioningRecords> {
    const { createMemoryProvisioningRecords } = await import('../shared/adapters/memory-provisioning-records.js');
    return createMemoryProvisioningRecords({ service: await this.service() });
  }

  /** What workers reported of their certificate (`cert rotate`), in the kept `sessionslots` table. */
  async workerReports(): Promise<WorkerReports> {
    const { createEntityWorkerReports } = await import('../shared/adapters/entity-worker-reports.js');
    return createEntityWorkerReports((await this.service()).table('sessionslots'));
  }

  /** The simulated Teams tenant's saved state, and the clock it was saved at. */
  async teamsState(): Promise<{ teams: unknown; clock: SandboxState['clock'] }> {
    const state = await this.load();
    return { teams: this.teams?.value ?? state.teams, clock: state.clock };
  }

  /** The simulated Graph's saved state (its subscriptions), if any. */
  async graphState(): Promise<unknown> {
    return this.graph?.value ?? (await this.load()).graph;
  }

  /** Replaces the simulated Graph's state (`dialtone tenant unlink`); written back by save(). */
  setGraphState(value: unknown): void {
    this.graph = { value };
  }

  /** What `dialtone setup` / `cert rotate` left in the sandbox (cli/sandbox-setup.ts), if anything. */
  async setupState(): Promise<unknown> {
    return this.setup?.value ?? (await this.load()).setup;
  }

  setSetupState(value: unknown): void {
    this.setup = { value };
  }

  /** Replaces the Teams tenant's state (`dialtone tenant apply`); written back by save(). */
  setTeamsState(value: unknown): void {
    this.teams = { value };
  }

  /**
   * The tenant registry kept in the sandbox's tables, and the implicit tenant: the run's (first)
   * tenant file, which owns everything written without a tenantId.
   */
  async tenants(): Promise<TenantsBackend> {
    const { createMemoryTenantRegistry } = await import('../shared/adapters/entity-tenant-registry.js');
    const { implicitTenant } = await import('../shared/domain/tenants.js');
    const first = (await this.runInputs())?.tenants[0] as { tenantId?: unknown } | undefined;
    return {
      registry: createMemoryTenantRegistry(await this.service()),
      implicit: implicitTenant({ tenantId: typeof first?.tenantId === 'string' ? first.tenantId : undefined }),
    };
  }

  /** Writes back what the command changed (the queues, the tables and the Teams tenant it opened). */
  async save(): Promise<void> {
    if (!this.state || (!this.bus && !this.tables && !this.teams && !this.graph && !this.setup && !this.hosted)) return;
    await writeSandboxState(this.dir, {
      ...this.state,
      ...this.hosted,
      ...(this.teams ? { teams: this.teams.value } : {}),
      ...(this.graph ? { graph: this.graph.value } : {}),
      ...(this.setup ? { setup: this.setup.value } : {}),
      ...(this.bus ? { bus: this.bus.snapshot() } : {}),
      ...(this.tables ? { tables: this.tables.snapshotForStorage() } : {}),
    });
  }
}
