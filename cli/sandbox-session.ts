import { createMemoryNumberInventory } from '../shared/adapters/memory-number-inventory.js';
import { createMemoryProvisioningRecords } from '../shared/adapters/memory-provisioning-records.js';
import { createMemoryTableService, type MemoryTableService } from '../shared/adapters/memory-table-client.js';
import type { BusClient } from '../shared/ports/bus.js';
import type { NumberInventory } from '../shared/ports/number-inventory.js';
import type { ProvisioningRecords } from '../shared/ports/provisioning-records.js';
import { MemoryBus } from '../sandbox/bus/memory-bus.js';
import { SimClock } from '../sandbox/clock.js';
import { sandboxQueues } from '../sandbox/host/sandbox.js';
import { readSandboxState, writeSandboxState, type SandboxState } from '../sandbox/host/state.js';

/**
 * `--sandbox DIR`: the operator commands (dlq, numbers, status) work on the state a
 * `sandbox run --state DIR` left, and write their changes back, so a replay is picked up by the
 * next `sandbox run --state DIR`.
 */
export class SandboxSession {
  private state: SandboxState | undefined;
  private bus: MemoryBus | undefined;
  private tables: MemoryTableService | undefined;
  private teams: { value: unknown } | undefined;

  constructor(private readonly dir: string) {}

  private async load(): Promise<SandboxState> {
    this.state ??= await readSandboxState(this.dir);
    if (!this.state) throw new Error(`${this.dir} holds no sandbox state: run dialtone sandbox run --state ${this.dir} first`);
    return this.state;
  }

  async busClient(): Promise<BusClient> {
    const state = await this.load();
    if (!this.bus) {
      const clock = new SimClock(new Date(state.clock.startedAt));
      clock.advanceTo(state.clock.now);
      this.bus = new MemoryBus(clock, sandboxQueues);
      this.bus.restore(state.bus);
    }
    return this.bus;
  }

  private async service(): Promise<MemoryTableService> {
    this.tables ??= createMemoryTableService((await this.load()).tables);
    return this.tables;
  }

  async inventory(): Promise<NumberInventory> {
    return createMemoryNumberInventory({ service: await this.service() });
  }

  async records(): Promise<ProvisioningRecords> {
    return createMemoryProvisioningRecords({ service: await this.service() });
  }

  /** The simulated Teams tenant's saved state, and the clock it was saved at. */
  async teamsState(): Promise<{ teams: unknown; clock: SandboxState['clock'] }> {
    const state = await this.load();
    return { teams: this.teams?.value ?? state.teams, clock: state.clock };
  }

  /** Replaces the Teams tenant's state; written back by save(). */
  setTeamsState(value: unknown): void {
    this.teams = { value };
  }

  /** Writes back what the command changed. */
  async save(): Promise<void> {
    if (!this.state || (!this.bus && !this.tables && !this.teams)) return;
    await writeSandboxState(this.dir, {
      ...this.state,
      ...(this.teams ? { teams: this.teams.value } : {}),
      ...(this.bus ? { bus: this.bus.snapshot() } : {}),
      ...(this.tables ? { tables: this.tables.snapshot() } : {}),
    });
  }
}
