/**
 * A strict in-memory Key Vault for the worker certificate: certificates with a policy, their
 * versions, and the secret behind each version, as Key Vault keeps them. It implements the
 * port `dialtone setup` and `cert rotate` use (shared/ports/key-vault-certificates.ts) and the
 * two reads the worker makes (worker/certificate-sources.ts: getSecret, getCertificate), so a
 * rotation in the sandbox is seen by the real worker code. It listens on nothing: it is an
 * object in the sandbox's process.
 *
 * What it refuses, as Key Vault does: a name outside [0-9a-zA-Z-]{1,127}; a policy without a
 * `CN=` subject, with a key type other than RSA/RSA-HSM/EC/EC-HSM, an RSA key size other than
 * 2048/3072/4096, a content type other than PKCS#12 or PEM, a validity outside 1–1200 months;
 * an unknown certificate or secret (404 CertificateNotFound / SecretNotFound); reading the
 * secret of a disabled version (403 Forbidden; listing its versions is allowed). Not modelled: issuers other than Self (a
 * pending CSR), PEM secrets (refused), soft delete, access policies, and RBAC beyond the 403 of a lost
 * role assignment (a fault rule, below).
 *
 * Private keys live only in this object's memory: exportState() keeps metadata and the public
 * certificate, never a key, so a restored version's secret cannot be read (see SANDBOX docs).
 *
 * Outages (chaos runs): `setFaults` makes operations answer 503 ServiceUnavailable as Key Vault
 * does while it cannot be reached, 429 Throttled with Retry-After as it does past its service
 * limits, or 403 Forbidden / ForbiddenByRbac as it does once a role assignment is gone: rules by operation, from a sandbox instant on, `times: N`
 * deterministic, `probability` drawn from a seeded generator. Only the operations callers make
 * count (getCertificate's own read of the latest version does not draw again).
 */
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';
import { z } from 'zod';
import type { Clock } from '../../shared/ports/clock.js';
import type { CertificatePolicyInput, CertificateVersion, KeyVaultCertificates } from '../../shared/ports/key-vault-certificates.js';
import { seededRandom } from '../../shared/domain/seeded-random.js';

/**
 * Shaped like @azure/core-rest-pipeline's RestError as the Key Vault clients throw it: `statusCode`,
 * `code` (the body's error code), `response.headers` (Retry-After on a 429) and `details`, the
 * parsed body `{ error: { code, message, innererror? } }`.
 */
export class KeyVaultSimError extends Error {
  readonly response: { status: number; headers: { get(name: string): string | undefined } };
  readonly details: { error: { code: string; message: string; innererror?: { code: string } } };

  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    options: { innerCode?: string; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = 'RestError';
    const headers = Object.fromEntries(Object.entries(options.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    this.response = { status: statusCode, headers: { get: (name) => headers[name.toLowerCase()] } };
    this.details = { error: { code, message, ...(options.innerCode === undefined ? {} : { innererror: { code: options.innerCode } }) } };
  }
}

interface StoredVersion {
  version: string;
  thumbprint: string;
  cerBase64: string;
  notBefore: number;
  expiresOn: number;
  createdOn: number;
  enabled: boolean;
  policy: { exportable: boolean; keyType: string; contentType: string; subject: string; keySize: number; validityInMonths: number };
  tags?: Record<string, string>;
  /** Only in memory (never exported). */
  pfxBase64?: string;
}

export const KeyVaultSimStateSchema = z.object({
  certificates: z.record(
    z.string(),
    z.array(
      z.object({
        version: z.string(),
        thumbprint: z.string(),
        cerBase64: z.string(),
        notBefore: z.number(),
        expiresOn: z.number(),
        createdOn: z.number(),
        enabled: z.boolean(),
        policy: z.object({ exportable: z.boolean(), keyType: z.string(), contentType: z.string(), subject: z.string(), keySize: z.number(), validityInMonths: z.number() }),
        tags: z.record(z.string(), z.string()).optional(),
      }),
    ),
  ),
});
export type KeyVaultSimState = z.infer<typeof KeyVaultSimStateSchema>;

const NAME = /^[0-9a-zA-Z-]{1,127}$/;
const KEY_TYPES = ['RSA', 'RSA-HSM', 'EC', 'EC-HSM'];
const RSA_SIZES = [2048, 3072, 4096];
const MONTH_MS = 30.4375 * 86_400_000;

export interface KeyVaultSimMetrics {
  created: number;
  secretReads: number;
  certificateReads: number;
  /** 503s answered by fault rules, by operation. */
  faults: Record<string, number>;
  /** 429s (throttling) answered by fault rules, by operation. */
  throttled: Record<string, number>;
  /** 403s (a lost role assignment) answered by fault rules, by operation. */
  forbidden: Record<string, number>;
}

export const keyVaultOperations = ['latest', 'versions', 'create', 'setEnabled', 'setTags', 'getCertificate', 'getSecret', 'listSecretVersions'] as const;
export type KeyVaultOperation = (typeof keyVaultOperations)[number];

export interface KeyVaultFaultRule {
  /** Every operation when absent. */
  operation?: KeyVaultOperation;
  /** Sandbox time (ms since the epoch, on this vault's clock) from which the rule applies; always when absent. */
  fromMs?: number;
  /** How often it fires at most. */
  times?: number;
  /** Drawn from the seeded generator; always when absent. */
  probability?: number;
  /**
   * What Key Vault answers: 503 ServiceUnavailable (the default), 429 Throttled with a Retry-After
   * header (Key Vault's service limits), or 403 Forbidden / ForbiddenByRbac (the caller's role
   * assignment on the vault is gone; see lostRole).
   */
  answer?: 503 | 429 | 403;
  /** A 429's Retry-After, in seconds (default 5). */
  retryAfterSeconds?: number;
}

/** The data action Key Vault's RBAC checks for each operation (named in its 403). */
const dataActions: Record<KeyVaultOperation, string> = {
  latest: 'Microsoft.KeyVault/vaults/certificates/read',
  versions: 'Microsoft.KeyVault/vaults/certificates/read',
  create: 'Microsoft.KeyVault/vaults/certificates/create/action',
  setEnabled: 'Microsoft.KeyVault/vaults/certificates/update/action',
  setTags: 'Microsoft.KeyVault/vaults/certificates/update/action',
  getCertificate: 'Microsoft.KeyVault/vaults/certificates/read',
  getSecret: 'Microsoft.KeyVault/vaults/secrets/getSecret/action',
  listSecretVersions: 'Microsoft.KeyVault/vaults/secrets/readMetadata/action',
};

/**
 * The roles Dialtone assigns on the vault (infra/main.bicep, docs/DEPLOYMENT.md) and the operations
 * of this simulator each one grants its holder: the worker reads the secret (Key Vault Secrets
 * User) and the certificate's metadata (Key Vault Reader); the operator's `setup` / `cert rotate`
 * manage the certificate (Key Vault Certificates Officer).
 */
export const keyVaultRoleOperations = {
  'Key Vault Secrets User': ['getSecret', 'listSecretVersions'],
  'Key Vault Reader': ['getCertificate'],
  'Key Vault Certificates Officer': ['latest', 'versions', 'create', 'setEnabled', 'setTags'],
} as const satisfies Record<string, readonly KeyVaultOperation[]>;
export type KeyVaultRole = keyof typeof keyVaultRoleOperations;

/** Fault rules for a lost role assignment: every operation the role grants answers 403 until the rules change. */
export function lostRole(role: KeyVaultRole, fromMs?: number): KeyVaultFaultRule[] {
  return keyVaultRoleOperations[role].map((operation) => ({ operation, answer: 403 as const, ...(fromMs === undefined ? {} : { fromMs }) }));
}

export interface KeyVaultFaults {
  seed: number;
  rules: readonly KeyVaultFaultRule[];
}

export class SimKeyVault implements KeyVaultCertificates {
  readonly vaultUrl: string;
  private readonly certs = new Map<string, StoredVersion[]>();
  private readonly counters: KeyVaultSimMetrics = { created: 0, secretReads: 0, certificateReads: 0, faults: {}, throttled: {}, forbidden: {} };
  private faultRules: { rule: KeyVaultFaultRule; fired: number }[] = [];
  private random: () => number = seededRandom(1);

  constructor(
    private readonly clock: Clock,
    options: { vaultUrl?: string; state?: KeyVaultSimState } = {},
  ) {
    this.vaultUrl = options.vaultUrl ?? 'https://kv-dialtone-sandbox.vault.azure.net/';
    for (const [name, versions] of Object.entries(options.state?.certificates ?? {})) this.certs.set(name.toLowerCase(), versions.map((v) => ({ ...v })));
  }

  metrics(): KeyVaultSimMetrics {
    return { ...this.counters, faults: { ...this.counters.faults }, throttled: { ...this.counters.throttled }, forbidden: { ...this.counters.forbidden } };
  }

  /** Key Vault outages from now on (undefined: none); replacing the rules resets what they fired. */
  setFaults(faults: KeyVaultFaults | undefined): void {
    this.faultRules = (faults?.rules ?? []).map((rule) => ({ rule, fired: 0 }));
    this.random = seededRandom(faults?.seed ?? 1);
  }

  /**
   * More rules from now on, after the ones in force (a chaos run throttles a worker's restart when
   * it kills the worker); what the others fired, and the seeded generator, carry on.
   */
  addFaults(rules: readonly KeyVaultFaultRule[]): void {
    this.faultRules.push(...rules.map((rule) => ({ rule, fired: 0 })));
  }

  /**
   * Every secret value this vault holds in memory (base64 PFX), for a leak scan of what a run
   * wrote: never logged or exported by the vault itself.
   */
  secretValuesForLeakScan(): string[] {
    return [...this.certs.values()].flatMap((versions) => versions.flatMap((v) => (v.pfxBase64 === undefined ? [] : [v.pfxBase64])));
  }

  /** Whether this process holds the private key of the latest version (one made here, not restored from a saved state). */
  holdsLatestKey(name: string): boolean {
    const versions = this.certs.get(name.toLowerCase());
    return versions?.[versions.length - 1]?.pfxBase64 !== undefined;
  }

  private outage(operation: KeyVaultOperation): void {
    const now = this.clock.now().getTime();
    for (const entry of this.faultRules) {
      const { rule } = entry;
      if (rule.operation !== undefined && rule.operation !== operation) continue;
      if (rule.fromMs !== undefined && now < rule.fromMs) continue;
      if (rule.times !== undefined && entry.fired >= rule.times) continue;
      if (rule.probability !== undefined && this.random() >= rule.probability) continue;
      entry.fired += 1;
      const count = (by: Record<string, number>) => (by[operation] = (by[operation] ?? 0) + 1);
      if (rule.answer === 429) {
        count(this.counters.throttled);
        const seconds = rule.retryAfterSeconds ?? 5;
        throw new KeyVaultSimError(429, 'Throttled', `Request was not allowed because the vault's service limits were exceeded (throttled). Please retry after ${seconds} seconds.`, {
          headers: { 'Retry-After': String(seconds) },
        });
      }
      if (rule.answer === 403) {
        count(this.counters.forbidden);
        const host = new URL(this.vaultUrl).hostname;
        const vaultName = host.split('.')[0] ?? host;
        throw new KeyVaultSimError(
          403,
          'Forbidden',
          [
            'Caller is not authorized to perform action on resource.',
            'If role assignments, deny assignments or role definitions were changed recently, please observe propagation time.',
            'Caller: appid=00000000-0000-0000-0000-00000000d1a1;oid=00000000-0000-0000-0000-00000000d1a2;iss=https://sts.windows.net/00000000-0000-0000-0000-000000000000/',
            `Action: '${dataActions[operation]}'`,
            `Resource: '/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/rg-dialtone/providers/microsoft.keyvault/vaults/${vaultName}'`,
            'Assignment: (not found)',
            'DenyAssignmentId: null',
            "DecisionReason: 'DeniedWithNoValidRBAC' ",
            `Vault: ${vaultName};location=westeurope`,
            '',
          ].join('\r\n'),
          { innerCode: 'ForbiddenByRbac' },
        );
      }
      count(this.counters.faults);
      throw new KeyVaultSimError(503, 'ServiceUnavailable', 'Service Unavailable: the key vault could not be reached. Try again later.');
    }
  }

  /** Metadata and public certificates only: no private key is ever exported. */
  exportState(): KeyVaultSimState {
    return {
      certificates: Object.fromEntries(
        [...this.certs].map(([name, versions]) => [name, versions.map(({ pfxBase64: _key, ...rest }) => ({ ...rest, policy: { ...rest.policy }, ...(rest.tags ? { tags: { ...rest.tags } } : {}) }))]),
      ),
    };
  }

  async latest(name: string): Promise<CertificateVersion | undefined> {
    this.outage('latest');
    return this.newest(name);
  }

  private newest(name: string): CertificateVersion | undefined {
    checkName(name);
    const versions = this.certs.get(name.toLowerCase());
    const newest = versions?.[versions.length - 1];
    return newest ? this.view(name, newest) : undefined;
  }

  async versions(name: string): Promise<CertificateVersion[]> {
    this.outage('versions');
    checkName(name);
    return [...(this.certs.get(name.toLowerCase()) ?? [])].reverse().map((v) => this.view(name, v));
  }

  async create(name: string, policy: CertificatePolicyInput, options: { enabled?: boolean; tags?: Record<string, string> } = {}): Promise<CertificateVersion> {
    this.outage('create');
    checkName(name);
    checkPolicy(policy);
    if (options.tags !== undefined) checkTags(options.tags);
    const now = this.clock.now().getTime();
    const cn = /^CN=([^,]+)/i.exec(policy.subject)?.[1]?.trim() ?? name;
    const made = issue(cn, new Date(now), Math.round(policy.validityInMonths * MONTH_MS), policy.keySize, policy.exportable);
    const stored: StoredVersion = {
      version: randomBytes(16).toString('hex'),
      thumbprint: made.thumbprint,
      cerBase64: made.cerBase64,
      pfxBase64: made.pfxBase64,
      notBefore: made.notBefore.getTime(),
      expiresOn: made.notAfter.getTime(),
      createdOn: now,
      enabled: options.enabled ?? true,
      ...(options.tags === undefined ? {} : { tags: { ...options.tags } }),
      policy: {
        exportable: policy.exportable,
        keyType: policy.keyType,
        contentType: policy.contentType,
        subject: policy.subject,
        keySize: policy.keySize,
        validityInMonths: policy.validityInMonths,
      },
    };
    const versions = this.certs.get(name.toLowerCase()) ?? [];
    versions.push(stored);
    this.certs.set(name.toLowerCase(), versions);
    this.counters.created += 1;
    return this.view(name, stored);
  }

  /** Disables (or enables) one version, as `az keyvault certificate set-attributes --enabled false` does. */
  async setEnabled(name: string, version: string, enabled: boolean): Promise<void> {
    this.outage('setEnabled');
    checkName(name);
    const found = this.certs.get(name.toLowerCase())?.find((v) => v.version === version);
    if (!found) throw notFound('certificate', name);
    found.enabled = enabled;
  }

  /** Replaces one version's tags, as updateCertificateProperties(name, version, { tags }) does. */
  async setTags(name: string, version: string, tags: Record<string, string>): Promise<void> {
    this.outage('setTags');
    checkName(name);
    checkTags(tags);
    const found = this.certs.get(name.toLowerCase())?.find((v) => v.version === version);
    if (!found) throw notFound('certificate', name);
    found.tags = { ...tags };
  }

  /** @azure/keyvault-certificates getCertificate: the latest version's properties and policy (no key). */
  async getCertificate(name: string): Promise<{ properties: { version?: string; expiresOn?: Date; notBefore?: Date; enabled?: boolean }; policy?: { exportable?: boolean; contentType?: string } }> {
    this.outage('getCertificate');
    this.counters.certificateReads += 1;
    const latest = this.newest(name);
    if (!latest) throw notFound('certificate', name);
    return {
      properties: { version: latest.version, expiresOn: latest.expiresOn, notBefore: latest.notBefore, enabled: latest.enabled },
      policy: { exportable: latest.policy.exportable, contentType: latest.policy.contentType },
    };
  }

  /** @azure/keyvault-secrets getSecret: the secret behind the latest version, the PFX (with its key only when exportable). */
  async getSecret(name: string, options: { version?: string } = {}): Promise<{ value?: string; properties: { version?: string; contentType?: string } }> {
    this.outage('getSecret');
    this.counters.secretReads += 1;
    checkName(name);
    const versions = this.certs.get(name.toLowerCase());
    const newest = options.version === undefined ? versions?.[versions.length - 1] : versions?.find((v) => v.version === options.version);
    if (!newest) throw notFound('secret', name);
    if (!newest.enabled) throw new KeyVaultSimError(403, 'Forbidden', 'Operation get is not allowed on a disabled secret.', { innerCode: 'SecretDisabled' });
    if (newest.pfxBase64 === undefined) {
      throw new Error(`the sandbox's Key Vault keeps no private keys between commands: the secret of ${name} version ${newest.version} existed only in the process that created it`);
    }
    return { value: newest.pfxBase64, properties: { version: newest.version, contentType: newest.policy.contentType } };
  }

  /**
   * @azure/keyvault-secrets listPropertiesOfSecretVersions: every version's properties (no value),
   * disabled ones included, as Key Vault lists them (readMetadata, allowed on a disabled version).
   */
  async *listPropertiesOfSecretVersions(name: string): AsyncIterableIterator<{ version?: string; enabled?: boolean; createdOn?: Date; contentType?: string }> {
    this.outage('listSecretVersions');
    checkName(name);
    const versions = this.certs.get(name.toLowerCase());
    if (!versions) throw notFound('secret', name);
    for (const v of [...versions]) yield { version: v.version, enabled: v.enabled, createdOn: new Date(v.createdOn), contentType: v.policy.contentType };
  }

  private view(name: string, v: StoredVersion): CertificateVersion {
    return {
      name,
      version: v.version,
      thumbprint: v.thumbprint,
      cerBase64: v.cerBase64,
      notBefore: new Date(v.notBefore),
      expiresOn: new Date(v.expiresOn),
      createdOn: new Date(v.createdOn),
      // An expired version is still enabled in Key Vault; the worker and doctor refuse it by date.
      enabled: v.enabled,
      policy: { exportable: v.policy.exportable, keyType: v.policy.keyType, contentType: v.policy.contentType },
      tags: { ...(v.tags ?? {}) },
    };
  }
}

function notFound(kind: 'certificate' | 'secret', name: string): KeyVaultSimError {
  const what = kind === 'certificate' ? 'A certificate' : 'A secret';
  return new KeyVaultSimError(
    404,
    kind === 'certificate' ? 'CertificateNotFound' : 'SecretNotFound',
    `${what} with (name/id) ${name} was not found in this key vault. If you recently deleted this ${kind} you may be able to recover it using the correct recovery command.`,
  );
}

/** Key Vault's limits on tags: at most 15, names up to 512 characters, values up to 256. */
function checkTags(tags: Record<string, string>): void {
  const entries = Object.entries(tags);
  if (entries.length > 15) throw new KeyVaultSimError(400, 'BadParameter', 'A resource can have at most 15 tags.');
  for (const [k, v] of entries) {
    if (k.length === 0 || k.length > 512 || typeof v !== 'string' || v.length > 256) throw new KeyVaultSimError(400, 'BadParameter', `The tag ${k.slice(0, 40)} is invalid: names are 1-512 characters, values at most 256.`);
  }
}

function checkName(name: string): void {
  if (!NAME.test(name)) throw new KeyVaultSimError(400, 'BadParameter', `The request URI contains an invalid name: ${name}`);
}

function checkPolicy(policy: CertificatePolicyInput): void {
  const bad = (message: string): never => {
    throw new KeyVaultSimError(400, 'BadParameter', message);
  };
  const p = policy as Partial<Record<keyof CertificatePolicyInput, unknown>>;
  if (typeof p.subject !== 'string' || !/^CN=[^,]+/i.test(p.subject)) bad("Property policy.x509_props.subject must be an X.500 distinguished name such as 'CN=dialtone-worker'.");
  if (p.issuerName !== 'Self') bad("The simulator issues only self-signed certificates: policy.issuer.name must be 'Self'.");
  if (typeof p.keyType !== 'string' || !KEY_TYPES.includes(p.keyType)) bad(`Property policy.key_props.kty has invalid value ${String(p.keyType)}; expected one of ${KEY_TYPES.join(', ')}.`);
  if (p.keyType !== 'RSA') bad('The simulator issues RSA keys only.');
  if (typeof p.keySize !== 'number' || !RSA_SIZES.includes(p.keySize)) bad(`Property policy.key_props.key_size has invalid value ${String(p.keySize)} for an RSA key; expected 2048, 3072 or 4096.`);
  if (p.contentType !== 'application/x-pkcs12') {
    if (p.contentType === 'application/x-pem-file') bad('The simulator keeps PKCS#12 secrets only (the worker needs application/x-pkcs12).');
    bad(`Property policy.secret_props.contentType has invalid value ${String(p.contentType)}.`);
  }
  if (typeof p.exportable !== 'boolean') bad('Property policy.key_props.exportable must be true or false.');
  if (typeof p.validityInMonths !== 'number' || !Number.isInteger(p.validityInMonths) || p.validityInMonths < 1 || p.validityInMonths > 1200) {
    bad(`Property policy.x509_props.validity_months has invalid value ${String(p.validityInMonths)}.`);
  }
}

/** A self-signed certificate valid from `now`; the PFX carries the key only when exportable (Key Vault's secret otherwise holds the certificate alone). */
function issue(commonName: string, now: Date, validMs: number, keySize: number, exportable: boolean) {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: keySize });
  const key = forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }).toString());
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  cert.serialNumber = `01${randomBytes(8).toString('hex')}`;
  cert.validity.notBefore = new Date(now.getTime());
  cert.validity.notAfter = new Date(now.getTime() + validMs);
  const subject = [{ name: 'commonName', value: commonName }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.sign(key, forge.md.sha256.create());
  const der = forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes();
  const pfx = forge.pkcs12.toPkcs12Asn1(exportable ? key : null, cert, null, { algorithm: '3des' });
  return {
    thumbprint: createHash('sha1').update(Buffer.from(der, 'binary')).digest('hex').toUpperCase(),
    cerBase64: forge.util.encode64(der),
    pfxBase64: forge.util.encode64(forge.asn1.toDer(pfx).getBytes()),
    notBefore: cert.validity.notBefore,
    notAfter: cert.validity.notAfter,
  };
}
