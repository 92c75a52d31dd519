import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { DialtoneError } from '../shared/domain/errors.js';
import { classifyKeyVaultAnswer, missingRoleMessage, onTheVault } from '../shared/domain/key-vault-errors.js';
import type { Logger } from '../shared/ports/logger.js';
import { inspectPfx, type CertificateSource, type LoadedCertificate } from './certificate.js';

/** The part of @azure/keyvault-secrets' SecretClient used here. */
export interface SecretReader {
  getSecret(name: string, options?: { version?: string }): Promise<{ value?: string; properties: { version?: string; contentType?: string } }>;
  /** Every version's properties, no value; lets the worker skip a newest version that is still disabled. */
  listPropertiesOfSecretVersions?(name: string): AsyncIterable<{ version?: string; enabled?: boolean; createdOn?: Date }>;
}

/** The part of @azure/keyvault-certificates' CertificateClient used here (no key material). */
export interface CertificatePropertiesReader {
  getCertificate(name: string): Promise<{ properties: { version?: string; expiresOn?: Date; enabled?: boolean } }>;
}

const PKCS12 = 'application/x-pkcs12';

/** The roles infra/main.bicep assigns the worker's identity on the vault (docs/DEPLOYMENT.md). */
export const WORKER_SECRET_ROLE = 'Key Vault Secrets User';
export const WORKER_METADATA_ROLE = 'Key Vault Reader';

/**
 * A Key Vault refusal as the worker reports it. 429 is transient with Key Vault's Retry-After (the
 * certificate provider waits it out, bounded); 403 ForbiddenByRbac is permanent and names the role
 * the worker's identity lacks for that read; never the secret.
 */
function keyVaultError(error: unknown, what: string, vaultUrl: string, role: string): DialtoneError {
  const answer = classifyKeyVaultAnswer(error);
  if (answer.kind === 'notFound') return new DialtoneError('CertificateInvalid', `${what} does not exist.`);
  if (answer.kind === 'throttled') {
    return new DialtoneError('Throttled', `${what} cannot be read now: Key Vault answered 429 (throttled)${answer.retryAfterMs === undefined ? '' : `, retry after ${Math.ceil(answer.retryAfterMs / 1000)} s`}.`, {
      transient: true,
      ...(answer.retryAfterMs === undefined ? {} : { retryAfterMs: answer.retryAfterMs }),
    });
  }
  if (answer.kind === 'forbiddenByRbac') return new DialtoneError('CertificateInvalid', missingRoleMessage(`${what} cannot be read`, "the worker's identity", role, vaultUrl, answer.action));
  if (answer.kind === 'disabled') {
    return new DialtoneError('CertificateInvalid', `${what} cannot be read: no version is enabled (Key Vault refuses the secret of a disabled version, 403). Enable the newest version, or run dialtone cert rotate again if it stopped before enabling it.`);
  }
  if (answer.kind === 'otherForbidden') {
    return new DialtoneError('CertificateInvalid', `${what} cannot be read: Key Vault refused it (403): the worker's identity needs the ${WORKER_SECRET_ROLE} and ${WORKER_METADATA_ROLE} roles ${onTheVault(vaultUrl)}.`);
  }
  const message = error instanceof Error ? error.message : String(error);
  return new DialtoneError('CertificateInvalid', `${what} cannot be read: ${message}`, { transient: true });
}

/**
 * The app certificate from Key Vault: the secret behind the certificate holds the PFX with its
 * private key (base64 PKCS#12, no password) when the certificate policy's content type is PKCS#12.
 */
export function keyVaultCertificateSource(options: {
  vaultUrl: string;
  name: string;
  secrets: SecretReader;
  certificates?: CertificatePropertiesReader;
}): CertificateSource {
  const description = `Key Vault ${options.vaultUrl} certificate '${options.name}'`;
  const secretError = (error: unknown) => keyVaultError(error, description, options.vaultUrl, WORKER_SECRET_ROLE);
  /**
   * The newest enabled version. During a rotation the newest version exists disabled until its key
   * credential is on the app (docs/TENANT.md), and Key Vault refuses to read the latest secret
   * then (403); a worker that starts in that window takes the newest version still enabled.
   */
  const newestEnabled = async (): Promise<string | undefined> => {
    if (!options.secrets.listPropertiesOfSecretVersions) return undefined;
    let best: { version: string; createdOn: number } | undefined;
    for await (const p of options.secrets.listPropertiesOfSecretVersions(options.name)) {
      if (p.enabled === false || p.version === undefined) continue;
      const createdOn = p.createdOn?.getTime() ?? 0;
      if (!best || createdOn >= best.createdOn) best = { version: p.version, createdOn };
    }
    return best?.version;
  };
  const readSecret = async (): Promise<Awaited<ReturnType<SecretReader['getSecret']>>> => {
    try {
      return await options.secrets.getSecret(options.name);
    } catch (error) {
      // Only a disabled latest version sends the worker to the newest enabled one; a missing role does not.
      const kind = classifyKeyVaultAnswer(error).kind;
      if ((kind !== 'disabled' && kind !== 'otherForbidden') || !options.secrets.listPropertiesOfSecretVersions) throw secretError(error);
      let version: string | undefined;
      try {
        version = await newestEnabled();
      } catch (listing) {
        throw secretError(listing);
      }
      if (version === undefined) throw secretError(error);
      try {
        return await options.secrets.getSecret(options.name, { version });
      } catch (again) {
        throw secretError(again);
      }
    }
  };
  return {
    description,
    load: async () => {
      const secret = await readSecret();
      if (!secret.value) throw new DialtoneError('CertificateInvalid', `${description} has no value.`);
      const contentType = secret.properties.contentType;
      if (contentType !== undefined && contentType !== PKCS12) {
        throw new DialtoneError(
          'CertificateInvalid',
          `${description} is stored as ${contentType}; set the certificate policy's content type to ${PKCS12} so the secret holds a PFX.`,
        );
      }
      const facts = inspectPfx(secret.value, null, description);
      return { ...facts, pfxBase64: secret.value, password: null, version: secret.properties.version ?? 'unversioned' };
    },
    latestVersion: async () => {
      const certificates = options.certificates;
      if (!certificates) return (await readSecret()).properties.version;
      let properties;
      try {
        ({ properties } = await certificates.getCertificate(options.name));
      } catch (error) {
        throw keyVaultError(error, description, options.vaultUrl, WORKER_METADATA_ROLE);
      }
      if (properties.enabled !== false) return properties.version;
      // The newest version is still disabled (a rotation between create and enable): the one to run on is the newest enabled.
      try {
        return (await newestEnabled()) ?? properties.version;
      } catch (error) {
        throw secretError(error);
      }
    },
  };
}

/** A PFX file on disk: development only, because the key then lives on the host's disk. */
export function fileCertificateSource(options: { path: string; passwordFile?: string; password?: string; logger: Logger }): CertificateSource {
  const description = `file ${options.path}`;
  const read = async (): Promise<{ bytes: Buffer; password: string | null }> => {
    let bytes: Buffer;
    try {
      bytes = await readFile(options.path);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      throw new DialtoneError('CertificateInvalid', code === 'ENOENT' ? `The certificate ${description} does not exist.` : `The certificate ${description} cannot be read (${String(code)}).`);
    }
    let password = options.password ?? null;
    if (options.passwordFile !== undefined) {
      try {
        password = (await readFile(options.passwordFile, 'utf8')).replace(/\r?\n$/, '');
      } catch {
        throw new DialtoneError('CertificateInvalid', `The certificate password file ${options.passwordFile} cannot be read.`);
      }
    }
    return { bytes, password };
  };
  return {
    description,
    load: async (): Promise<LoadedCertificate> => {
      options.logger.warn('certificate loaded from a local file: development only, use Key Vault in production', { path: options.path });
      const { bytes, password } = await read();
      const pfxBase64 = bytes.toString('base64');
      const facts = inspectPfx(pfxBase64, password, description);
      return { ...facts, pfxBase64, password, version: createHash('sha256').update(bytes).digest('hex').slice(0, 16) };
    },
    latestVersion: async () => createHash('sha256').update((await read()).bytes).digest('hex').slice(0, 16),
  };
}
