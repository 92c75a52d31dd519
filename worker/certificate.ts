import { createHash } from 'node:crypto';
import forge from 'node-forge';
import { DialtoneError } from '../shared/domain/errors.js';
import type { Logger } from '../shared/ports/logger.js';
import { aheadOfClockMs, notValidYet } from '../shared/domain/certificate-clock.js';

/** The certificate the worker connects with. pfxBase64 and password are secrets: never log them. */
export interface LoadedCertificate {
  pfxBase64: string;
  password: string | null;
  thumbprint: string;
  subject: string;
  notBefore: Date;
  notAfter: Date;
  hasPrivateKey: boolean;
  /** Key Vault version, or the file's fingerprint; a change means rotation. */
  version: string;
}

export interface CertificateSource {
  /** Where it comes from, for messages (never the secret itself). */
  readonly description: string;
  load(): Promise<LoadedCertificate>;
  /** The newest version without fetching the key, when the source can tell cheaply. */
  latestVersion?(): Promise<string | undefined>;
}

export type CertificateFacts = Omit<LoadedCertificate, 'pfxBase64' | 'password' | 'version'>;

const CERT_BAG = forge.pki.oids.certBag as string;
const SHROUDED_KEY_BAG = forge.pki.oids.pkcs8ShroudedKeyBag as string;
const KEY_BAG = forge.pki.oids.keyBag as string;
const EXPIRY_WARNING_MS = 30 * 24 * 60 * 60 * 1000;

/** Reads a PKCS#12 in memory: thumbprint (SHA-1 of the DER certificate), subject, validity, key. */
export function inspectPfx(pfxBase64: string, password: string | null, description: string): CertificateFacts {
  const p12 = readPkcs12(pfxBase64, password);
  if (!p12) {
    throw new DialtoneError('CertificateInvalid', `The certificate from ${description} cannot be read: it is not a PKCS#12 (PFX) file or the password is wrong.`);
  }
  const certBags = p12.getBags({ bagType: CERT_BAG })[CERT_BAG] ?? [];
  const keyBags = [
    ...(p12.getBags({ bagType: SHROUDED_KEY_BAG })[SHROUDED_KEY_BAG] ?? []),
    ...(p12.getBags({ bagType: KEY_BAG })[KEY_BAG] ?? []),
  ];
  const key = keyBags.find((bag) => bag.key)?.key as forge.pki.rsa.PrivateKey | undefined;
  const certs = certBags.map((bag) => bag.cert).filter((cert): cert is forge.pki.Certificate => cert !== undefined);
  const leaf = (key && certs.find((cert) => matchesKey(cert, key))) ?? certs[0];
  if (!leaf) throw new DialtoneError('CertificateInvalid', `The PFX from ${description} holds no certificate.`);
  const der = forge.asn1.toDer(forge.pki.certificateToAsn1(leaf)).getBytes();
  return {
    thumbprint: createHash('sha1').update(Buffer.from(der, 'binary')).digest('hex').toUpperCase(),
    subject: leaf.subject.attributes.map((a) => `${a.shortName ?? a.name ?? a.type}=${String(a.value)}`).join(', '),
    notBefore: leaf.validity.notBefore,
    notAfter: leaf.validity.notAfter,
    hasPrivateKey: key !== undefined && matchesKey(leaf, key),
  };
}

/** A PFX without a password may carry a MAC over the empty password (Key Vault) or none at all. */
function readPkcs12(pfxBase64: string, password: string | null): forge.pkcs12.Pkcs12Pfx | undefined {
  const candidates = password === null ? [undefined, ''] : [password];
  for (const candidate of candidates) {
    try {
      return forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(forge.util.decode64(pfxBase64)), false, candidate);
    } catch {
      // try the next reading
    }
  }
  return undefined;
}

function matchesKey(cert: forge.pki.Certificate, key: forge.pki.rsa.PrivateKey): boolean {
  const publicKey = cert.publicKey as forge.pki.rsa.PublicKey;
  return publicKey.n !== undefined && key.n !== undefined && publicKey.n.compareTo(key.n) === 0;
}

/** Refuses what Connect-MicrosoftTeams would refuse later, with the reason; warns 30 days ahead. */
export function checkCertificate(facts: CertificateFacts, description: string, now: Date, logger: Logger): void {
  const name = `The certificate ${facts.thumbprint} (${facts.subject}) from ${description}`;
  if (!facts.hasPrivateKey) {
    throw new DialtoneError('CertificateInvalid', `${name} has no private key: export it with its key (Key Vault: an exportable key, content type application/x-pkcs12).`);
  }
  if (notValidYet(facts.notBefore, now.getTime())) {
    throw new DialtoneError('CertificateInvalid', `${name} is not valid before ${facts.notBefore.toISOString()}.`);
  }
  const ahead = aheadOfClockMs(facts.notBefore, now.getTime());
  if (ahead > 0) {
    // Within the skew Entra and Key Vault's clocks allow: this host's clock is behind theirs.
    logger.warn("certificate not valid yet by this host's clock", { thumbprint: facts.thumbprint, notBefore: facts.notBefore.toISOString(), aheadSeconds: Math.round(ahead / 1000) });
  }
  if (now >= facts.notAfter) {
    throw new DialtoneError('CertificateInvalid', `${name} expired on ${facts.notAfter.toISOString()}.`);
  }
  if (facts.notAfter.getTime() - now.getTime() < EXPIRY_WARNING_MS) {
    logger.warn('certificate expires soon', { thumbprint: facts.thumbprint, notAfter: facts.notAfter.toISOString() });
  }
}

/** Loads and validates; the message says why the worker refuses to start. */
export async function loadValidCertificate(source: CertificateSource, now: Date, logger: Logger): Promise<LoadedCertificate> {
  const certificate = await source.load();
  checkCertificate(certificate, source.description, now, logger);
  logger.info('certificate loaded', {
    thumbprint: certificate.thumbprint,
    subject: certificate.subject,
    notAfter: certificate.notAfter.toISOString(),
    version: certificate.version,
  });
  return certificate;
}
