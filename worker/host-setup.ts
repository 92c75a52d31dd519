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

/** `pwsh -NoLogo -NoProfile -NonInteractive -File host.ps1` (host.ps1 defends itself without the flag too). */
export function pwshCommand(settings: WorkerSettings): PwshCommand {
  return { command: settings.pwsh.path, args: ['-NoLogo', '-NoProfile', '-NonInteractive', '-File', settings.pwsh.script] };
}
