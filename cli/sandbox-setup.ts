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
import type { SandboxSession } from './sandbox-session.js';

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
  const clock = await session.clock();
  const kept = await sandboxSetupState(session);
  const graph = await startGraphSimulator({ tenant, clock, startMs: clock.startedAt, ...(kept ? { entra: kept.entra } : {}) });
  const vault = new SimKeyVault(clock, kept ? { state: kept.keyVault } : {});
  return {
    entra: createGraphEntraAdmin({ baseUrl: graph.baseUrl, accessToken: async () => 'sandbox-token' }),
    vault,
    keyVault: vault,
    defaults: {
      functionPrincipalId: tenant.graphApp?.principalId ?? SANDBOX_FUNCTION_PRINCIPAL_ID,
      ...(kept?.deployment ? { certificateName: kept.deployment.certificateName, applicationId: kept.deployment.appId } : {}),
      teamsBackend: inputs.teamsBackend ?? 'powershell',
      teamsReadiness: 'graph',
    },
    // No worker runs between sandbox commands: reports are read from the sandbox's tables, where none is written.
    workerReports: () => session.workerReports(),
    clock,
    // Sandbox time: waiting advances the simulated clock, at once.
    sleep: async (ms) => clock.advanceTo(clock.nowMs() + ms),
    close: async (changed, result) => {
      try {
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
