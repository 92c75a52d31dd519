import { Command, InvalidArgumentError, Option } from 'commander';
import { requiredGraphPermissions } from '../../shared/domain/doctor.js';
import type { SetupItem } from '../../shared/domain/setup.js';
import type { EntraAdmin } from '../../shared/ports/entra-admin.js';
import type { KeyVaultCertificates } from '../../shared/ports/key-vault-certificates.js';
import type { Clock } from '../../shared/ports/clock.js';
import type { WorkerReports } from '../../shared/ports/worker-reports.js';
import { runSetup } from '../../shared/usecases/setup.js';
import type { CliContext } from '../context.js';
import { examples } from '../options.js';

/** What `dialtone setup` and `dialtone cert` work on: Entra through Graph and the Key Vault, as the operator (or the sandbox's simulators). */
export interface SetupBackend {
  entra: EntraAdmin;
  vault: KeyVaultCertificates;
  /** The deployment's settings (DIALTONE_FUNCTION_PRINCIPAL_ID, DIALTONE_CERT_NAME, DIALTONE_APP_ID, the backend), where set. */
  defaults: {
    functionPrincipalId?: string;
    certificateName?: string;
    applicationId?: string;
    /** The home tenant (DIALTONE_TENANT_ID): whose worker certificate `cert rotate` rotates unless --tenant-id names another. */
    tenantId?: string;
    teamsBackend: 'powershell' | 'graph';
    teamsReadiness: 'graph' | 'off';
  };
  /** What the workers report of their certificate (`cert rotate`); undefined when they cannot be read. */
  workerReports(): Promise<WorkerReports | undefined>;
  /** The clock and the wait `cert rotate` uses (the sandbox's: simulated, no real waiting). */
  clock: Clock;
  sleep(ms: number): Promise<void>;
  /** `changed`: whether the command may have written (for --sandbox: keep the simulators' state). */
  close(changed: boolean, result?: { appId: string; objectId: string; servicePrincipalId?: string; certificateName: string }): Promise<void>;
}

export type OpenSetupBackend = () => Promise<SetupBackend>;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const guid = (value: string): string => {
  if (!GUID.test(value)) throw new InvalidArgumentError(`expected an object id (a GUID), got '${value}'.`);
  return value;
};
const certName = (value: string): string => {
  if (!/^[0-9a-zA-Z-]{1,127}$/.test(value)) throw new InvalidArgumentError(`expected a Key Vault name (letters, digits and -, at most 127), got '${value}'.`);
  return value;
};
const appName = (value: string): string => {
  if (value.trim() === '' || value.length > 120) throw new InvalidArgumentError(`expected a display name of 1 to 120 characters, got '${value}'.`);
  return value;
};

export function setupItemColumns() {
  return [
    { header: 'kind', value: (i: SetupItem) => i.kind },
    { header: 'identity', value: (i: SetupItem) => i.identity },
    { header: 'status', value: (i: SetupItem) => i.status },
    { header: 'detail', value: (i: SetupItem) => i.detail },
  ];
}

/** `dialtone setup`: the worker's app registration, certificate, Graph permissions and Teams role (docs/TENANT.md). */
export function setupCommand(ctx: CliContext, open: OpenSetupBackend): Command {
  return examples(
    new Command('setup')
      .description(
        "Create or find the worker's app registration and service principal, have Key Vault create its certificate (exportable, PKCS#12), add the certificate's public key to the app, grant the Function App identity its Graph permissions and the worker the Teams Communications Administrator role. Idempotent; exits 1 when a step failed",
      )
      .addOption(new Option('--app-name <name>', "the worker app registration's display name").default('Dialtone worker').argParser(appName))
      .addOption(new Option('--cert-name <name>', 'the Key Vault certificate (default DIALTONE_CERT_NAME, else dialtone-teams)').argParser(certName))
      .addOption(new Option('--function-principal-id <id>', "the Function App identity's object id (default DIALTONE_FUNCTION_PRINCIPAL_ID)").argParser(guid))
      .addOption(new Option('--teams-backend <backend>', 'which Graph permissions the Function App needs (default DIALTONE_TEAMS_BACKEND)').choices(['powershell', 'graph']))
      .option('--dry-run', 'report what would be created, changing nothing'),
    ['dialtone setup --dry-run', 'dialtone setup', 'dialtone setup --sandbox .sandbox-state --json'],
  ).action(async (o: { appName: string; certName?: string; functionPrincipalId?: string; teamsBackend?: 'powershell' | 'graph'; dryRun?: boolean }) => {
    const backend = await open();
    const dryRun = o.dryRun === true;
    const certificateName = o.certName ?? backend.defaults.certificateName ?? 'dialtone-teams';
    let result;
    try {
      result = await runSetup(backend.entra, backend.vault, {
        appDisplayName: o.appName,
        certificateName,
        functionPrincipalId: o.functionPrincipalId ?? backend.defaults.functionPrincipalId,
        permissions: requiredGraphPermissions(o.teamsBackend ?? backend.defaults.teamsBackend, backend.defaults.teamsReadiness),
        dryRun,
        now: await ctx.now(),
      });
    } finally {
      await backend.close(!dryRun, result?.application ? { ...result.application, certificateName } : undefined);
    }
    if (!dryRun) await ctx.commit();
    const out = ctx.output();
    const next = result.application
      ? {
          DIALTONE_APP_ID: result.application.appId,
          ...(result.application.servicePrincipalId ? { DIALTONE_WORKER_PRINCIPAL_ID: result.application.servicePrincipalId } : {}),
          DIALTONE_CERT_NAME: certificateName,
        }
      : {};
    if (ctx.format === 'json') out.value({ items: result.items, ...(result.application ? { application: result.application } : {}), ...(result.certificate ? { certificate: result.certificate } : {}), settings: next });
    else {
      await out.list(result.items, setupItemColumns());
      const counts = new Map<string, number>();
      for (const item of result.items) counts.set(item.status, (counts.get(item.status) ?? 0) + 1);
      out.text([...counts].map(([status, n]) => `${n} ${status}`).join(', ') + (dryRun ? ' (dry run: nothing changed)' : ''));
      const settings = Object.entries(next);
      if (settings.length > 0) out.text(`Worker settings: ${settings.map(([k, v]) => `${k}=${v}`).join(' ')}`);
    }
    if (result.items.some((i) => i.status === 'failed')) ctx.io.exit(1);
  });
}
