import { Command, InvalidArgumentError, Option } from 'commander';
import { rotateCertificate } from '../../shared/usecases/cert-rotate.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { examples } from '../options.js';
import { setupItemColumns, type OpenSetupBackend } from './setup.js';

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000 } as const;
/** `90m`, `2h`, `30s`: a length of time, bounded. */
const duration = (max: number) => (value: string): number => {
  const match = /^(\d+)([smh])$/.exec(value.trim());
  const ms = match ? Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS] : Number.NaN;
  if (!Number.isSafeInteger(ms) || ms > max) throw new InvalidArgumentError(`expected a duration such as 30s, 90m or 2h (at most ${max / 3_600_000} h), got '${value}'.`);
  return ms;
};
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `dialtone cert rotate`: a new worker certificate version, switched to by every worker before the old credential goes (docs/TENANT.md). */
export function certCommand(ctx: CliContext, open: OpenSetupBackend): Command {
  const cert = new Command('cert').description("The worker's Teams certificate in Key Vault and on its app registration");
  examples(
    cert
      .command('rotate')
      .description(
        'Create a new version of the worker certificate (disabled until its key is on the app), add its public key to the app registration, wait until every live worker reports the new thumbprint (they reload without a restart), keep both for the overlap, then remove the older versions\' credentials. Exits 1 when a step failed (the old credential is then kept)',
      )
      .addOption(new Option('--cert-name <name>', 'the Key Vault certificate (default DIALTONE_CERT_NAME)'))
      .addOption(
        new Option('--app-id <id>', "the worker app registration's application id (default DIALTONE_APP_ID)").argParser((v) => {
          if (!GUID.test(v)) throw new InvalidArgumentError(`expected an application id (a GUID), got '${v}'.`);
          return v;
        }),
      )
      .addOption(
        new Option('--tenant-id <id>', "the tenant whose worker certificate this is: only the workers' reports for it are waited on (default DIALTONE_TENANT_ID, the home tenant)").argParser((v) => {
          if (!GUID.test(v)) throw new InvalidArgumentError(`expected a tenant id (a GUID), got '${v}'.`);
          return v.toLowerCase();
        }),
      )
      .addOption(new Option('--wait <duration>', 'how long to wait for the workers (they look for a new version every DIALTONE_CERT_RELOAD_MINUTES, 60 by default)').default(90 * 60_000, '90m').argParser(duration(24 * 3_600_000)))
      .addOption(new Option('--overlap <duration>', 'how long both credentials stay after the workers moved (sessions connected with the old one end within 50 min)').default(60 * 60_000, '60m').argParser(duration(24 * 3_600_000)))
      .addOption(new Option('--live-within <duration>', 'a worker that reported within this long counts as running').default(10 * 60_000, '10m').argParser(duration(24 * 3_600_000)))
      .option('--dry-run', 'report what would be done, changing nothing'),
    ['dialtone cert rotate --dry-run', 'dialtone cert rotate', 'dialtone cert rotate --overlap 2h --json', 'dialtone cert rotate --sandbox .sandbox-state --overlap 0s'],
  ).action(async (o: { certName?: string; appId?: string; tenantId?: string; wait: number; overlap: number; liveWithin: number; dryRun?: boolean }) => {
    const backend = await open();
    const dryRun = o.dryRun === true;
    const appId = o.appId ?? backend.defaults.applicationId;
    const certificateName = o.certName ?? backend.defaults.certificateName;
    const tenantId = o.tenantId ?? backend.defaults.tenantId;
    if (!appId || !certificateName) {
      await backend.close(false);
      throw new UsageError(`dialtone cert rotate needs ${!appId ? 'DIALTONE_APP_ID (or --app-id)' : 'DIALTONE_CERT_NAME (or --cert-name)'}${ctx.sandbox() ? ': run dialtone setup --sandbox DIR first' : ''}`);
    }
    const progress = ctx.format === 'table' ? await ctx.progress('cert rotate') : undefined;
    let result;
    try {
      result = await rotateCertificate(
        {
          entra: backend.entra,
          vault: backend.vault,
          reports: await backend.workerReports(),
          clock: backend.clock,
          sleep: backend.sleep,
          progress: (line) => progress?.update(line),
        },
        { appId, certificateName, ...(tenantId ? { tenantId } : {}), dryRun, waitTimeoutMs: o.wait, overlapMs: o.overlap, liveWithinMs: o.liveWithin, pollMs: Math.min(30_000, Math.max(1000, Math.floor(o.wait / 60))) },
      );
    } finally {
      progress?.stop();
      await backend.close(!dryRun);
    }
    if (!dryRun) await ctx.commit();
    const out = ctx.output();
    if (ctx.format === 'json') out.value({ items: result.items, ...(result.certificate ? { certificate: result.certificate } : {}) });
    else await out.list(result.items, setupItemColumns());
    if (result.items.some((i) => i.status === 'failed')) ctx.io.exit(1);
  });
  return cert;
}
