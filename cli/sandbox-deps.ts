import { createStaticPolicyCatalog } from '../shared/adapters/file-policy-catalog.js';
import { createGraphDirectory } from '../shared/adapters/graph-directory.js';
import { createGraphTeamsAdmin } from '../shared/adapters/graph-teams-admin.js';
import type { TeamsAdmin } from '../shared/ports/teams-admin.js';
import { SimTenant } from '../sandbox/teams-sim/tenant.js';
import type { z } from 'zod';
import { requiredGraphPermissions } from '../shared/domain/doctor.js';
import { SANDBOX_FUNCTION_PRINCIPAL_ID } from '../sandbox/graph-sim/permissions.js';
import { readGraphPermissions } from './graph-permissions.js';
import { parseVoicePolicy } from '../shared/domain/policy.js';
import type { Directory } from '../shared/ports/directory.js';
import type { DoctorProbes } from '../shared/usecases/doctor.js';
import type { PlanDeps } from '../shared/usecases/plan-voice.js';
import { sandboxGraphToken, startGraphSimulator, type GraphSimulator } from '../sandbox/graph-sim/index.js';
import { randomUUID } from 'node:crypto';
import { SimClock } from '../sandbox/clock.js';
import { SimKeyVault } from '../sandbox/keyvault-sim/index.js';
import { TEAMS_COMMUNICATIONS_ADMINISTRATOR_ROLE_ID } from '../shared/domain/doctor.js';
import type { TenantDoctorProbe } from '../shared/usecases/doctor.js';
import { deadLetterPeek, tenantDoctorProbesWith } from './doctor-probes.js';
import { SandboxTenantFileSchema, type SandboxTenantFile } from '../sandbox/teams-sim/tenant-file.js';
import { queueNames } from '../shared/contracts/messages.js';
import { UsageError } from './errors.js';
import type { SandboxSession } from './sandbox-session.js';
import { sandboxSetupProbes, sandboxSetupState } from './sandbox-setup.js';

/** What `--sandbox DIR` stands in with for Graph, the policy files and the deployment. */
export interface SandboxWorld {
  tenant: SandboxTenantFile;
  directory: Directory;
  /** Teams as Graph's /admin/teams shows it: the tenant the last run left. */
  teams: TeamsAdmin;
  /** A raw GET against the simulated Graph, validated with the schema (doctor's permission reads). */
  graphGet: <T>(path: string, schema: z.ZodType<T>) => Promise<T>;
  close(): Promise<void>;
}

async function tenantOf(session: SandboxSession): Promise<{ tenant: SandboxTenantFile; policy: { file: string; text: string } }> {
  const inputs = await session.runInputs();
  if (!inputs || inputs.tenants.length === 0) {
    throw new UsageError(`${session.dir} keeps no tenant and policy (it was made by an older dialtone): run dialtone sandbox run --state ${session.dir} again`);
  }
  return { tenant: SandboxTenantFileSchema.parse(inputs.tenants[0]), policy: inputs.policy };
}

/** The simulated Graph of the sandbox's tenant, at the sandbox's clock (directory changes due by then applied). */
export async function sandboxWorld(session: SandboxSession): Promise<SandboxWorld> {
  const { tenant } = await tenantOf(session);
  const clock = await session.clock();
  const teamsTenant = new SimTenant(tenant, clock, clock.startedAt);
  const kept = (await session.teamsState()).teams;
  if (kept !== undefined) teamsTenant.importState(kept);
  const entra = (await sandboxSetupState(session))?.entra;
  const graph = await startGraphSimulator({ tenant, clock, startMs: clock.startedAt, teams: { tenant: teamsTenant }, ...(entra ? { entra } : {}) });
  graph.advanceTo(clock.now());
  const client = { baseUrl: graph.baseUrl, accessToken: async () => 'sandbox-token' };
  return {
    tenant,
    directory: createGraphDirectory(client),
    teams: createGraphTeamsAdmin(client),
    graphGet: async (path, schema) => {
      const response = await fetch(`${graph.baseUrl}${path}`, { headers: { authorization: 'Bearer sandbox-token' } });
      if (!response.ok) throw new Error(`Graph ${path.split('?')[0]} answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
      return schema.parse(await response.json());
    },
    close: () => graph.close(),
  };
}

export async function sandboxPlanDeps(session: SandboxSession, world: SandboxWorld): Promise<PlanDeps> {
  const { policy } = await tenantOf(session);
  const format = policy.file.toLowerCase().endsWith('.json') ? 'json' : 'yaml';
  return {
    directory: world.directory,
    records: await session.records(),
    inventory: await session.inventory(),
    catalog: createStaticPolicyCatalog((world.tenant.policies?.CallingLineIdentity ?? []).map((p) => ({ identity: p.identity, description: p.description ?? null }))),
    policy: parseVoicePolicy(policy.text, format, policy.file),
    clock: await session.clock(),
    snapshotMaxAgeMs: 0,
    reservationTtlMs: 0,
    teams: world.teams,
  };
}

/**
 * `doctor --sandbox DIR`: the sandbox's queues and pools, and the Function App's Graph
 * permissions as the sandbox's simulated Graph grants them (the tenant file's graphApp); the
 * Azure-only checks are skipped as such.
 */
export async function sandboxProbes(session: SandboxSession, world?: SandboxWorld, onClose?: (close: () => Promise<void>) => void): Promise<DoctorProbes> {
  const bus = await session.busClient();
  const inventory = await session.inventory();
  const backend = (await session.runInputs())?.teamsBackend ?? 'powershell';
  const graphPermissions: Pick<DoctorProbes, 'graphPermissions'> = world
    ? {
        graphPermissions: {
          backend,
          required: requiredGraphPermissions(backend, 'graph'),
          facts: () => readGraphPermissions(world.graphGet, world.tenant.graphApp?.principalId ?? SANDBOX_FUNCTION_PRINCIPAL_ID),
        },
      }
    : {};
  // What `dialtone setup --sandbox DIR` made is checked as doctor checks Azure.
  const setup = world ? await sandboxSetupProbes(session, world.graphGet) : undefined;
  return {
    ...graphPermissions,
    ...setup,
    settingsProblems: [],
    queues: {
      names: Object.values(queueNames),
      deadLetters: deadLetterPeek(bus),
    },
    pools: () => inventory.pools(),
    tenants: await sandboxTenantProbes(session, onClose),
    skipped: [
      ...(setup?.certificate ? [] : [{ check: 'Key Vault certificate', setting: 'dialtone setup --sandbox DIR (or a real deployment)' }]),
      ...(world ? [] : [{ check: 'Graph permission of the Function App', setting: 'a sandbox kept with its tenant (sandbox run --state DIR)' }]),
      ...(setup?.teamsRole ? [] : [{ check: 'Teams role of the worker app', setting: 'dialtone setup --sandbox DIR (or a real deployment)' }]),
    ],
  };
}

/**
 * Every registered tenant's checks in a kept sandbox. A tenant the last `sandbox run` served (its
 * tenant file is kept) is checked against its own simulators, with the same requests doctor sends
 * to Azure (cli/doctor-probes.ts): its own Graph simulator (a token naming the tenant), holding the
 * worker app's service principal and Teams role as the tenant file's `workerApp` says, and the
 * sandbox's Key Vault simulator (the one `setup --sandbox` made, if any), holding the tenant's
 * certificate made at the sandbox's start. A tenant only registered (`tenants add --sandbox`) has
 * no simulator: its checks are skipped, saying so.
 */
async function sandboxTenantProbes(session: SandboxSession, onClose?: (close: () => Promise<void>) => void): Promise<TenantDoctorProbe[]> {
  const registered = await (await session.tenants()).registry.list();
  if (registered.length === 0) return [];
  const files = new Map(((await session.runInputs())?.tenants ?? []).map((raw) => SandboxTenantFileSchema.parse(raw)).map((f) => [f.tenantId.toLowerCase(), f]));
  const simulated = registered.filter((t) => files.has(t.tenantId));
  const skipped = registered
    .filter((t) => !files.has(t.tenantId))
    .map((t) => ({
      tenantId: t.tenantId,
      displayName: t.displayName,
      applicationId: t.applicationId,
      skipped: {
        consent: 'this tenant has no simulator in the sandbox (give its tenant file to sandbox run --tenant): a real deployment checks it',
        certificate: 'this tenant has no simulator in the sandbox: a real deployment checks it',
      },
    }));
  if (simulated.length === 0) return skipped;

  const clock = await session.clock();
  // The certificates were put in the vault when the sandbox started.
  const kept = await sandboxSetupState(session);
  const vault = new SimKeyVault(new SimClock(new Date(clock.startedAt)), kept ? { state: kept.keyVault } : {});
  const graphs = new Map<string, GraphSimulator>();
  try {
    for (const t of simulated) {
      const file = files.get(t.tenantId)!;
      const app = file.workerApp ?? {};
      const servicePrincipalId = randomUUID();
      const graph = await startGraphSimulator({
        tenant: file,
        tokenTenant: file.tenantId,
        clock,
        startMs: clock.startedAt,
        entra: {
          applications: [],
          servicePrincipals: app.consent === false ? [] : [{ id: servicePrincipalId, appId: t.applicationId, displayName: 'Dialtone worker' }],
          appRoleAssignments: [],
          roleAssignments:
            app.consent === false || app.teamsRole === false ? [] : [{ id: randomUUID(), principalId: servicePrincipalId, roleDefinitionId: TEAMS_COMMUNICATIONS_ADMINISTRATOR_ROLE_ID, directoryScopeId: '/' }],
        },
      });
      graphs.set(t.tenantId, graph);
      if (app.certificate !== false && !(await vault.latest(t.certificateName))) {
        await vault.create(
          t.certificateName,
          { subject: `CN=${t.certificateName}`, exportable: true, keyType: 'RSA', keySize: 2048, contentType: 'application/x-pkcs12', validityInMonths: app.certificate?.validityInMonths ?? 12, issuerName: 'Self' },
          { enabled: app.certificate?.enabled ?? true },
        );
      }
    }
  } catch (error) {
    for (const g of graphs.values()) await g.close().catch(() => undefined);
    throw error;
  }
  onClose?.(async () => {
    for (const g of graphs.values()) await g.close().catch(() => undefined);
  });
  const probes = tenantDoctorProbesWith(
    {
      graphIn: (t, path) => fetch(`${graphs.get(t.tenantId)!.baseUrl}${path}`, { headers: { authorization: `Bearer ${sandboxGraphToken(t.tenantId)}` } }),
      certificates: vault,
    },
    simulated,
  );
  return [...probes, ...skipped];
}
