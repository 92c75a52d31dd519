import type { PoolSummary } from '../ports/number-inventory.js';
import { notValidYet } from './certificate-clock.js';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  check: string;
  status: CheckStatus;
  detail: string;
  /** The registered tenant a per-tenant check is of (docs/MULTI-TENANT.md); absent for the deployment's checks. */
  tenant?: string;
  tenantName?: string;
}

/** The Teams Communications Administrator directory role (template id). */
export const TEAMS_COMMUNICATIONS_ADMINISTRATOR_ROLE_ID = 'baf37b3a-610e-45da-9e62-d9d1e5e8914b';

const DAY_MS = 86_400_000;

export interface CertificateFacts {
  name: string;
  expiresOn: Date | undefined;
  notBefore: Date | undefined;
  exportable: boolean | undefined;
  contentType: string | undefined;
  enabled: boolean | undefined;
}

/** The worker reads the PFX from the certificate's secret: it must be enabled, valid, exportable and PKCS#12. */
export function judgeCertificate(facts: CertificateFacts, now: Date, warnDays = 30): CheckResult {
  const check = `Key Vault certificate '${facts.name}'`;
  if (facts.enabled === false) return { check, status: 'fail', detail: 'disabled in Key Vault' };
  if (!facts.expiresOn) return { check, status: 'fail', detail: 'has no expiry date: is it a certificate at all?' };
  if (facts.notBefore && notValidYet(facts.notBefore, now.getTime())) {
    return { check, status: 'fail', detail: `not valid before ${facts.notBefore.toISOString()}` };
  }
  const daysLeft = Math.floor((facts.expiresOn.getTime() - now.getTime()) / DAY_MS);
  if (daysLeft < 0) return { check, status: 'fail', detail: `expired on ${facts.expiresOn.toISOString()}: the worker refuses to start` };
  if (facts.exportable === false) {
    return { check, status: 'fail', detail: 'its key is not exportable, so the secret holds no private key for Connect-MicrosoftTeams' };
  }
  if (facts.contentType && facts.contentType !== 'application/x-pkcs12') {
    return { check, status: 'fail', detail: `content type ${facts.contentType}; the worker needs application/x-pkcs12 (PFX)` };
  }
  if (daysLeft < warnDays) {
    return { check, status: 'warn', detail: `expires in ${daysLeft} days (${facts.expiresOn.toISOString()}): rotate it now` };
  }
  return { check, status: 'ok', detail: `valid until ${facts.expiresOn.toISOString()} (${daysLeft} days)` };
}

export interface AppRoleAssignment {
  appRoleId: string;
  resourceId: string;
}

/** One Graph application permission a deployment needs, and what for. */
export interface RequiredPermission {
  permission: string;
  why: string;
}

/**
 * The Graph application permissions the Function App identity needs: User.Read.All always;
 * TeamsUserConfiguration.Read.All for plan's readiness read (either backend) and the graph
 * backend; number and policy assignment for the graph backend. One list, read by `doctor` and
 * kept in step with scripts/grant-graph-permissions.sh (test/infra asserts both).
 */
export function requiredGraphPermissions(backend: 'powershell' | 'graph', readiness: 'graph' | 'off'): RequiredPermission[] {
  const out: RequiredPermission[] = [{ permission: 'User.Read.All', why: 'correlate and plan read users and their licences' }];
  if (backend === 'graph' || readiness === 'graph') {
    out.push({
      permission: 'TeamsUserConfiguration.Read.All',
      why: backend === 'graph' ? "graphVoice reads the user's Teams configuration, and plan waits for Teams provisioning" : 'plan waits for Teams provisioning (DIALTONE_TEAMS_READINESS=graph)',
    });
  }
  if (backend === 'graph') {
    out.push(
      { permission: 'TeamsTelephoneNumber.ReadWrite.All', why: 'graphVoice assigns and unassigns numbers' },
      { permission: 'TeamsPolicyUserAssign.ReadWrite.All', why: 'graphVoice assigns voice policies' },
    );
  }
  return out;
}

export interface GraphPermissionFacts {
  principalId: string;
  /** Microsoft Graph's service principal in this tenant. */
  graphServicePrincipalId: string;
  /** Graph's application roles (permission name → role id), as its own service principal lists them. */
  appRoles: { id: string; value: string | null }[];
  /** The principal's appRoleAssignments. */
  assignments: AppRoleAssignment[];
}

/** One check per required permission: granted, or what it is needed for and the command that grants it. */
export function judgeGraphPermissions(facts: GraphPermissionFacts, required: RequiredPermission[], backend: 'powershell' | 'graph'): CheckResult[] {
  const { principalId } = facts;
  const args = `--function-principal-id ${principalId}${backend === 'graph' ? ' --teams-backend graph' : ''}`;
  const fix = `dialtone setup ${args} (or scripts/grant-graph-permissions.sh ${args})`;
  return required.map(({ permission, why }) => {
    const check = `Graph application permission ${permission} (Function App identity)`;
    const role = facts.appRoles.find((r) => r.value === permission);
    if (!role) return { check, status: 'fail', detail: `Microsoft Graph lists no application permission ${permission} in this tenant (needed: ${why})` };
    const granted = facts.assignments.some(
      (a) => a.appRoleId.toLowerCase() === role.id.toLowerCase() && a.resourceId.toLowerCase() === facts.graphServicePrincipalId.toLowerCase(),
    );
    return granted
      ? { check, status: 'ok', detail: `granted to ${principalId}` }
      : { check, status: 'fail', detail: `not granted to ${principalId} (needed: ${why}): run ${fix}` };
  });
}

/**
 * Admin consent in a customer tenant creates the app's service principal there: without one the
 * worker cannot connect to that tenant at all.
 */
export function judgeConsent(tenantId: string, applicationId: string, servicePrincipal: { id: string } | undefined): CheckResult {
  const check = 'Admin consent (service principal of the worker app)';
  return servicePrincipal
    ? { check, status: 'ok', detail: `app ${applicationId} has service principal ${servicePrincipal.id} in tenant ${tenantId}` }
    : {
        check,
        status: 'fail',
        detail: `app ${applicationId} has no service principal in tenant ${tenantId}: an administrator of that tenant must consent to it (https://login.microsoftonline.com/${tenantId}/adminconsent?client_id=${applicationId}), then give it the Teams Communications Administrator role`,
      };
}

export function judgeTeamsRole(principalId: string, roleDefinitionIds: string[]): CheckResult {
  const check = 'Teams Communications Administrator role (worker app)';
  const granted = roleDefinitionIds.some((id) => id.toLowerCase() === TEAMS_COMMUNICATIONS_ADMINISTRATOR_ROLE_ID);
  return granted
    ? { check, status: 'ok', detail: `assigned to ${principalId}` }
    : { check, status: 'fail', detail: `not assigned to ${principalId}: Teams cmdlets will fail; run dialtone setup (or scripts/grant-graph-permissions.sh)` };
}

/** Pools nearly out of free numbers are worth a warning before joiners start dead-lettering. */
export function judgePools(pools: PoolSummary[], lowFraction = 0.1): CheckResult {
  const check = 'Number pools';
  if (pools.length === 0) return { check, status: 'warn', detail: 'no pools imported: run dialtone numbers import FILE' };
  const low = pools.filter((p) => p.total > 0 && p.counts.free / p.total < lowFraction);
  const summary = pools.map((p) => `${p.pool} ${p.counts.free}/${p.total} free`).join(', ');
  return low.length > 0
    ? { check, status: 'warn', detail: `${summary}; running low: ${low.map((p) => p.pool).join(', ')}` }
    : { check, status: 'ok', detail: summary };
}

export function judgeQueue(queue: string, deadLetters: number, morePossible: boolean): CheckResult {
  const check = `Queue ${queue}`;
  if (deadLetters === 0) return { check, status: 'ok', detail: 'reachable, no dead letters' };
  const count = `${deadLetters}${morePossible ? '+' : ''}`;
  return { check, status: 'warn', detail: `reachable, ${count} dead letters: dialtone dlq list --queue ${queue}` };
}

export function worstStatus(results: CheckResult[]): CheckStatus {
  if (results.some((r) => r.status === 'fail')) return 'fail';
  if (results.some((r) => r.status === 'warn')) return 'warn';
  return 'ok';
}
