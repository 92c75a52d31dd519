import { TEAMS_COMMUNICATIONS_ADMINISTRATOR_ROLE_ID, type RequiredPermission } from '../domain/doctor.js';
import { toDialtoneError } from '../domain/errors.js';
import { certificateSubject, credentialDisplayName, daysLeft, notAttempted, sameThumbprint, unusableBecause, type SetupItem } from '../domain/setup.js';
import type { AppRegistration, EntraAdmin } from '../ports/entra-admin.js';
import { workerCertificatePolicy, type CertificateVersion, type KeyVaultCertificates } from '../ports/key-vault-certificates.js';

export interface SetupInput {
  /** The worker's app registration (display name; found, or created). */
  appDisplayName: string;
  certificateName: string;
  /** The Function App's managed identity (object id), which gets the Graph application permissions; undefined: that step is skipped. */
  functionPrincipalId: string | undefined;
  /** The one list of Graph permissions (shared/domain/doctor.ts requiredGraphPermissions). */
  permissions: RequiredPermission[];
  /** The Teams backend: with `graph` the worker's Teams role is optional, and still assigned. */
  dryRun: boolean;
  now: Date;
}

export interface SetupResult {
  items: SetupItem[];
  /** What the worker and the Bicep need next (DIALTONE_APP_ID, DIALTONE_WORKER_PRINCIPAL_ID). */
  application?: { appId: string; objectId: string; servicePrincipalId?: string };
  certificate?: { name: string; version: string; thumbprint: string; expiresOn: string };
}

const failure = (error: unknown): string => toDialtoneError(error).message;

/**
 * `dialtone setup`: the worker's app registration and service principal, its certificate in Key
 * Vault (exportable RSA, PKCS#12), the certificate's public key on the app, the Graph application
 * permissions of the Function App identity and the Teams Communications Administrator role of the
 * worker. Each step reads first and writes only what is missing, so a second run reports every
 * item `already_exists`; with `dryRun` nothing is written and each item says what would be done.
 */
export async function runSetup(entra: EntraAdmin, vault: KeyVaultCertificates, input: SetupInput): Promise<SetupResult> {
  const items: SetupItem[] = [];
  const result: SetupResult = { items };
  const would = (text: string): string => (input.dryRun ? `would ${text}` : text);

  // 1. The application.
  let app: AppRegistration | undefined;
  const appIdentity = input.appDisplayName;
  try {
    const found = await entra.findApplication(input.appDisplayName);
    if (found.length > 1) {
      items.push({ kind: 'application', identity: appIdentity, status: 'failed', detail: `${found.length} applications are named '${input.appDisplayName}' (${found.map((a) => a.appId).join(', ')}): rename or delete all but one, or choose another --app-name` });
    } else if (found[0]) {
      app = found[0];
      items.push({ kind: 'application', identity: appIdentity, status: 'already_exists', detail: `application id ${app.appId}` });
    } else if (input.dryRun) {
      items.push({ kind: 'application', identity: appIdentity, status: 'created', detail: 'would create the app registration (single tenant)' });
    } else {
      app = await entra.createApplication(input.appDisplayName);
      items.push({ kind: 'application', identity: appIdentity, status: 'created', detail: `application id ${app.appId}` });
    }
  } catch (error) {
    items.push({ kind: 'application', identity: appIdentity, status: 'failed', detail: failure(error) });
  }
  const appFailed = items[items.length - 1]?.status === 'failed';
  if (app) result.application = { appId: app.appId, objectId: app.id };

  // 2. Its service principal.
  let principalId: string | undefined;
  const spIdentity = `${input.appDisplayName} (service principal)`;
  if (appFailed) items.push(notAttempted('servicePrincipal', spIdentity, 'the application step failed'));
  else if (!app) items.push({ kind: 'servicePrincipal', identity: spIdentity, status: 'created', detail: 'would create the service principal of the new application' });
  else {
    try {
      const sp = await entra.findServicePrincipal(app.appId);
      if (sp) {
        principalId = sp.id;
        items.push({ kind: 'servicePrincipal', identity: spIdentity, status: 'already_exists', detail: `object id ${sp.id}` });
      } else if (input.dryRun) {
        items.push({ kind: 'servicePrincipal', identity: spIdentity, status: 'created', detail: would('create the service principal') });
      } else {
        principalId = (await entra.createServicePrincipal(app.appId)).id;
        items.push({ kind: 'servicePrincipal', identity: spIdentity, status: 'created', detail: `object id ${principalId}` });
      }
    } catch (error) {
      items.push({ kind: 'servicePrincipal', identity: spIdentity, status: 'failed', detail: failure(error) });
    }
  }
  if (result.application && principalId) result.application.servicePrincipalId = principalId;
  const spFailed = items[items.length - 1]?.status === 'failed';

  // 3. The certificate in Key Vault.
  let certificate: CertificateVersion | undefined;
  const certIdentity = `${vault.vaultUrl.replace(/\/$/, '')}/certificates/${input.certificateName}`;
  try {
    const latest = await vault.latest(input.certificateName);
    const reason = latest ? unusableBecause(latest, input.now) : undefined;
    if (latest && !reason) {
      certificate = latest;
      items.push({ kind: 'certificate', identity: certIdentity, status: 'already_exists', detail: `version ${latest.version}, thumbprint ${latest.thumbprint}, expires ${latest.expiresOn.toISOString()} (${daysLeft(latest.expiresOn, input.now)} days)` });
    } else if (input.dryRun) {
      items.push({ kind: 'certificate', identity: certIdentity, status: latest ? 'updated' : 'created', detail: latest ? `would create a new version: ${reason}` : 'would have Key Vault create it (exportable RSA 2048, PKCS#12, self-signed, 12 months)' });
    } else {
      certificate = await vault.create(input.certificateName, workerCertificatePolicy(certificateSubject(input.appDisplayName)));
      const made = `version ${certificate.version}, thumbprint ${certificate.thumbprint}, expires ${certificate.expiresOn.toISOString()}`;
      items.push({ kind: 'certificate', identity: certIdentity, status: latest ? 'updated' : 'created', detail: latest ? `new ${made} (${reason})` : made });
    }
  } catch (error) {
    items.push({ kind: 'certificate', identity: certIdentity, status: 'failed', detail: failure(error) });
  }
  const certFailed = items[items.length - 1]?.status === 'failed';
  if (certificate) result.certificate = { name: input.certificateName, version: certificate.version, thumbprint: certificate.thumbprint, expiresOn: certificate.expiresOn.toISOString() };

  // 4. The certificate's public key on the application.
  const keyIdentity = certificate ? `${input.appDisplayName} key ${certificate.thumbprint}` : `${input.appDisplayName} key`;
  if (appFailed || certFailed) items.push(notAttempted('keyCredential', keyIdentity, appFailed ? 'the application step failed' : 'the certificate step failed'));
  else if (!app || !certificate) items.push({ kind: 'keyCredential', identity: keyIdentity, status: 'created', detail: 'would add the certificate\'s public key to the application' });
  else {
    try {
      const existing = await entra.keyCredentials(app.id);
      if (existing.some((k) => sameThumbprint(k.thumbprint, certificate.thumbprint))) {
        items.push({ kind: 'keyCredential', identity: keyIdentity, status: 'already_exists', detail: `the application holds it (${existing.length} certificate credential${existing.length === 1 ? '' : 's'})` });
      } else if (input.dryRun) {
        items.push({ kind: 'keyCredential', identity: keyIdentity, status: 'created', detail: `would add it beside the ${existing.length} credential(s) the application holds` });
      } else {
        // PATCH replaces the collection: the existing credentials go back with their keys.
        await entra.setKeyCredentials(app.id, [
          ...existing,
          { displayName: credentialDisplayName(input.certificateName, certificate.version), key: certificate.cerBase64, startDateTime: certificate.notBefore.toISOString(), endDateTime: certificate.expiresOn.toISOString() },
        ]);
        items.push({ kind: 'keyCredential', identity: keyIdentity, status: 'created', detail: `added (valid until ${certificate.expiresOn.toISOString()}), beside ${existing.length} existing` });
      }
    } catch (error) {
      items.push({ kind: 'keyCredential', identity: keyIdentity, status: 'failed', detail: failure(error) });
    }
  }

  // 5. Graph application permissions of the Function App identity.
  if (input.functionPrincipalId === undefined) {
    for (const p of input.permissions) items.push({ kind: 'graphPermission', identity: p.permission, status: 'failed', detail: 'not attempted: no Function App identity (set DIALTONE_FUNCTION_PRINCIPAL_ID or --function-principal-id)' });
  } else {
    const fn = input.functionPrincipalId;
    try {
      const graph = await entra.graphServicePrincipal();
      const held = await entra.appRoleAssignments(fn);
      for (const p of input.permissions) {
        const role = graph.appRoles.find((r) => r.value === p.permission);
        if (!role) {
          items.push({ kind: 'graphPermission', identity: p.permission, status: 'failed', detail: `Microsoft Graph lists no application permission ${p.permission} in this tenant` });
          continue;
        }
        if (held.some((a) => a.appRoleId.toLowerCase() === role.id.toLowerCase() && a.resourceId.toLowerCase() === graph.id.toLowerCase())) {
          items.push({ kind: 'graphPermission', identity: p.permission, status: 'already_exists', detail: `granted to the Function App identity ${fn}` });
        } else if (input.dryRun) {
          items.push({ kind: 'graphPermission', identity: p.permission, status: 'created', detail: `would grant to the Function App identity ${fn} (${p.why})` });
        } else {
          try {
            await entra.assignAppRole(fn, graph.id, role.id);
            items.push({ kind: 'graphPermission', identity: p.permission, status: 'created', detail: `granted to the Function App identity ${fn} (${p.why})` });
          } catch (error) {
            items.push({ kind: 'graphPermission', identity: p.permission, status: 'failed', detail: failure(error) });
          }
        }
      }
    } catch (error) {
      for (const p of input.permissions) items.push({ kind: 'graphPermission', identity: p.permission, status: 'failed', detail: failure(error) });
    }
  }

  // 6. Teams Communications Administrator for the worker's service principal, tenant-wide.
  const roleIdentity = 'Teams Communications Administrator';
  if (appFailed || spFailed) items.push(notAttempted('directoryRole', roleIdentity, 'the service principal step failed'));
  else if (!principalId) items.push({ kind: 'directoryRole', identity: roleIdentity, status: 'created', detail: 'would assign it to the new service principal (directory scope /)' });
  else {
    try {
      const roles = await entra.directoryRoleAssignments(principalId);
      if (roles.some((r) => r.roleDefinitionId.toLowerCase() === TEAMS_COMMUNICATIONS_ADMINISTRATOR_ROLE_ID && r.directoryScopeId === '/')) {
        items.push({ kind: 'directoryRole', identity: roleIdentity, status: 'already_exists', detail: `assigned to ${principalId} (directory scope /)` });
      } else if (input.dryRun) {
        items.push({ kind: 'directoryRole', identity: roleIdentity, status: 'created', detail: `would assign it to ${principalId} (directory scope /)` });
      } else {
        await entra.assignDirectoryRole(principalId, TEAMS_COMMUNICATIONS_ADMINISTRATOR_ROLE_ID, '/');
        items.push({ kind: 'directoryRole', identity: roleIdentity, status: 'created', detail: `assigned to ${principalId} (directory scope /)` });
      }
    } catch (error) {
      items.push({ kind: 'directoryRole', identity: roleIdentity, status: 'failed', detail: failure(error) });
    }
  }
  return result;
}
