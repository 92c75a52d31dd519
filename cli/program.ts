import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import type { BusClient } from '../shared/ports/bus.js';
import type { Directory } from '../shared/ports/directory.js';
import type { NumberInventory } from '../shared/ports/number-inventory.js';
import type { ProvisioningRecords } from '../shared/ports/provisioning-records.js';
import { systemSleeper, type Sleeper } from '../shared/ports/sleeper.js';
import type { DoctorProbes } from '../shared/usecases/doctor.js';
import type { PlanDeps } from '../shared/usecases/plan-voice.js';
import { completionCommand } from './commands/completion.js';
import { dlqCommand } from './commands/dlq.js';
import { doctorCommand } from './commands/doctor.js';
import { numbersCommand } from './commands/numbers.js';
import { planCommand } from './commands/plan.js';
import { policyCommand } from './commands/policy.js';
import { sandboxCommand } from './commands/sandbox.js';
import { statusCommand } from './commands/status.js';
import { tenantCommand, type GraphSubscriptionsHandle, type OpenTenantShell } from './commands/tenant.js';
import { tenantsCommand, type TenantsBackend } from './commands/tenants.js';
import { setupCommand, type OpenSetupBackend } from './commands/setup.js';
import { certCommand } from './commands/cert.js';
import { CliContext } from './context.js';
import { describeFailure } from './errors.js';
import type { CliIo } from './io.js';
import { outputFormats } from './output.js';
import { findPeople, resolvePerson, type Person, type PersonSources } from './people.js';
import type { SandboxWorld } from './sandbox-deps.js';
import { SandboxSession } from './sandbox-session.js';

export interface ProgramDeps {
  /** The Service Bus to operate on; by default the real one named by DIALTONE_SERVICEBUS_NAMESPACE. */
  bus?: () => Promise<BusClient>;
  /** The number inventory; by default Table Storage named by DIALTONE_TABLES_ENDPOINT. */
  inventory?: () => Promise<NumberInventory>;
  /** Provisioning records for `dialtone status`; by default Table Storage. */
  records?: () => Promise<ProvisioningRecords>;
  /** Entra ID for the person resolver; by default Graph. */
  directory?: () => Promise<Directory | undefined>;
  /** What `dialtone plan` reads; by default Graph, the policy files and Table Storage. */
  plan?: () => Promise<PlanDeps>;
  /** What `dialtone doctor` checks; by default the real deployment named by the settings. */
  doctor?: () => Promise<DoctorProbes>;
  /** The tenant registry and the implicit tenant; by default Table Storage and the settings. */
  tenants?: () => Promise<TenantsBackend>;
  /** The real clock (tests pin it). */
  now?: () => Date;
  /** Whether standard input is a terminal (tests pin it). */
  stdinIsTTY?: () => boolean;
  /** The Teams PowerShell session `dialtone tenant` uses; by default the worker host's pwsh. */
  tenantShell?: OpenTenantShell;
  /** Dialtone's Graph subscriptions for `dialtone tenant unlink`; by default Graph. */
  graphSubscriptions?: () => Promise<GraphSubscriptionsHandle>;
  /** Entra and Key Vault for `dialtone setup` / `cert`; by default Graph and Key Vault as the operator. */
  setup?: OpenSetupBackend;
  /** The backoff of a command's retries (a peek Service Bus answered ServiceBusy); real time by default (tests pin it). */
  sleeper?: Sleeper;
}

/** Where each command gets what it works on: the sandbox under --sandbox DIR, else Azure (or the test's stand-ins). */
export interface Backends {
  bus(): Promise<BusClient>;
  inventory(): Promise<NumberInventory>;
  records(): Promise<ProvisioningRecords>;
  plan(): Promise<PlanDeps>;
  doctor(): Promise<DoctorProbes>;
  tenants(): Promise<TenantsBackend>;
  /** The one person resolver: UPN, object id, employee id or mail; with a tenant id, among that tenant's people only. */
  person(who: string, tenantId?: string): Promise<Person>;
  /** All people a name could mean (none is not an error); with a tenant id, that tenant's only. */
  people(who: string, tenantId?: string): Promise<Person[]>;
  /** A Teams PowerShell session for tenant set-up (`dialtone tenant`). */
  tenantShell: OpenTenantShell;
  /** Dialtone's Graph subscriptions (`dialtone tenant unlink`). */
  graphSubscriptions(): Promise<GraphSubscriptionsHandle>;
  /** Entra through Graph and the Key Vault (`dialtone setup`, `dialtone cert`). */
  setup: OpenSetupBackend;
  /** Resources a command opened (a simulated Graph) are closed after it. */
  cleanup(): Promise<void>;
  /** Waits between a command's retries of a transient answer (real time). */
  sleeper: Sleeper;
}

function packageVersion(): string {
  // cli/program.ts and dist/cli/program.js both find the package.json of the repository root.
  for (const up of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'dialtone' && pkg.version) return pkg.version;
    } catch {
      // not there: try the next level up
    }
  }
  return '0.0.0';
}

/** Every command of the tree reports through the io and throws instead of exiting the process. */
function wire(command: Command, io: CliIo): void {
  command.exitOverride();
  command.configureOutput({
    writeOut: (text) => io.out(text.replace(/\n$/, '')),
    writeErr: (text) => io.err(text.replace(/\n$/, '')),
  });
  command.showHelpAfterError('(add --help for usage and examples)');
  for (const sub of command.commands) wire(sub, io);
}

/** The `dialtone` command tree. */
export function buildProgram(io: CliIo, deps: ProgramDeps = {}): Command {
  const program = new Command('dialtone')
    .description('Provision Microsoft Teams Phone (Direct Routing) from HR and Entra ID events')
    .version(packageVersion(), '-v, --version', 'print the version')
    .addOption(new Option('-o, --output <format>', 'output format').choices(outputFormats))
    .option('--json', 'the same as -o json')
    .option('--sandbox <dir>', 'work on the state of `dialtone sandbox run --state DIR` (and its clock) instead of Azure')
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false });
  let session: SandboxSession | undefined;
  const local = (): SandboxSession | undefined => {
    const dir = program.opts<{ sandbox?: string }>().sandbox;
    if (dir) session ??= new SandboxSession(dir);
    return session;
  };
  const ctx = new CliContext(io, program, local, deps.now, deps.stdinIsTTY);
  const cleanups: (() => Promise<void>)[] = [];
  let worldPromise: Promise<SandboxWorld> | undefined;
  const world = (s: SandboxSession) => {
    worldPromise ??= import('./sandbox-deps.js').then(async (m) => {
      const w = await m.sandboxWorld(s);
      cleanups.push(() => w.close());
      return w;
    });
    return worldPromise;
  };
  const azure = () => import('./azure.js');
  const backends: Backends = {
    bus: async () => local()?.busClient() ?? (deps.bus ?? (async () => (await azure()).realBus()))(),
    inventory: async () => local()?.inventory() ?? (deps.inventory ?? (async () => (await azure()).realInventory()))(),
    records: async () => local()?.records() ?? (deps.records ?? (async () => (await azure()).realRecords()))(),
    plan: async () => {
      const s = local();
      if (s) return (await import('./sandbox-deps.js')).sandboxPlanDeps(s, await world(s));
      return (deps.plan ?? (async () => (await azure()).realPlanDeps()))();
    },
    doctor: async () => {
      const s = local();
      if (s) return (await import('./sandbox-deps.js')).sandboxProbes(s, (await s.runInputs()) ? await world(s) : undefined, (close) => cleanups.push(close));
      return (deps.doctor ?? (async () => (await azure()).realProbes()))();
    },
    tenantShell: async (identity) => {
      const shells = await import('./tenant-shell.js');
      const s = local();
      return s ? shells.sandboxTenantShell(s, identity) : (deps.tenantShell ?? shells.realTenantShell)(identity);
    },
    graphSubscriptions: async () => {
      const s = local();
      if (s) return (await import('./tenant-shell.js')).sandboxGraphSubscriptions(s);
      return (deps.graphSubscriptions ?? (async () => (await azure()).realGraphSubscriptions()))();
    },
    setup: async () => {
      const s = local();
      if (s) return (await import('./sandbox-setup.js')).sandboxSetupBackend(s);
      return (deps.setup ?? (async () => (await azure()).realSetup()))();
    },
    tenants: async () => local()?.tenants() ?? (deps.tenants ?? (async () => (await azure()).realTenants()))(),
    person: (who, tenantId) => resolvePerson(who, sources(), tenantId),
    people: (who, tenantId) => findPeople(who, sources(), tenantId),
    cleanup: async () => {
      for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
    },
    sleeper: deps.sleeper ?? systemSleeper,
  };
  const sources = (): PersonSources => ({
    directory: async () => {
      const s = local();
      if (s) return (await s.runInputs()) ? (await world(s)).directory : undefined;
      if (deps.directory) return deps.directory();
      if (deps.records) return undefined; // a test that gave records and no directory
      return (await azure()).realDirectory();
    },
    records: () => backends.records(),
    defaultTenantId: async () => (await backends.tenants()).implicit.tenantId,
  });
  program.hook('postAction', async () => {
    await backends.cleanup();
  });

  program.addCommand(sandboxCommand(ctx));
  program.addCommand(dlqCommand(ctx, backends));
  program.addCommand(numbersCommand(ctx, backends));
  program.addCommand(statusCommand(ctx, backends));
  program.addCommand(planCommand(ctx, backends));
  program.addCommand(doctorCommand(ctx, backends));
  program.addCommand(policyCommand(ctx, backends));
  program.addCommand(tenantCommand(ctx, backends));
  program.addCommand(tenantsCommand(ctx, backends));
  program.addCommand(setupCommand(ctx, () => backends.setup()));
  program.addCommand(certCommand(ctx, () => backends.setup()));
  program.addCommand(completionCommand(program, io));
  program.addHelpText(
    'after',
    `
Output: -o table (default), json, jsonl, tsv or none on every command; results on stdout,
progress and errors on stderr. Exit codes: 0 ok, 1 a check or operation failed, 2 usage or
unusable input.

Examples:
  $ dialtone sandbox run --tenant sandbox/data/tenant.json --events sandbox/data/hr-events.ndjson --state .sandbox-state
  $ dialtone numbers list --sandbox .sandbox-state --top 20
  $ dialtone dlq list -o jsonl | head
  $ source <(dialtone completion bash)
`,
  );
  wire(program, io);
  opened.set(program, backends);
  return program;
}

const opened = new WeakMap<Command, Backends>();

/** Runs one command line; returns (and sets through io.exit) the exit code. */
export async function runCli(io: CliIo, argv: string[], deps: ProgramDeps = {}): Promise<number> {
  let code = 0;
  const tracked: CliIo = Object.assign(Object.create(io) as CliIo, {
    exit: (c: number) => {
      code = c;
      io.exit(c);
    },
  });
  const program = buildProgram(tracked, deps);
  try {
    await program.parseAsync(argv);
  } catch (error) {
    await opened.get(program)?.cleanup();
    const failure = describeFailure(error);
    if (failure.message) io.err(`dialtone: ${failure.message}`);
    tracked.exit(failure.code);
  }
  return code;
}
