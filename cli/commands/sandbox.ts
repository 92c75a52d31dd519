import { createWriteStream, type WriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { DEFAULT_BULK_USERS } from '../../shared/config/bulk-defaults.js';
import { isDialtoneError } from '../../shared/domain/errors.js';
import type { CliContext } from '../context.js';
import { InputError, UsageError } from '../errors.js';
import { examples, integer } from '../options.js';
import { tsvField } from '../output.js';
import { readSandboxInputs, writeSandboxInputs } from '../sandbox-session.js';

/** The sample data shipped in the repository (sandbox/data), found from cli/ and from dist/cli/ alike. */
function dataFile(name: string): string {
  const compiled = fileURLToPath(import.meta.url).split(sep).includes('dist');
  return fileURLToPath(new URL(`${compiled ? '../../../' : '../../'}sandbox/data/${name}`, import.meta.url));
}

export const bundledData = {
  tenant: dataFile('tenant.json'),
  events: dataFile('hr-events.ndjson'),
  policy: dataFile('voice-policy.yaml'),
  numbers: dataFile('numbers.json'),
};

interface RunOptions {
  tenant: string[];
  events: string;
  policy: string;
  numbers?: string;
  storage: 'auto' | 'azurite' | 'memory';
  worker: boolean;
  workers: number;
  bulkUsers: number;
  teamsBackend: 'powershell' | 'graph';
  instances: number;
  seed: number;
  log?: string;
  state?: string;
}

async function closeLog(stream: WriteStream | undefined): Promise<void> {
  if (!stream) return;
  await new Promise<void>((resolve, reject) => stream.end((error?: Error | null) => (error ? reject(error) : resolve())));
}

/**
 * A kept sandbox continues with the tenants it was kept with: with several tenants, the same
 * tenant files (by tenant id, the first one first), since each tenant's Teams tenant, Graph and
 * inventory are kept under its id. A state kept with one tenant is continued as before.
 */
async function sameTenantsAsKept(dir: string, now: string[]): Promise<void> {
  const kept = (await readSandboxInputs(dir))?.tenants.map((t) => String((t as { tenantId?: unknown }).tenantId ?? '').toLowerCase());
  if (!kept || (kept.length <= 1 && now.length <= 1)) return;
  const ids = now.map((t) => t.toLowerCase());
  if (kept.length === ids.length && kept.every((t, i) => t === ids[i])) return;
  throw new UsageError(
    `${dir} was kept with the tenants ${kept.join(', ')} (in that order) and this run names ${ids.join(', ')}: give the same --tenant files, or another --state directory.`,
  );
}

export function sandboxCommand(ctx: CliContext): Command {
  const sandbox = new Command('sandbox').description('Run Dialtone end to end against simulated Graph, Teams and Service Bus');
  examples(sandbox, ['dialtone sandbox run --tenant sandbox/data/tenant.json --events sandbox/data/hr-events.ndjson']);
  examples(
    sandbox
      .command('run')
      .description('Play HR events through the whole pipeline until nothing is left to do, then report (progress on stderr)')
      .requiredOption(
        '--tenant <file>',
        'simulated tenant (users, licences, Teams policies, external assignments); repeat it for several tenants, whose HR events then name their tenantId',
        (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
      )
      .requiredOption('--events <file>', 'HR events, one JSON object per line')
      .option('--policy <file>', 'voice policy (YAML or JSON)', bundledData.policy)
      .option('--numbers <file>', 'Direct Routing number pools (JSON)')
      .addOption(new Option('--storage <kind>', 'number inventory and records store').choices(['auto', 'azurite', 'memory']).default('auto'))
      .option('--no-worker', 'stop at the voice-commands queue and show the commands')
      .addOption(new Option('--workers <n>', 'hybrid workers competing for sessions').argParser(integer({ min: 1, max: 64 })).default(1))
      .addOption(
        new Option('--bulk-users <n>', "people each worker keeps in flight on its bulk path (the worker's DIALTONE_BULK_USERS); 0 = one person at a time")
          .argParser(integer({ min: 0, max: 5000 }))
          .default(DEFAULT_BULK_USERS),
      )
      .addOption(
        new Option('--teams-backend <backend>', 'who applies voice commands: the hybrid worker (pwsh) or the graphVoice function (Graph)')
          .choices(['powershell', 'graph'])
          .default('powershell'),
      )
      .addOption(
        new Option('--instances <n>', 'Function App instances competing for the queues, each with host.json concurrency').argParser(integer({ min: 1, max: 64 })).default(1),
      )
      .addOption(new Option('--seed <n>', 'seed of the competition between Function instances (same seed, same report)').argParser(integer({ min: 1, max: 2_147_483_647 })).default(1))
      .option('--log <file>', 'write the structured logs (JSON lines, with correlation ids) to a file, as they happen')
      .option('--state <dir>', 'keep queues, dead letters, clock, every tenant, numbers and records in DIR; a second run continues from it'),
    [
      'dialtone sandbox run --tenant sandbox/data/tenant.json --events sandbox/data/hr-events.ndjson --numbers sandbox/data/numbers.json',
      'dialtone sandbox run --tenant T.json --events E.ndjson --json > report.json',
      'dialtone sandbox run --tenant T.json --events E.ndjson --teams-backend graph',
      'dialtone sandbox run --tenant T.json --events E.ndjson --state .sandbox-state --log run.log',
      'dialtone sandbox run --tenant sandbox/data/tenants/contoso.json --tenant sandbox/data/tenants/fabrikam.json --events sandbox/data/tenants/hr-events.ndjson --numbers sandbox/data/tenants/numbers.json',
    ],
  ).action(async (options: RunOptions) => {
    const [tenant = '', ...extraTenants] = options.tenant;
    if (options.state && options.storage === 'azurite') {
      throw new UsageError('--state keeps the inventory in memory; it cannot be combined with --storage azurite.');
    }
    // Progress from the first moment: loading 100,000 numbers or starting Azurite takes a while.
    const progress = await ctx.progress('sandbox run');
    let log: WriteStream | undefined;
    try {
      progress.update('reading the inputs');
      const [{ loadSandboxInputs }, { runSandbox }, { readSandboxState, writeSandboxState }, { formatReport, reportRows }] = await Promise.all([
        import('../../sandbox/host/inputs.js'),
        import('../../sandbox/host/sandbox.js'),
        import('../../sandbox/host/state.js'),
        import('../../sandbox/host/report.js'),
      ]);
      const inputs = await loadSandboxInputs({ ...options, tenant, extraTenants });
      const saved = options.state ? await readSandboxState(options.state) : undefined;
      if (options.state && saved) await sameTenantsAsKept(options.state, [inputs.tenant, ...(inputs.extraTenants ?? [])].map((t) => t.tenantId));
      if (options.log) {
        const stream = createWriteStream(options.log);
        await new Promise<void>((resolve, reject) => stream.once('open', () => resolve()).once('error', reject));
        log = stream;
      }
      progress.update('starting the simulators');
      let run;
      try {
        run = await runSandbox(inputs, {
          storage: options.state ? 'memory' : options.storage,
          worker: options.worker,
          workerCount: options.workers,
          // The production worker's default (DIALTONE_BULK_USERS): the bulk path, as the bench runs it.
          workerTuning: { bulk: { users: options.bulkUsers } },
          teamsBackend: options.teamsBackend,
          instances: options.instances,
          seed: options.seed,
          ...(saved ? { state: saved } : {}),
          keepState: options.state !== undefined,
          ...(log ? { onLog: (line: string) => log?.write(`${line}\n`) } : {}),
          onProgress: (p) => progress.update(`${p.handled.toLocaleString('en')} messages handled, ${p.queued.toLocaleString('en')} queued, ${(p.simulatedMs / 3_600_000).toFixed(1)} h simulated`),
        });
      } catch (error) {
        // Pools that contradict each other (overlapping ranges) make the numbers file unusable.
        if (options.numbers && isDialtoneError(error) && error.code === 'ConfigInvalid') throw new InputError(`numbers file ${options.numbers}`, error.message);
        throw error;
      }
      await closeLog(log);
      log = undefined;
      if (options.state && run.state) {
        await writeSandboxState(options.state, run.state);
        await writeSandboxInputs(options.state, {
          version: 1,
          tenants: await Promise.all([tenant, ...extraTenants].map(async (file) => JSON.parse(await readFile(file, 'utf8')) as unknown)),
          policy: { file: options.policy, text: await readFile(options.policy, 'utf8') },
          ...(inputs.tenantPolicies ? { tenantPolicies: Object.fromEntries(Object.entries(inputs.tenantPolicies).map(([id, p]) => [id, { file: p.file, text: p.text }])) } : {}),
          teamsBackend: options.teamsBackend,
        });
      }
      progress.stop(`${run.report.metrics.eventsIn} events, ${run.report.deadLetters.length} dead letters`);
      const out = ctx.output();
      // tsv and jsonl: a row per user, number and dead letter (report.ts, reportRows), like a list.
      if (out.format === 'tsv') await out.lines(reportRows(run.report).map((r) => r.cells.map(tsvField).join('\t')));
      else if (out.format === 'jsonl') await out.lines(reportRows(run.report).map((r) => JSON.stringify(r.json)));
      else out.value(run.report, () => formatReport(run.report));
    } finally {
      progress.stop();
      await closeLog(log).catch(() => undefined);
    }
  });
  return sandbox;
}
