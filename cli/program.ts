import { DefaultAzureCredential } from '@azure/identity';
import { ServiceBusClient } from '@azure/service-bus';
import { Command } from 'commander';
import { createTableNumberInventory } from '../shared/adapters/table-number-inventory.js';
import { loadOperatorSettings, required } from '../shared/config/settings.js';
import type { BusClient } from '../shared/ports/bus.js';
import type { NumberInventory } from '../shared/ports/number-inventory.js';
import type { ProvisioningRecords } from '../shared/ports/provisioning-records.js';
import { createTableProvisioningRecords } from '../shared/adapters/table-provisioning-records.js';
import { dlqCommand } from './commands/dlq.js';
import { doctorCommand } from './commands/doctor.js';
import { numbersCommand } from './commands/numbers.js';
import { planCommand } from './commands/plan.js';
import { sandboxCommand } from './commands/sandbox.js';
import { statusCommand } from './commands/status.js';
import { tenantCommand, type OpenTenantShell } from './commands/tenant.js';
import { realTenantShell, sandboxTenantShell } from './tenant-shell.js';
import type { DoctorProbes } from '../shared/usecases/doctor.js';
import { realDoctorProbes } from './doctor-probes.js';
import type { CliIo } from './io.js';
import { createFilePolicyCatalog } from '../shared/adapters/file-policy-catalog.js';
import { createGraphDirectory } from '../shared/adapters/graph-directory.js';
import { loadVoicePolicyFile } from '../shared/adapters/policy-file.js';
import { systemClock } from '../shared/ports/clock.js';
import type { PlanDeps } from '../shared/usecases/plan-voice.js';
import { SandboxSession } from './sandbox-session.js';

export interface ProgramDeps {
  /** The Service Bus to operate on; by default the real one named by DIALTONE_SERVICEBUS_NAMESPACE. */
  bus?: () => Promise<BusClient>;
  /** The number inventory; by default Table Storage named by DIALTONE_TABLES_ENDPOINT. */
  inventory?: () => Promise<NumberInventory>;
  /** Provisioning records for `dialtone status`; by default Table Storage. */
  records?: () => Promise<ProvisioningRecords>;
  /** What `dialtone plan` reads; by default Graph, the policy files and Table Storage. */
  plan?: () => Promise<PlanDeps>;
  /** What `dialtone doctor` checks; by default the real deployment named by the settings. */
  doctor?: () => Promise<DoctorProbes>;
  /** The Teams PowerShell session `dialtone tenant` uses; by default the worker host's pwsh. */
  tenantShell?: OpenTenantShell;
}

async function realProbes(): Promise<DoctorProbes> {
  let settings;
  try {
    settings = loadOperatorSettings();
  } catch (error) {
    return { settingsProblems: [(error as Error).message], skipped: [] };
  }
  const credential = new DefaultAzureCredential();
  const tables = settings.tables;
  const namespace = settings.serviceBusNamespace;
  return realDoctorProbes(settings, credential, {
    ...(namespace ? { bus: () => new ServiceBusClient(namespace, credential) } : {}),
    ...(tables
      ? { inventory: () => createTableNumberInventory('endpoint' in tables ? { endpoint: tables.endpoint, credential } : tables) }
      : {}),
  });
}

async function realBus(): Promise<BusClient> {
  const settings = loadOperatorSettings();
  const namespace = required(settings.serviceBusNamespace, 'DIALTONE_SERVICEBUS_NAMESPACE', 'dialtone dlq');
  return new ServiceBusClient(namespace, new DefaultAzureCredential());
}

function tableOptions(command: string) {
  const tables = required(loadOperatorSettings().tables, 'DIALTONE_TABLES_ENDPOINT', command);
  return 'endpoint' in tables ? { endpoint: tables.endpoint, credential: new DefaultAzureCredential() } : tables;
}

async function realInventory(): Promise<NumberInventory> {
  return createTableNumberInventory(tableOptions('dialtone numbers'));
}

async function realPlanDeps(): Promise<PlanDeps> {
  const settings = loadOperatorSettings();
  const credential = new DefaultAzureCredential();
  return {
    directory: createGraphDirectory({ baseUrl: settings.graphBaseUrl, credential }),
    records: await realRecords(),
    inventory: await realInventory(),
    catalog: createFilePolicyCatalog(settings.policyCatalogPath),
    policy: await loadVoicePolicyFile(settings.policyPath),
    clock: systemClock,
    snapshotMaxAgeMs: 0,
    reservationTtlMs: 0,
  };
}

async function realRecords(): Promise<ProvisioningRecords> {
  return createTableProvisioningRecords(tableOptions('dialtone status'));
}

/** The `dialtone` command tree. */
export function buildProgram(io: CliIo, deps: ProgramDeps = {}): Command {
  const program = new Command('dialtone')
    .description('Provision Microsoft Teams Phone (Direct Routing) from HR and Entra ID events')
    .option('--sandbox <dir>', 'work on the state of `dialtone sandbox run --state DIR` instead of Azure')
    .showHelpAfterError();
  let session: SandboxSession | undefined;
  const sandboxDir = (): string | undefined => program.opts<{ sandbox?: string }>().sandbox;
  const local = (): SandboxSession | undefined => {
    const dir = sandboxDir();
    if (dir) session ??= new SandboxSession(dir);
    return session;
  };
  // A persisted sandbox stands in for the Service Bus and the tables; the command's changes are saved after it.
  const bus = async (): Promise<BusClient> => local()?.busClient() ?? (deps.bus ?? realBus)();
  const inventory = async (): Promise<NumberInventory> => local()?.inventory() ?? (deps.inventory ?? realInventory)();
  const records = async (): Promise<ProvisioningRecords> => local()?.records() ?? (deps.records ?? realRecords)();
  program.hook('postAction', async () => {
    await session?.save();
  });

  program.addCommand(sandboxCommand(io));
  program.addCommand(dlqCommand(bus, io));
  program.addCommand(numbersCommand(inventory, io));
  program.addCommand(doctorCommand(deps.doctor ?? realProbes, io));
  program.addCommand(planCommand(deps.plan ?? realPlanDeps, io));
  program.addCommand(
    tenantCommand(async () => {
      const sandbox = local();
      return sandbox ? sandboxTenantShell(sandbox) : (deps.tenantShell ?? realTenantShell)();
    }, io),
  );
  program.addCommand(statusCommand(async () => ({ records: await records(), inventory: await inventory() }), io));
  return program;
}
