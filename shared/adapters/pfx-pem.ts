import forge from 'node-forge';
import { DialtoneError } from '../domain/errors.js';

/** What a PFX holds, for a credential that wants PEM (@azure/identity ClientCertificateCredential). Secret: never log `pem`. */
export interface PemCertificate {
  /** The leaf certificate and its private key, PEM-encoded, in one string. */
  pem: string;
  thumbprint: string;
  notBefore: Date;
  notAfter: Date;
}

const CERT_BAG = forge.pki.oids.certBag as string;
const SHROUDED_KEY_BAG = forge.pki.oids.pkcs8ShroudedKeyBag as string;
const KEY_BAG = forge.pki.oids.keyBag as string;

/**
 * A PKCS#12 (the secret behind a Key Vault certificate: base64, no password, or a MAC over the
 * empty one) as the PEM certificate + private key ClientCertificateCredential takes. Refuses
 * (CertificateInvalid, naming `description`, never the content) a PFX that cannot be read or
 * holds no private key for its certificate.
 */
export function pfxToPem(pfxBase64: string, password: string | null, description: string): PemCertificate {
  let p12: forge.pkcs12.Pkcs12Pfx | undefined;
  for (const candidate of password === null ? [undefined, ''] : [password]) {
    try {
      p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(forge.util.decode64(pfxBase64)), false, candidate);
      break;
    } catch {
      // the next reading
    }
  }
  if (!p12) throw new DialtoneError('CertificateInvalid', `${description} cannot be read: it is not a PKCS#12 (PFX) file or the password is wrong.`);
  const keys = [...(p12.getBags({ bagType: SHROUDED_KEY_BAG })[SHROUDED_KEY_BAG] ?? []), ...(p12.getBags({ bagType: KEY_BAG })[KEY_BAG] ?? [])];
  const key = keys.find((bag) => bag.key)?.key as forge.pki.rsa.PrivateKey | undefined;
  const certs = (p12.getBags({ bagType: CERT_BAG })[CERT_BAG] ?? []).map((bag) => bag.cert).filter((c): c is forge.pki.Certificate => c !== undefined);
  const leaf = key ? certs.find((c) => (c.publicKey as forge.pki.rsa.PublicKey).n?.compareTo(key.n) === 0) : undefined;
  if (!key || !leaf) {
    throw new DialtoneError('CertificateInvalid', `${description} has no private key for its certificate: create it with an exportable key and content type application/x-pkcs12.`);
  }
  const der = forge.asn1.toDer(forge.pki.certificateToAsn1(leaf)).getBytes();
  return {
    pem: `${forge.pki.certificateToPem(leaf)}${forge.pki.privateKeyToPem(key)}`,
    thumbprint: forge.md.sha1.create().update(der).digest().toHex().toUpperCase(),
    notBefore: leaf.validity.notBefore,
    notAfter: leaf.validity.notAfter,
  };
}
