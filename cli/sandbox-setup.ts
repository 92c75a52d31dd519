import { z } from 'zod';
import { createGraphEntraAdmin } from '../shared/adapters/graph-entra-admin.js';
import { EntraSimStateSchema } from '../sandbox/graph-sim/applications.js';
import { startGraphSimulator } from '../sandbox/graph-sim/index.js';
import { SANDBOX_FUNCTION_PRINCIPAL_ID } from '../sandbox/graph-sim/permissions.js';
import { KeyVaultSimStateSchema, SimKeyVault } from '../sandbox/keyvault-sim/index.js';
import { SandboxTenantFileSchema } from '../sandbox/teams-sim/tenant-file.js';
import type { SetupBackend } from './commands/setup.js';
import type { DoctorProbes } from '../shared/usecases/doctor.js';
import { UsageError } from './errors.js';
import type { SandboxRunInputs, SandboxSession } from './sandbox-session.js';
import type { Sandbox } from '../sandbox/host/sandbox.js';
import type { Clock } from '../shared/ports/clock.js';
import { createEntityWorkerReports } from '../shared/adapters/entity-worker-reports.js';
import { parseVoicePolicy } from '../shared/domain/policy.js';
import type { SandboxTenantFile } from '../sandbox/teams-sim/tenant-file.js';

/**
 * What `dialtone setup` leaves in a sandbox (`setup` in sandbox-state.json): the simulated Entra
 * objects and the Key Vault's certificate versions (metadata and public certificates, never a
 * private key), and the deployment's ids as the settings would name them.
 */
export const SandboxSetupStateSchema = z.object({
  entra: EntraSimStateSchema,
  keyVault: KeyVaultSimStateSchema,
  deployment: z.object({ appId: z.string(), objectId: z.string(), servicePrincipalId: z.string().optional(), certificateName: z.string() }).optional(),
});
export type SandboxSetupState = z.infer<typeof SandboxSetupStateSchema>;

export async function sandboxSetupState(session: SandboxSession): Promise<SandboxSetupState | undefined> {
  const raw = await session.setupState();
  if (raw === undefined) return undefined;
  const parsed = SandboxSetupStateSchema.safeParse(raw);
  if (!parsed.success) throw new UsageError(`${session.dir}: the kept setup state is not readable (${parsed.error.issues[0]?.message ?? 'invalid'})`);
  return parsed.data;
}

/** The sandbox's simulated Graph (with the Entra objects setup made) and Key Vault, at the sandbox's clock. */
export async function sandboxSetupBackend(session: SandboxSession): Promise<SetupBackend & { keyVault: SimKeyVault }> {
  const inputs = await session.runInputs();
  if (!inputs || inputs.tenants.length === 0) throw new UsageError(`${session.dir} keeps no tenant: run dialtone sandbox run --state ${session.dir} first`);
  const tenant = SandboxTenantFileSchema.parse(inputs.tenants[0]);
  const keptClock = await session.clock();
  const kept = await sandboxSetupState(session);
  // Once the sandbox's workers run (cert rotate), time is the hosted sandbox's clock.
  const hosted: { sandbox?: Sandbox } = {};
  const clock: Clock = { now: () => (hosted.sandbox?.clock ?? keptClock).now() };
  const graph = await startGraphSimulator({ tenant, clock, startMs: keptClock.startedAt, ...(kept ? { entra: kept.entra } : {}) });
  const vault = new SimKeyVault(clock, kept ? { state: kept.keyVault } : {});
  return {
    entra: createGraphEntraAdmin({ baseUrl: graph.baseUrl, accessToken: async () => 'sandbox-token' }),
    vault,
    keyVault: vault,
    defaults: {
      functionPrincipalId: tenant.graphApp?.principalId ?? SANDBOX_FUNCTION_PRINCIPAL_ID,
      ...(kept?.deployment ? { certificateName: kept.deployment.certificateName, applicationId: kept.deployment.appId } : {}),
      tenantId: tenant.tenantId,
      teamsBackend: inputs.teamsBackend ?? 'powershell',
      teamsReadiness: 'graph',
    },
    // No worker runs between sandbox commands, so the sandbox's workers are started here, on the kept
    // state, and report into its sessionslots table as production's do (docs/TENANT.md).
    workerReports: async () => {
      const certificateName = kept?.deployment?.certificateName;
      if ((inputs.teamsBackend ?? 'powershell') !== 'powershell' || !certificateName) return session.workerReports();
      hosted.sandbox ??= await hostWorkers(session, inputs, tenant, vault, certificateName, keptClock.now());
      return createEntityWorkerReports(hosted.sandbox.tableService()!.table('sessionslots'));
    },
    clock,
    // Sandbox time: waiting runs the hosted sandbox (its workers, Functions and timers) for that long,
    // or advances the simulated clock at once when none is hosted.
    sleep: async (ms) => {
      if (hosted.sandbox) await hosted.sandbox.runFor(ms);
      else keptClock.advanceTo(keptClock.nowMs() + ms);
    },
    close: async (changed, result) => {
      try {
        if (hosted.sandbox && changed) session.setHostedState(hosted.sandbox.exportState());
        await hosted.sandbox?.stop();
        if (changed) {
          const deployment = result ? { appId: result.appId, objectId: result.objectId, ...(result.servicePrincipalId ? { servicePrincipalId: result.servicePrincipalId } : {}), certificateName: result.certificateName } : kept?.deployment;
          session.setSetupState({ entra: graph.exportEntra(), keyVault: vault.exportState(), ...(deployment ? { deployment } : {}) } satisfies SandboxSetupState);
        }
      } finally {
        await graph.close();
      }
    },
  };
}

/** The sandbox's hybrid workers on the kept state, loading their certificate from the kept Key Vault. */
async function hostWorkers(session: SandboxSession, inputs: SandboxRunInputs, tenant: SandboxTenantFile, vault: SimKeyVault, certificateName: string, now: Date): Promise<Sandbox> {
  const [{ Sandbox }, { keptVaultWorkerCertificate }] = await Promise.all([import('../sandbox/host/sandbox.js'), import('../sandbox/keyvault-sim/kept-vault-source.js')]);
  const format = inputs.policy.file.toLowerCase().endsWith('.json') ? 'json' : 'yaml';
  return Sandbox.start(
    { tenant, eventLines: [], policy: parseVoicePolicy(inputs.policy.text, format, inputs.policy.file), pools: [], sources: { tenant: 'sandbox-inputs.json', events: '(none)', policy: inputs.policy.file, numbers: null } },
    {
      state: await session.runState(),
      storage: 'memory',
      workerCertificates: () => keptVaultWorkerCertificate(vault, certificateName, now),
      // Production's timings: a new version is looked for hourly (DIALTONE_CERT_RELOAD_MINUTES), reports every minute.
      workerTuning: { certificateReloadMs: 60 * 60_000 },
      workerReports: { intervalMs: 60_000 },
    },
  );
}

/**
 * `doctor --sandbox DIR` after `setup --sandbox DIR`: the Key Vault certificate, the worker's
 * Teams role and its key credential, read from the simulators as doctor reads Azure. Undefined
 * when setup has not run in this sandbox (the checks are then skipped, as before).
 */
export async function sandboxSetupProbes(session: SandboxSession, graphGet: <T>(path: string, schema: z.ZodType<T>) => Promise<T>): Promise<Pick<DoctorProbes, 'certificate' | 'teamsRole' | 'appCredential'> | undefined> {
  const kept = await sandboxSetupState(session);
  const deployment = kept?.deployment;
  if (!kept || !deployment) return undefined;
  const vault = new SimKeyVault(await session.clock(), { state: kept.keyVault });
  const name = deployment.certificateName;
  const RoleAssignments = z.object({ value: z.array(z.object({ roleDefinitionId: z.string() })) });
  const App = z.object({ keyCredentials: z.array(z.object({ customKeyIdentifier: z.string().nullable(), endDateTime: z.string() })) });
  return {
    certificate: async () => {
      const cert = await vault.getCertificate(name);
      return { name, expiresOn: cert.properties.expiresOn, notBefore: cert.properties.notBefore, enabled: cert.properties.enabled, exportable: cert.policy?.exportable, contentType: cert.policy?.contentType };
    },
    ...(deployment.servicePrincipalId
      ? {
          teamsRole: async () => {
            const principalId = deployment.servicePrincipalId ?? '';
            const roles = await graphGet(`/roleManagement/directory/roleAssignments?$filter=${encodeURIComponent(`principalId eq '${principalId}'`)}`, RoleAssignments);
            return { principalId, roleDefinitionIds: roles.value.map((r) => r.roleDefinitionId) };
          },
        }
      : {}),
    appCredential: async () => {
      const app = await graphGet(`/applications/${encodeURIComponent(deployment.objectId)}`, App);
      const latest = await vault.latest(name);
      return {
        appId: deployment.appId,
        current: latest ? { thumbprint: latest.thumbprint, version: latest.version } : undefined,
        credentials: app.keyCredentials.map((k) => ({ thumbprint: Buffer.from(k.customKeyIdentifier ?? '', 'base64').toString('hex').toUpperCase(), endDateTime: k.endDateTime })),
      };
    },
  };
}
