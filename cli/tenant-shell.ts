/**
 * Opens a Teams PowerShell session for `dialtone tenant …`: the worker's own pwsh host
 * (worker/pwsh/host.ps1, or the Teams simulator's stand-in for `--sandbox`) started with
 * `-Scope TenantSetup`, the only scope in which the tenant-wide set-up cmdlets are allowed,
 * connected once with the app certificate.
 */
import type { CertificateSource } from '../worker/certificate.js';
import type { Logger } from '../shared/ports/logger.js';
import type { SandboxSession } from './sandbox-session.js';
import type { TenantSetupShell } from '../shared/ports/tenant-setup-shell.js';
import type { TenantIdentity, TenantShellHandle } from './commands/tenant.js';
import { CertificateClient } from '@azure/keyvault-certificates';
import { DefaultAzureCredential } from '@azure/identity';
import { DialtoneError } from '../shared/domain/errors.js';
import { PwshProcess, type PwshCommand } from '../worker/pwsh-process.js';
import { SecretClient } from '@azure/keyvault-secrets';
import { SimClock } from '../sandbox/clock.js';
import { createJsonLogger, createMemoryLogger } from '../shared/logging/logger.js';
import { ephemeralCertificateSource } from '../worker/ephemeral-certificate.js';
import { fileCertificateSource, keyVaultCertificateSource } from '../worker/certificate-sources.js';
import { loadWorkerSettings } from '../shared/config/worker-settings.js';
import { startTeamsSimulator, TeamsTenantStateSchema } from '../sandbox/teams-sim/index.js';
import { GraphSubscriptionsStateSchema, startGraphSimulator } from '../sandbox/graph-sim/index.js';
import { SANDBOX_NOTIFICATION_URL } from '../sandbox/host/sandbox.js';
import { SandboxTenantFileSchema } from '../sandbox/teams-sim/tenant-file.js';
import { createGraphSubscriptions } from '../shared/adapters/graph-subscriptions.js';
import type { GraphSubscriptionsHandle } from './commands/tenant.js';

export interface OpenedShell {
  shell: TenantSetupShell;
  close(): Promise<void>;
}

const CMDLET_TIMEOUT_MS = 120_000;

export async function openTenantSetupShell(options: {
  pwsh: PwshCommand;
  certificates: CertificateSource;
  tenantId: string;
  applicationId: string;
  logger: Logger;
  readyTimeoutMs?: number;
}): Promise<OpenedShell> {
  const command: PwshCommand = { ...options.pwsh, args: [...options.pwsh.args, '-Scope', 'TenantSetup'] };
  const proc = await PwshProcess.start(command, { readyTimeoutMs: options.readyTimeoutMs ?? 60_000, logger: options.logger });
  try {
    const certificate = await options.certificates.load();
    const connected = await proc.connect(
      { applicationId: options.applicationId, tenantId: options.tenantId, certificate: { pfxBase64: certificate.pfxBase64, password: certificate.password } },
      { timeoutMs: CMDLET_TIMEOUT_MS },
    );
    if (!connected.ok) throw new DialtoneError('CmdletFailed', `Connect-MicrosoftTeams failed: ${connected.error.message}`);
  } catch (error) {
    proc.kill();
    throw error;
  }
  return {
    shell: {
      run: async (cmdlet, parameters) => {
        const outcome = await proc.call(cmdlet, parameters, { timeoutMs: CMDLET_TIMEOUT_MS });
        return outcome.ok ? { ok: true, result: outcome.result } : { ok: false, error: { ...outcome.error, cmdlet } };
      },
    },
    close: () => proc.exit(5_000),
  };
}

// ---- the two places a tenant set-up session comes from ----

/** The sandbox's app registration, as the sandbox worker uses it. */
const SANDBOX_APPLICATION_ID = '00000000-0000-0000-0000-0000000d1a17';

/**
 * On the worker host: the worker's own settings (tenant, app id, certificate from Key Vault or a
 * file, pwsh path and host script), and the real pwsh with the MicrosoftTeams module.
 */
export async function realTenantShell(identity?: TenantIdentity): Promise<TenantShellHandle> {
  const settings = loadWorkerSettings();
  const logger = createJsonLogger({ level: 'warn', base: { service: 'dialtone-tenant' } });
  const configured = settings.certificate;
  // A registered tenant's certificate is its registry certificateName in the worker's Key Vault.
  if (identity && configured.kind === 'file') {
    throw new DialtoneError('ConfigInvalid', `tenant ${identity.tenantId}'s certificate ${identity.certificateName} is in Key Vault: set DIALTONE_KEYVAULT_URL on this host`);
  }
  const c = identity && configured.kind !== 'file' ? { ...configured, name: identity.certificateName } : configured;
  const certificates =
    c.kind === 'file'
      ? fileCertificateSource({ path: c.path, ...(c.passwordFile ? { passwordFile: c.passwordFile } : {}), logger })
      : (() => {
          const credential = new DefaultAzureCredential();
          return keyVaultCertificateSource({
            vaultUrl: c.vaultUrl,
            name: c.name,
            secrets: new SecretClient(c.vaultUrl, credential),
            certificates: new CertificateClient(c.vaultUrl, credential),
          });
        })();
  const opened = await openTenantSetupShell({
    pwsh: { command: settings.pwsh.path, args: ['-NoLogo', '-NoProfile', '-NonInteractive', '-File', settings.pwsh.script] },
    certificates,
    tenantId: identity?.tenantId ?? settings.tenantId,
    applicationId: identity?.applicationId ?? settings.applicationId,
    logger,
    readyTimeoutMs: settings.pool.connectTimeoutMs,
  });
  return { shell: opened.shell, close: () => opened.close() };
}

/**
 * `--sandbox DIR`: the simulated Teams tenant saved by `sandbox run --state DIR`, served by the
 * Teams simulator to its pwsh stand-in, through the same protocol and scope as production. What
 * `apply` changed in the tenant's voice routing is written back to the state.
 */
export async function sandboxTenantShell(session: SandboxSession, identity?: TenantIdentity): Promise<TenantShellHandle> {
  const { teams, clock: saved } = await session.teamsState();
  const parsed = TeamsTenantStateSchema.safeParse(teams);
  if (!parsed.success) {
    throw new Error('the sandbox state holds no Teams tenant: run dialtone sandbox run --state DIR (with the worker) first');
  }
  if (identity && identity.tenantId !== parsed.data.tenantId.toLowerCase()) {
    throw new Error(`the sandbox state keeps the Teams tenant ${parsed.data.tenantId} only, not tenant ${identity.tenantId}`);
  }
  const clock = new SimClock(new Date(saved.startedAt));
  clock.advanceTo(saved.now);
  const sim = await startTeamsSimulator({ tenant: { tenantId: parsed.data.tenantId, users: [] }, clock, state: teams, startedAtMs: saved.startedAt });
  let opened: OpenedShell;
  try {
    opened = await openTenantSetupShell({
      pwsh: sim.pwshCommand,
      certificates: ephemeralCertificateSource({ now: clock.now(), validDays: 3650 }),
      tenantId: parsed.data.tenantId,
      applicationId: SANDBOX_APPLICATION_ID,
      logger: createMemoryLogger('warn'),
    });
  } catch (error) {
    await sim.close();
    throw error;
  }
  return {
    shell: opened.shell,
    close: async (changed) => {
      await opened.close();
      // Only the voice routing is written back: the stand-in's tenant knows no users.
      if (changed) session.setTeamsState({ ...parsed.data, voiceRouting: sim.tenant.exportState().voiceRouting });
      await sim.close();
    },
  };
}

/**
 * `--sandbox DIR`: the simulated Graph of the sandbox's tenant with the subscriptions the last
 * `sandbox run` kept; what unlink deleted is written back to the state.
 */
export async function sandboxGraphSubscriptions(session: SandboxSession): Promise<GraphSubscriptionsHandle> {
  const inputs = await session.runInputs();
  if (!inputs || inputs.tenants.length === 0) throw new Error(`${session.dir} keeps no tenant: run dialtone sandbox run --state ${session.dir} first`);
  const saved = GraphSubscriptionsStateSchema.safeParse(((await session.graphState()) as { subscriptions?: unknown } | undefined)?.subscriptions);
  const clock = await session.clock();
  const graph = await startGraphSimulator({
    tenant: SandboxTenantFileSchema.parse(inputs.tenants[0]),
    clock,
    startMs: clock.startedAt,
    ...(saved.success ? { subscriptions: saved.data } : {}),
  });
  return {
    subscriptions: createGraphSubscriptions({ baseUrl: graph.baseUrl, accessToken: async () => 'sandbox-token' }),
    notificationUrl: SANDBOX_NOTIFICATION_URL,
    close: async (changed) => {
      if (changed) session.setGraphState({ subscriptions: graph.exportSubscriptions() });
      await graph.close();
    },
  };
}
