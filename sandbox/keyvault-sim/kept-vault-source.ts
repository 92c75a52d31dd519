import { keyVaultCertificateSource } from '../../worker/certificate-sources.js';
import type { CertificateSource } from '../../worker/certificate.js';
import { ephemeralCertificateSource } from '../../worker/ephemeral-certificate.js';
import type { SimKeyVault } from './index.js';

/**
 * The worker certificate of a sandbox whose Key Vault was restored from `sandbox-state.json`
 * (`cert rotate --sandbox DIR` runs the sandbox's workers while it waits). Private keys never
 * leave the process that made them, so the kept latest version has no readable secret: until a
 * version made in this process is the latest, the workers connect with a throw-away certificate
 * (as `sandbox run` workers always do) and report its thumbprint. Once this process made and
 * enabled a new version, the workers' own Key Vault code finds it, loads it and switches without a
 * restart — the step `cert rotate` waits for.
 */
export function keptVaultWorkerCertificate(vault: SimKeyVault, name: string, now: Date): CertificateSource {
  const vaultSource = keyVaultCertificateSource({ vaultUrl: vault.vaultUrl, name, secrets: vault, certificates: vault });
  const standIn = ephemeralCertificateSource({ now, validDays: 3650 });
  return {
    description: `${vaultSource.description} (a throw-away certificate while the kept vault holds no private key of its latest version)`,
    load: () => (vault.holdsLatestKey(name) ? vaultSource.load() : standIn.load()),
    latestVersion: async () => (vault.holdsLatestKey(name) ? vaultSource.latestVersion?.() : (await standIn.load()).version),
  };
}
