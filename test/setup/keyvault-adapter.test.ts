import type { CertificateClient } from '@azure/keyvault-certificates';
import { describe, expect, it } from 'vitest';
import { createKeyVaultCertificates } from '../../shared/adapters/keyvault-certificates.js';
import { workerCertificatePolicy } from '../../shared/ports/key-vault-certificates.js';

const issued = (version: string, enabled = true) => ({
  name: 'dialtone-teams',
  cer: new Uint8Array([1, 2, 3]),
  properties: { version, x509Thumbprint: new Uint8Array([0xab, 0x01]), expiresOn: new Date('2027-11-01T00:00:00Z'), notBefore: new Date('2026-11-01T00:00:00Z'), enabled, createdOn: new Date('2026-11-01T00:00:00Z') },
  policy: { exportable: true, keyType: 'RSA', contentType: 'application/x-pkcs12' },
});

/** The part of CertificateClient the adapter calls, recording what it was asked. */
function client(options: { missing?: boolean } = {}) {
  const calls: { op: string; args: unknown[] }[] = [];
  const fake = {
    vaultUrl: 'https://kv.vault.azure.net',
    getCertificate: async (name: string) => {
      calls.push({ op: 'getCertificate', args: [name] });
      if (options.missing) throw Object.assign(new Error('A certificate with (name/id) dialtone-teams was not found in this key vault.'), { statusCode: 404 });
      return issued('v1');
    },
    beginCreateCertificate: async (...args: unknown[]) => {
      calls.push({ op: 'beginCreateCertificate', args });
      return { pollUntilDone: async () => issued('v2', false) };
    },
    updateCertificateProperties: async (...args: unknown[]) => {
      calls.push({ op: 'updateCertificateProperties', args });
      return issued('v2');
    },
  };
  return { calls, client: fake as unknown as CertificateClient };
}

describe('Key Vault adapter (@azure/keyvault-certificates)', () => {
  it('maps a certificate to the port: upper-case hex thumbprint, base64 DER, policy; 404 is "none"', async () => {
    const vault = createKeyVaultCertificates(client().client);
    expect(await vault.latest('dialtone-teams')).toMatchObject({ version: 'v1', thumbprint: 'AB01', cerBase64: 'AQID', enabled: true, policy: { exportable: true, keyType: 'RSA', contentType: 'application/x-pkcs12' } });
    expect(await createKeyVaultCertificates(client({ missing: true }).client).latest('dialtone-teams')).toBeUndefined();
  });

  it('creates with the worker policy (exportable RSA, PKCS#12, Self), disabled when asked, and enables a version', async () => {
    const fake = client();
    const vault = createKeyVaultCertificates(fake.client);
    const made = await vault.create('dialtone-teams', workerCertificatePolicy('CN=Dialtone worker'), { enabled: false });
    expect(made.enabled).toBe(false);
    expect(fake.calls[0]).toEqual({
      op: 'beginCreateCertificate',
      args: ['dialtone-teams', { issuerName: 'Self', subject: 'CN=Dialtone worker', exportable: true, keyType: 'RSA', keySize: 2048, contentType: 'application/x-pkcs12', validityInMonths: 12, reuseKey: false }, { enabled: false }],
    });
    await vault.setEnabled('dialtone-teams', 'v2', true);
    expect(fake.calls[1]).toEqual({ op: 'updateCertificateProperties', args: ['dialtone-teams', 'v2', { enabled: true }] });
  });

  it("passes cert rotate's progress tag at creation, replaces a version's tags, and reads them back (none: empty)", async () => {
    const fake = client();
    const vault = createKeyVaultCertificates(fake.client);
    await vault.create('dialtone-teams', workerCertificatePolicy('CN=Dialtone worker'), { enabled: false, tags: { 'dialtone-rotation': 'rotating' } });
    expect(fake.calls[0]!.args[2]).toEqual({ enabled: false, tags: { 'dialtone-rotation': 'rotating' } });
    await vault.setTags('dialtone-teams', 'v2', { 'dialtone-rotation': 'done' });
    expect(fake.calls[1]).toEqual({ op: 'updateCertificateProperties', args: ['dialtone-teams', 'v2', { tags: { 'dialtone-rotation': 'done' } }] });
    expect((await vault.latest('dialtone-teams'))!.tags).toEqual({});
    const tagged = client();
    tagged.client.getCertificate = (async () => ({ ...issued('v3'), properties: { ...issued('v3').properties, tags: { 'dialtone-rotation': 'rotating' } } })) as unknown as CertificateClient['getCertificate'];
    expect((await createKeyVaultCertificates(tagged.client).latest('dialtone-teams'))!.tags).toEqual({ 'dialtone-rotation': 'rotating' });
  });
});
