import forge from 'node-forge';

export interface TestPfxOptions {
  commonName?: string;
  notBefore?: Date;
  notAfter?: Date;
  withKey?: boolean;
  password?: string | null;
}

let keys: forge.pki.rsa.KeyPair | undefined;

/** A self-signed certificate as base64 PKCS#12, made in memory for the test. */
export function makeTestPfx(options: TestPfxOptions = {}): string {
  keys ??= forge.pki.rsa.generateKeyPair({ bits: 1024, e: 0x10001 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = String(Math.floor(Math.random() * 1e9) + 1);
  cert.validity.notBefore = options.notBefore ?? new Date('2026-01-01T00:00:00Z');
  cert.validity.notAfter = options.notAfter ?? new Date('2027-06-01T00:00:00Z');
  const attrs = [{ name: 'commonName', value: options.commonName ?? 'dialtone-worker' }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  const asn1 = forge.pkcs12.toPkcs12Asn1(options.withKey === false ? null : keys.privateKey, cert, options.password ?? null, {
    algorithm: '3des',
  });
  return forge.util.encode64(forge.asn1.toDer(asn1).getBytes());
}

/** SHA-1 of the DER certificate inside, computed independently of the worker's code. */
export function thumbprintOf(pfxBase64: string, password: string | null = null): string {
  const p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(forge.util.decode64(pfxBase64)), false, password ?? undefined);
  const certBag = forge.pki.oids.certBag as string;
  const cert = p12.getBags({ bagType: certBag })[certBag]?.[0]?.cert;
  const md = forge.md.sha1.create();
  md.update(forge.asn1.toDer(forge.pki.certificateToAsn1(cert!)).getBytes());
  return md.digest().toHex().toUpperCase();
}
