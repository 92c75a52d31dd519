import {
  judgeCertificate,
  judgeConsent,
  worstStatus,
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
  /** Every registered tenant (docs/MULTI-TENANT.md): its consent, Teams role and certificate. */
  tenants?: TenantDoctorProbe[];
}

/** What `doctor` asks about one registered tenant; a probe that is undefined is skipped with `skipped`'s reason. */
export interface TenantDoctorProbe {
  tenantId: string;
  displayName: string;
  applicationId: string;
  /** The worker app's service principal in the tenant; undefined when there is none (no admin consent). */
  servicePrincipal?: () => Promise<{ id: string } | undefined>;
  /** The directory role definition ids assigned to that service principal in the tenant. */
  roles?: (servicePrincipalId: string) => Promise<string[]>;
  /** The tenant's Key Vault certificate (the registry's certificateName). */
  certificate?: () => Promise<CertificateFacts>;
  /** Why a probe is missing (a sandbox, a setting), per check. */
  skipped?: { consent?: string; certificate?: string };
}

export interface TenantStatus {
  tenantId: string;
  displayName: string;
  /** The worst of its checks; `skip` when none of them could run. */
  status: ReturnType<typeof worstStatus> | 'skip';
}

/** One line per registered tenant: the worst of its checks (doctor's JSON `tenants`). */
export function tenantStatuses(results: CheckResult[]): TenantStatus[] {
  const out = new Map<string, TenantStatus>();
  for (const r of results) {
    if (r.tenant === undefined || out.has(r.tenant)) continue;
    const mine = results.filter((x) => x.tenant === r.tenant);
    out.set(r.tenant, { tenantId: r.tenant, displayName: r.tenantName ?? '', status: mine.every((x) => x.status === 'skip') ? 'skip' : worstStatus(mine) });
  }
  return [...out.values()];
}

const CONSENT = 'Admin consent (service principal of the worker app)';
const ROLE = 'Teams Communications Administrator role (worker app)';

async function tenantChecks(t: TenantDoctorProbe, now: Date): Promise<CheckResult[]> {
  const tag = (r: CheckResult): CheckResult => ({ ...r, tenant: t.tenantId, tenantName: t.displayName });
  const out: CheckResult[] = [];
  let principal: { id: string } | undefined;
  let consented = false;
  if (t.servicePrincipal) {
    const read = t.servicePrincipal;
    out.push(
      await guarded(CONSENT, async () => {
        principal = await read();
        consented = true;
        return judgeConsent(t.tenantId, t.applicationId, principal);
      }),
    );
  } else out.push({ check: CONSENT, status: 'skip', detail: t.skipped?.consent ?? 'not checked' });
  const roles = t.roles;
  if (principal && roles) {
    const id = principal.id;
    out.push(await guarded(ROLE, async () => judgeTeamsRole(id, await roles(id))));
  } else {
    out.push({ check: ROLE, status: 'skip', detail: consented ? 'no service principal to hold the role (consent first)' : (t.skipped?.consent ?? 'the consent check did not run') });
  }
  if (t.certificate) {
    const certificate = t.certificate;
    out.push(await guarded('Key Vault certificate', async () => judgeCertificate(await certificate(), now)));
  } else out.push({ check: 'Key Vault certificate', status: 'skip', detail: t.skipped?.certificate ?? 'not checked' });
  return out.map(tag);
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
  for (const tenant of probes.tenants ?? []) results.push(...(await tenantChecks(tenant, now)));
  for (const s of probes.skipped) results.push({ check: s.check, status: 'skip', detail: `set ${s.setting} to check it` });
  return results;
}
