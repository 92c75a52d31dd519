import type { CertificateClient, KeyVaultCertificate, KeyVaultCertificateWithPolicy } from '@azure/keyvault-certificates';
import { DialtoneError } from '../domain/errors.js';
import type { CertificatePolicyInput, CertificateVersion, KeyVaultCertificates } from '../ports/key-vault-certificates.js';

const statusOf = (error: unknown): number | undefined => {
  const status = (error as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof status === 'number' ? status : undefined;
};

function view(name: string, c: KeyVaultCertificate | KeyVaultCertificateWithPolicy, policy?: KeyVaultCertificateWithPolicy['policy']): CertificateVersion {
  const p = c.properties;
  if (!c.cer || !p.version || !p.expiresOn || !p.notBefore || !p.x509Thumbprint) {
    throw new DialtoneError('Unexpected', `Key Vault certificate ${name} ${p.version ?? ''} has no issued certificate yet (still pending?)`);
  }
  return {
    name,
    version: p.version,
    thumbprint: Buffer.from(p.x509Thumbprint).toString('hex').toUpperCase(),
    cerBase64: Buffer.from(c.cer).toString('base64'),
    notBefore: p.notBefore,
    expiresOn: p.expiresOn,
    enabled: p.enabled !== false,
    createdOn: p.createdOn ?? p.notBefore,
    policy: { exportable: policy?.exportable, keyType: policy?.keyType, contentType: policy?.contentType },
    tags: { ...(p.tags ?? {}) },
  };
}

/** The worker certificate through @azure/keyvault-certificates (metadata and the public part; never the secret). */
export function createKeyVaultCertificates(client: CertificateClient): KeyVaultCertificates {
  return {
    vaultUrl: client.vaultUrl,
    async latest(name) {
      try {
        const c = await client.getCertificate(name);
        return view(name, c, c.policy);
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw error;
      }
    },
    async versions(name) {
      const out: CertificateVersion[] = [];
      try {
        for await (const p of client.listPropertiesOfCertificateVersions(name)) {
          if (!p.version) continue;
          out.push(view(name, await client.getCertificateVersion(name, p.version)));
        }
      } catch (error) {
        if (statusOf(error) === 404) return [];
        throw error;
      }
      return out.sort((a, b) => b.createdOn.getTime() - a.createdOn.getTime());
    },
    async setEnabled(name, version, enabled) {
      await client.updateCertificateProperties(name, version, { enabled });
    },
    async setTags(name, version, tags) {
      await client.updateCertificateProperties(name, version, { tags });
    },
    async create(name, policy: CertificatePolicyInput, options = {}) {
      const poller = await client.beginCreateCertificate(name, {
        issuerName: policy.issuerName,
        subject: policy.subject,
        exportable: policy.exportable,
        keyType: policy.keyType,
        keySize: policy.keySize,
        contentType: policy.contentType,
        validityInMonths: policy.validityInMonths,
        reuseKey: false,
      }, { ...(options.enabled === undefined ? {} : { enabled: options.enabled }), ...(options.tags === undefined ? {} : { tags: options.tags }) });
      const done = await poller.pollUntilDone();
      return view(name, done, done.policy);
    },
  };
}
