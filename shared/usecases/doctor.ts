import {
  judgeCertificate,
  judgeGraphPermissions,
  judgePools,
  judgeQueue,
  judgeTeamsRole,
  type CertificateFacts,
  type CheckResult,
  type GraphPermissionFacts,
  type RequiredPermission,
} from '../domain/doctor.js';
import { toDialtoneError } from '../domain/errors.js';
import type { PoolSummary } from '../ports/number-inventory.js';
import { judgeAppCredential, type AppCredentialFacts } from '../domain/setup.js';

/**
 * What `dialtone doctor` asks of the deployment. A probe that is `undefined` is skipped with
 * the setting that would enable it; a probe that throws is a failed check with its message.
 */
export interface DoctorProbes {
  settingsProblems: string[];
  queues?: { names: string[]; deadLetters(queue: string, max: number): Promise<number> };
  pools?: () => Promise<PoolSummary[]>;
  certificate?: () => Promise<CertificateFacts>;
  /** The Function App identity's Graph permissions, and the ones its backend needs. */
  graphPermissions?: { backend: 'powershell' | 'graph'; required: RequiredPermission[]; facts: () => Promise<GraphPermissionFacts> };
  teamsRole?: () => Promise<{ principalId: string; roleDefinitionIds: string[] }>;
  /** The worker app's key credentials against Key Vault's current certificate (`dialtone setup`, `cert rotate`). */
  appCredential?: () => Promise<AppCredentialFacts>;
  skipped: { check: string; setting: string }[];
}

const PEEK = 100;

async function guarded(check: string, run: () => Promise<CheckResult>): Promise<CheckResult> {
  try {
    return await run();
  } catch (error) {
    return { check, status: 'fail', detail: toDialtoneError(error).message };
  }
}

export async function runDoctor(probes: DoctorProbes, now: Date): Promise<CheckResult[]> {
  const results: CheckResult[] = [
    probes.settingsProblems.length === 0
      ? { check: 'Configuration', status: 'ok', detail: 'settings present and well-formed' }
      : { check: 'Configuration', status: 'fail', detail: probes.settingsProblems.join('; ') },
  ];
  for (const queue of probes.queues?.names ?? []) {
    results.push(
      await guarded(`Queue ${queue}`, async () => {
        const count = (await probes.queues?.deadLetters(queue, PEEK)) ?? 0;
        return judgeQueue(queue, count, count >= PEEK);
      }),
    );
  }
  if (probes.pools) {
    const pools = probes.pools;
    results.push(await guarded('Number pools', async () => judgePools(await pools())));
  }
  if (probes.certificate) {
    const certificate = probes.certificate;
    results.push(await guarded('Key Vault certificate', async () => judgeCertificate(await certificate(), now)));
  }
  if (probes.graphPermissions) {
    const { backend, required, facts } = probes.graphPermissions;
    try {
      results.push(...judgeGraphPermissions(await facts(), required, backend));
    } catch (error) {
      results.push({ check: 'Graph application permissions (Function App identity)', status: 'fail', detail: toDialtoneError(error).message });
    }
  }
  if (probes.teamsRole) {
    const teams = probes.teamsRole;
    results.push(
      await guarded('Teams Communications Administrator role (worker app)', async () => {
        const facts = await teams();
        return judgeTeamsRole(facts.principalId, facts.roleDefinitionIds);
      }),
    );
  }
  if (probes.appCredential) {
    const credential = probes.appCredential;
    results.push(await guarded('Key credential of the worker app', async () => judgeAppCredential(await credential(), now)));
  }
  for (const s of probes.skipped) results.push({ check: s.check, status: 'skip', detail: `set ${s.setting} to check it` });
  return results;
}
