import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';
import { inspectPfx, type CertificateSource, type LoadedCertificate } from './certificate.js';

/**
 * A throw-away self-signed certificate made in memory, for the sandbox and tests where no tenant
 * trusts any certificate. Never use it against a real tenant: nothing would accept it.
 */
export function ephemeralCertificateSource(options: { now: Date; commonName?: string; validDays?: number }): CertificateSource {
  let made: LoadedCertificate | undefined;
  return {
    description: 'an ephemeral self-signed certificate (sandbox)',
    load: async () => {
      made ??= makeCertificate(options.now, options.commonName ?? 'dialtone-sandbox', options.validDays ?? 365);
      return made;
    },
    latestVersion: async () => made?.version,
  };
}

/** A self-signed certificate with its private key, as a password-less PFX (base64); for the sandbox and compose.yaml only. */
export function makeCertificate(now: Date, commonName: string, validDays: number): LoadedCertificate {
  // Native key generation: node-forge's pure-JS RSA takes seconds.
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const key = forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }).toString());
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  cert.serialNumber = `01${randomBytes(8).toString('hex')}`;
  cert.validity.notBefore = new Date(now.getTime() - 60_000);
  cert.validity.notAfter = new Date(now.getTime() + validDays * 86_400_000);
  const subject = [{ name: 'commonName', value: commonName }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.sign(key, forge.md.sha256.create());
  const pfxBase64 = forge.util.encode64(forge.asn1.toDer(forge.pkcs12.toPkcs12Asn1(key, cert, null, { algorithm: '3des' })).getBytes());
  const facts = inspectPfx(pfxBase64, null, 'ephemeral certificate');
  return { ...facts, pfxBase64, password: null, version: facts.thumbprint };
}
