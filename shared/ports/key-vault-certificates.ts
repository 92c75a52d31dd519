/**
 * The worker certificate in Key Vault, as `dialtone setup` and `dialtone cert rotate` manage it:
 * metadata and the public part only. The private key never leaves Key Vault through this port
 * (the worker reads it from the certificate's secret, worker/certificate-sources.ts).
 */
export interface CertificatePolicyInput {
  /** `CN=…` */
  subject: string;
  /** Key Vault makes the key exportable so its secret holds the PFX with the private key. */
  exportable: boolean;
  keyType: 'RSA';
  keySize: 2048 | 3072 | 4096;
  contentType: 'application/x-pkcs12';
  validityInMonths: number;
  /** Self-signed: Key Vault issues it at once. */
  issuerName: 'Self';
}

export interface CertificateVersion {
  name: string;
  version: string;
  /** SHA-1 of the DER certificate, upper-case hex (what Graph and Connect-MicrosoftTeams call the thumbprint). */
  thumbprint: string;
  /** The public certificate, base64 DER (what an app registration's key credential holds). */
  cerBase64: string;
  notBefore: Date;
  expiresOn: Date;
  enabled: boolean;
  createdOn: Date;
  policy: { exportable: boolean | undefined; keyType: string | undefined; contentType: string | undefined };
  /** The version's Key Vault tags (none: empty); `cert rotate` keeps its progress in ROTATION_TAG. */
  tags: Record<string, string>;
}

/**
 * The tag `cert rotate` writes on the version it makes: `rotating` from its creation until the
 * run that confirmed the older versions' keys gone from the app, then `done`. A latest version
 * tagged `rotating` is an unfinished rotation the next run continues, whatever step failed (even
 * when Entra applied the removal but its read-back failed); `done` (or no tag, as `dialtone setup`
 * makes it) means the next run starts a new rotation.
 */
export const ROTATION_TAG = 'dialtone-rotation';
export type RotationState = 'rotating' | 'done';

export interface KeyVaultCertificates {
  /** The vault, for messages. */
  readonly vaultUrl: string;
  /** The current (latest) version, or undefined when the vault holds no such certificate. */
  latest(name: string): Promise<CertificateVersion | undefined>;
  /** Every version, newest first (metadata and public part only). */
  versions(name: string): Promise<CertificateVersion[]>;
  /**
   * Creates a certificate, or a new version of it, and waits until Key Vault has issued it.
   * `enabled: false` issues it disabled: its secret cannot be read, so no worker switches to it
   * before its key credential is on the app (`cert rotate` enables it after).
   */
  create(name: string, policy: CertificatePolicyInput, options?: { enabled?: boolean; tags?: Record<string, string> }): Promise<CertificateVersion>;
  /** Enables or disables one version. */
  setEnabled(name: string, version: string, enabled: boolean): Promise<void>;
  /** Replaces one version's tags (updateCertificateProperties). */
  setTags(name: string, version: string, tags: Record<string, string>): Promise<void>;
}

/** The policy Dialtone creates the worker certificate with (exportable RSA, PKCS#12, self-signed). */
export function workerCertificatePolicy(subject: string, validityInMonths = 12): CertificatePolicyInput {
  return { subject, exportable: true, keyType: 'RSA', keySize: 2048, contentType: 'application/x-pkcs12', validityInMonths, issuerName: 'Self' };
}
