import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { loadSandboxInputs, SandboxInputError } from '../../sandbox/host/inputs.js';
import { formatReport } from '../../sandbox/host/report.js';
import { runSandbox } from '../../sandbox/host/sandbox.js';
import { readSandboxState, writeSandboxState } from '../../sandbox/host/state.js';
import type { CliIo } from '../io.js';

export const bundledData = {
  tenant: fileURLToPath(new URL('../../sandbox/data/tenant.json', import.meta.url)),
  events: fileURLToPath(new URL('../../sandbox/data/hr-events.ndjson', import.meta.url)),
  policy: fileURLToPath(new URL('../../sandbox/data/voice-policy.yaml', import.meta.url)),
  numbers: fileURLToPath(new URL('../../sandbox/data/numbers.json', import.meta.url)),
};

interface RunOptions {
  tenant: string;
  events: string;
  policy: string;
  numbers?: string;
  json?: boolean;
  storage: 'auto' | 'azurite' | 'memory';
  worker: boolean;
  workers: string;
  instances: string;
  seed: string;
  log?: string;
  state?: string;
}

export function sandboxCommand(io: CliIo): Command {
  const sandbox = new Command('sandbox').description('Run Dialtone end to end against simulated Graph, Teams and Service Bus');
  sandbox
    .command('run')
    .description('Play HR events through the whole pipeline until nothing is left to do, then report')
    .requiredOption('--tenant <file>', 'simulated tenant (users, licences, Teams policies, external assignments)')
    .requiredOption('--events <file>', 'HR events, one JSON object per line')
    .option('--policy <file>', 'voice policy (YAML or JSON)', bundledData.policy)
    .option('--numbers <file>', 'Direct Routing number pools (JSON)')
    .option('--json', 'print one JSON report on stdout')
    .addOption(new Option('--storage <kind>', 'number inventory and records store').choices(['auto', 'azurite', 'memory']).default('auto'))
    .option('--no-worker', 'stop at the voice-commands queue and show the commands')
    .option('--workers <n>', 'hybrid workers competing for sessions', '1')
    .option('--instances <n>', 'Function App instances competing for the queues, each with host.json concurrency', '1')
    .option('--seed <n>', 'seed of the competition between Function instances (same seed, same report)', '1')
    .option('--log <file>', 'write the structured logs (JSON lines, with correlation ids) to a file')
    .option('--state <dir>', 'keep queues, dead letters, clock, tenant, numbers and records in DIR; a second run continues from it')
    .action(async (options: RunOptions) => {
      let inputs;
      try {
        inputs = await loadSandboxInputs(options);
      } catch (error) {
        if (error instanceof SandboxInputError) {
          io.err(`dialtone: ${error.message}`);
          io.exit(2);
          return;
        }
        throw error;
      }
      if (options.state && options.storage === 'azurite') {
        io.err('dialtone: --state keeps the inventory in memory; it cannot be combined with --storage azurite.');
        io.exit(2);
        return;
      }
      const saved = options.state ? await readSandboxState(options.state) : undefined;
      const run = await runSandbox(inputs, {
        storage: options.state ? 'memory' : options.storage,
        worker: options.worker,
        workerCount: Math.max(1, Number.parseInt(options.workers, 10) || 1),
        instances: Math.min(64, Math.max(1, Number.parseInt(options.instances, 10) || 1)),
        seed: Number.parseInt(options.seed, 10) || 1,
        ...(saved ? { state: saved } : {}),
        keepState: options.state !== undefined,
      });
      if (options.state && run.state) await writeSandboxState(options.state, run.state);
      if (options.log) await writeFile(options.log, `${run.logLines.join('\n')}\n`);
      io.out(options.json ? JSON.stringify(run.report, null, 2) : formatReport(run.report));
    });
  return sandbox;
}
