import { createStaticPolicyCatalog } from '../shared/adapters/file-policy-catalog.js';
import { createGraphDirectory } from '../shared/adapters/graph-directory.js';
import { parseVoicePolicy } from '../shared/domain/policy.js';
import type { Directory } from '../shared/ports/directory.js';
import type { DoctorProbes } from '../shared/usecases/doctor.js';
import type { PlanDeps } from '../shared/usecases/plan-voice.js';
import { startGraphSimulator } from '../sandbox/graph-sim/index.js';
import { SandboxTenantFileSchema, type SandboxTenantFile } from '../sandbox/teams-sim/tenant-file.js';
import { queueNames } from '../shared/contracts/messages.js';
import { UsageError } from './errors.js';
import type { SandboxSession } from './sandbox-session.js';

/** What `--sandbox DIR` stands in with for Graph, the policy files and the deployment. */
export interface SandboxWorld {
  tenant: SandboxTenantFile;
  directory: Directory;
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
  const graph = await startGraphSimulator({ tenant, clock, startMs: clock.startedAt });
  graph.advanceTo(clock.now());
  return {
    tenant,
    directory: createGraphDirectory({ baseUrl: graph.baseUrl, accessToken: async () => 'sandbox-token' }),
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
  };
}

/** `doctor --sandbox DIR`: the sandbox's queues and pools; the Azure-only checks are skipped as such. */
export async function sandboxProbes(session: SandboxSession): Promise<DoctorProbes> {
  const bus = await session.busClient();
  const inventory = await session.inventory();
  return {
    settingsProblems: [],
    queues: {
      names: Object.values(queueNames),
      deadLetters: async (queue, max) => {
        const receiver = bus.createReceiver(queue, { subQueueType: 'deadLetter' });
        try {
          return (await receiver.peekMessages(max)).length;
        } finally {
          await receiver.close();
        }
      },
    },
    pools: () => inventory.pools(),
    skipped: [
      { check: 'Key Vault certificate', setting: 'a real deployment (not in a sandbox)' },
      { check: 'Graph permission of the Function App', setting: 'a real deployment (not in a sandbox)' },
      { check: 'Teams role of the worker app', setting: 'a real deployment (not in a sandbox)' },
    ],
  };
}
