import { afterEach, describe, expect, it } from 'vitest';
import { startGraphSimulator, type GraphSimulator } from '../../sandbox/graph-sim/index.js';
import { SimKeyVault } from '../../sandbox/keyvault-sim/index.js';
import { SimClock } from '../../sandbox/clock.js';
import { workerCertificatePolicy, type CertificatePolicyInput } from '../../shared/ports/key-vault-certificates.js';
import { keyVaultCertificateSource } from '../../worker/certificate-sources.js';
import { sampleTenant } from '../integration/sandbox-fixtures.js';
import { privateKeyTraces } from './fixtures.js';

let graph: GraphSimulator | undefined;
afterEach(async () => {
  await graph?.close();
  graph = undefined;
});

type JsonBody = Record<string, unknown> & {
  error?: { code: string; message: string };
  value?: unknown[];
  keyCredentials?: { key: string | null; customKeyIdentifier: string }[];
};

const clock = () => new SimClock(new Date('2026-11-02T08:00:00Z'));

async function sim() {
  graph = await startGraphSimulator({ tenant: sampleTenant(), clock: clock() });
  const base = graph.baseUrl;
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: 'Bearer t', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as JsonBody) : undefined };
  };
  return { call };
}

describe('Graph simulator: applications, service principals and role assignments refuse what Graph refuses', () => {
  it('refuses an application without a displayName, a second service principal for one app, and a duplicate directory role assignment with the directory conflict error', async () => {
    const { call } = await sim();
    expect((await call('POST', '/applications', {})).body?.error).toMatchObject({ code: 'Request_BadRequest', message: "Invalid value specified for property 'displayName' of resource 'Application'." });
    const app = (await call('POST', '/applications', { displayName: 'Dialtone worker' })).body!;
    const sp = await call('POST', '/servicePrincipals', { appId: app['appId'] });
    expect(sp.status).toBe(201);
    expect((await call('POST', '/servicePrincipals', { appId: app['appId'] })).status).toBe(409);
    const role = { principalId: sp.body!['id'], roleDefinitionId: 'baf37b3a-610e-45da-9e62-d9d1e5e8914b', directoryScopeId: '/' };
    expect((await call('POST', '/roleManagement/directory/roleAssignments', role)).status).toBe(201);
    const again = await call('POST', '/roleManagement/directory/roleAssignments', role);
    expect(again.status).toBe(400);
    expect(again.body?.error).toMatchObject({ code: 'Request_BadRequest', message: 'A conflicting object with one or more of the specified property values is present in the directory.' });
    expect((await call('POST', '/roleManagement/directory/roleAssignments', { ...role, directoryScopeId: undefined })).body?.error?.message).toContain("'directoryScopeId'");
    const listed = await call('GET', `/roleManagement/directory/roleAssignments?$filter=${encodeURIComponent(`principalId eq '${role.principalId}'`)}`);
    expect(listed.body?.value).toHaveLength(1);
  });

  it('refuses a duplicate app role assignment and one Graph does not publish', async () => {
    const { call } = await sim();
    const graphSp = (await call('GET', "/servicePrincipals(appId='00000003-0000-0000-c000-000000000000')?$select=id,appRoles")).body!;
    const fn = 'f0f0f0f0-5a1d-4b0c-9d1e-00000000d1a1';
    const userRead = (graphSp['appRoles'] as { id: string; value: string }[]).find((r) => r.value === 'User.Read.All')!;
    const duplicate = await call('POST', `/servicePrincipals/${fn}/appRoleAssignments`, { principalId: fn, resourceId: graphSp['id'], appRoleId: userRead.id });
    expect(duplicate.body?.error).toMatchObject({ code: 'Request_BadRequest', message: 'Permission being assigned already exists on the object' });
    const unknown = await call('POST', `/servicePrincipals/${fn}/appRoleAssignments`, { principalId: fn, resourceId: graphSp['id'], appRoleId: '11111111-1111-4111-8111-111111111111' });
    expect(unknown.body?.error?.message).toContain('Permission being assigned was not found');
  });

  it('validates keyCredentials: a certificate as key, dates inside it; PATCH replaces the collection; the key only with $select', async () => {
    const { call } = await sim();
    const app = (await call('POST', '/applications', { displayName: 'Dialtone worker' })).body!;
    const vault = new SimKeyVault(clock());
    const cert = await vault.create('dialtone-teams', workerCertificatePolicy('CN=dialtone-worker'));
    const credential = { type: 'AsymmetricX509Cert', usage: 'Verify', key: cert.cerBase64, displayName: 'v1' };
    expect((await call('PATCH', `/applications/${app['id']}`, { keyCredentials: [{ ...credential, key: 'bm90IGEgY2VydA==' }] })).body?.error?.message).toContain('not a base64 X.509 certificate');
    expect((await call('PATCH', `/applications/${app['id']}`, { keyCredentials: [{ ...credential, usage: 'Sign' }] })).status).toBe(400);
    expect((await call('PATCH', `/applications/${app['id']}`, { keyCredentials: [{ ...credential, endDateTime: '2099-01-01T00:00:00Z' }] })).body?.error?.message).toBe('Key credential end date is invalid.');
    expect((await call('PATCH', `/applications/${app['id']}`, { keyCredentials: [credential, credential] })).status).toBe(400);
    expect((await call('PATCH', `/applications/${app['id']}`, { keyCredentials: [credential] })).status).toBe(204);
    const plain = (await call('GET', `/applications/${app['id']}`)).body!;
    expect(plain.keyCredentials![0]).toMatchObject({ key: null, customKeyIdentifier: Buffer.from(cert.thumbprint, 'hex').toString('base64') });
    const selected = (await call('GET', `/applications/${app['id']}?$select=keyCredentials`)).body!;
    expect(selected.keyCredentials![0]!.key).toBe(cert.cerBase64);
    expect((await call('PATCH', `/applications/${app['id']}`, { keyCredentials: [] })).status).toBe(204);
    expect((await call('GET', `/applications/${app['id']}`)).body!.keyCredentials).toEqual([]);
  });
});

describe('Key Vault simulator', () => {
  it('refuses a policy Key Vault refuses, and names the field', async () => {
    const vault = new SimKeyVault(clock());
    const bad = async (policy: Partial<CertificatePolicyInput>) => {
      try {
        await vault.create('dialtone-teams', { ...workerCertificatePolicy('CN=x'), ...policy } as CertificatePolicyInput);
        return undefined;
      } catch (error) {
        return error as { statusCode: number; code: string; message: string };
      }
    };
    expect(await bad({ subject: 'dialtone' })).toMatchObject({ statusCode: 400, code: 'BadParameter' });
    expect((await bad({ keySize: 1024 as 2048 }))?.message).toContain('key_size');
    expect((await bad({ validityInMonths: 0 }))?.message).toContain('validity_months');
    expect((await bad({ contentType: 'text/plain' as 'application/x-pkcs12' }))?.message).toContain('contentType');
    expect(await vault.versions('dialtone-teams')).toEqual([]);
  });

  it('lets a worker that starts while a rotation\'s new version is still disabled run on the newest enabled one, and move on once it is enabled', async () => {
    const vault = new SimKeyVault(clock());
    const source = keyVaultCertificateSource({ vaultUrl: vault.vaultUrl, name: 'dialtone-teams', secrets: vault, certificates: vault });
    const v1 = await vault.create('dialtone-teams', workerCertificatePolicy('CN=dialtone-worker'));
    // cert rotate's first step: a new version, disabled until its key credential is on the app.
    const v2 = await vault.create('dialtone-teams', workerCertificatePolicy('CN=dialtone-worker'), { enabled: false });
    await expect(vault.getSecret('dialtone-teams')).rejects.toMatchObject({ statusCode: 403 });
    expect(await source.load()).toMatchObject({ version: v1.version, thumbprint: v1.thumbprint, hasPrivateKey: true });
    expect(await source.latestVersion?.()).toBe(v1.version);
    await vault.setEnabled('dialtone-teams', v2.version, true);
    expect(await source.latestVersion?.()).toBe(v2.version);
    expect(await source.load()).toMatchObject({ version: v2.version, thumbprint: v2.thumbprint });
    // With every version disabled there is nothing to run on: the 403 is reported, not hidden.
    await vault.setEnabled('dialtone-teams', v1.version, false);
    await vault.setEnabled('dialtone-teams', v2.version, false);
    await expect(source.load()).rejects.toThrow(/cannot be read: no version is enabled/);
  });

  it('serves the worker the PFX of the newest version; refuses a disabled one (403) and a key that was not exportable reaches the worker without a private key', async () => {
    const vault = new SimKeyVault(clock());
    const source = keyVaultCertificateSource({ vaultUrl: vault.vaultUrl, name: 'dialtone-teams', secrets: vault, certificates: vault });
    await expect(source.load()).rejects.toThrow(/does not exist/);
    const v1 = await vault.create('dialtone-teams', workerCertificatePolicy('CN=dialtone-worker'));
    const loaded = await source.load();
    expect(loaded).toMatchObject({ thumbprint: v1.thumbprint, version: v1.version, hasPrivateKey: true });
    expect(await source.latestVersion?.()).toBe(v1.version);
    await vault.setEnabled('dialtone-teams', v1.version, false);
    await expect(vault.getSecret('dialtone-teams')).rejects.toMatchObject({ statusCode: 403, message: 'Operation get is not allowed on a disabled secret.' });
    await vault.create('dialtone-teams', { ...workerCertificatePolicy('CN=dialtone-worker'), exportable: false });
    expect((await source.load()).hasPrivateKey).toBe(false);
    const state = JSON.stringify(vault.exportState());
    expect(state).not.toContain(loaded.pfxBase64.slice(0, 200));
    expect(privateKeyTraces(state)).toEqual([]);
  });
});
