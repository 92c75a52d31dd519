/**
 * How the worker host is put together from its settings: where the certificate comes from and how
 * pwsh is started. Shared by worker/main.ts and `dialtone doctor --worker`, so the doctor checks
 * exactly what the worker would run.
 */
import type { TokenCredential } from '@azure/identity';
import { CertificateClient } from '@azure/keyvault-certificates';
import { SecretClient } from '@azure/keyvault-secrets';
import type { WorkerSettings } from '../shared/config/worker-settings.js';
import type { Logger } from '../shared/ports/logger.js';
import type { CertificateSource } from './certificate.js';
import { fileCertificateSource, keyVaultCertificateSource } from './certificate-sources.js';
import type { PwshCommand } from './pwsh-process.js';
import type { WorkerTenant } from './tenant-credentials.js';
import { createTableTenantRegistry } from '../shared/adapters/entity-tenant-registry.js';
import { DialtoneError } from '../shared/domain/errors.js';

export function certificateSource(settings: WorkerSettings, credential: TokenCredential, logger: Logger): CertificateSource {
  const c = settings.certificate;
  if (c.kind === 'file') return fileCertificateSource({ path: c.path, ...(c.passwordFile ? { passwordFile: c.passwordFile } : {}), logger });
  return keyVaultCertificateSource({
    vaultUrl: c.vaultUrl,
    name: c.name,
    secrets: new SecretClient(c.vaultUrl, credential),
    certificates: new CertificateClient(c.vaultUrl, credential),
  });
}

/**
 * The registry's tenants (Table Storage `tenants`, docs/MULTI-TENANT.md), each with its own
 * Key Vault certificate in the worker's vault. None without DIALTONE_TABLES_ENDPOINT or while the
 * registry is empty: the worker then serves its one tenant from the settings, as before. A
 * registry that cannot be read stops the start (the service manager restarts the worker), so a
 * registered tenant's commands are never failed as "not served" by a worker that could not look.
 */
export async function registryTenants(settings: WorkerSettings, credential: TokenCredential, logger: Logger): Promise<WorkerTenant[]> {
  const endpoint = settings.tenantSessions.tablesEndpoint;
  if (!endpoint) return [];
  const tenants = (await createTableTenantRegistry({ endpoint, credential }).list()).filter((t) => t.tenantId !== settings.tenantId.toLowerCase());
  if (tenants.length === 0) return [];
  const c = settings.certificate;
  if (c.kind !== 'keyVault') {
    throw new DialtoneError('ConfigInvalid', `${tenants.length} tenants are registered, and their certificates live in Key Vault: set DIALTONE_KEYVAULT_URL and DIALTONE_CERT_NAME`);
  }
  const secrets = new SecretClient(c.vaultUrl, credential);
  const certificates = new CertificateClient(c.vaultUrl, credential);
  logger.info('serving registered tenants', { tenants: tenants.map((t) => t.tenantId) });
  return tenants.map((t) => ({
    tenantId: t.tenantId,
    applicationId: t.applicationId,
    sessionLimit: t.sessionLimit,
    certificates: keyVaultCertificateSource({ vaultUrl: c.vaultUrl, name: t.certificateName, secrets, certificates }),
  }));
}

/** `pwsh -NoLogo -NoProfile -NonInteractive -File host.ps1` (host.ps1 defends itself without the flag too). */
export function pwshCommand(settings: WorkerSettings): PwshCommand {
  return { command: settings.pwsh.path, args: ['-NoLogo', '-NoProfile', '-NonInteractive', '-File', settings.pwsh.script] };
}
