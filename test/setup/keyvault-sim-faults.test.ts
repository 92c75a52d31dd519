import { describe, expect, it } from 'vitest';
import { workerCertificatePolicy } from '../../shared/ports/key-vault-certificates.js';
import { SimClock } from '../../sandbox/clock.js';
import { lostRole, SimKeyVault } from '../../sandbox/keyvault-sim/index.js';

const NAME = 'dialtone-teams';

async function vaultWithCertificate() {
  const clock = new SimClock(new Date('2026-11-02T08:00:00Z'));
  const vault = new SimKeyVault(clock);
  await vault.create(NAME, workerCertificatePolicy('CN=Dialtone worker'));
  return { clock, vault };
}

/** What a caller sees of a RestError: status, code, the Retry-After header, the body's inner error. */
async function refusal(call: () => Promise<unknown>) {
  try {
    await call();
  } catch (error) {
    const e = error as { name: string; statusCode: number; code: string; message: string; response?: { headers: { get(n: string): string | undefined } }; details?: { error?: { innererror?: { code?: string } } } };
    return { name: e.name, statusCode: e.statusCode, code: e.code, message: e.message, retryAfter: e.response?.headers.get('retry-after'), inner: e.details?.error?.innererror?.code };
  }
  throw new Error('expected Key Vault to refuse');
}

describe('Key Vault simulator: throttling (429) and a lost role assignment (403), as Key Vault answers them', () => {
  it('answers 429 Throttled with a Retry-After header for as many calls as the rule says, then serves again; counts them apart from 503s', async () => {
    const { vault } = await vaultWithCertificate();
    vault.setFaults({ seed: 1, rules: [{ operation: 'getSecret', answer: 429, retryAfterSeconds: 7, times: 2 }, { operation: 'getCertificate', times: 1 }] });
    const throttled = await refusal(() => vault.getSecret(NAME));
    expect(throttled).toMatchObject({ name: 'RestError', statusCode: 429, code: 'Throttled', retryAfter: '7' });
    expect(throttled.message).toMatch(/throttled/i);
    await expect(vault.getSecret(NAME)).rejects.toMatchObject({ statusCode: 429 });
    expect((await vault.getSecret(NAME)).value).toBeDefined();
    await expect(vault.getCertificate(NAME)).rejects.toMatchObject({ statusCode: 503, code: 'ServiceUnavailable' });
    expect(vault.metrics()).toMatchObject({ faults: { getCertificate: 1 }, throttled: { getSecret: 2 }, forbidden: {} });
  });

  it('adds rules after the ones in force without resetting what they fired', async () => {
    const { vault } = await vaultWithCertificate();
    vault.setFaults({ seed: 1, rules: [{ operation: 'getSecret', times: 1 }] });
    await expect(vault.getSecret(NAME)).rejects.toMatchObject({ statusCode: 503 });
    vault.addFaults([{ operation: 'getSecret', answer: 429, retryAfterSeconds: 30, times: 1 }]);
    // The 503 rule already fired its one time: the added 429 answers next, then Key Vault serves.
    await expect(vault.getSecret(NAME)).rejects.toMatchObject({ statusCode: 429, code: 'Throttled' });
    expect((await vault.getSecret(NAME)).value).toBeDefined();
    expect(vault.metrics()).toMatchObject({ faults: { getSecret: 1 }, throttled: { getSecret: 1 } });
  });

  it("answers 403 Forbidden / ForbiddenByRbac naming the data action, for every operation of a role the caller lost, until it is back", async () => {
    const { vault } = await vaultWithCertificate();
    vault.setFaults({ seed: 1, rules: lostRole('Key Vault Secrets User') });
    const denied = await refusal(() => vault.getSecret(NAME));
    expect(denied).toMatchObject({ statusCode: 403, code: 'Forbidden', inner: 'ForbiddenByRbac', retryAfter: undefined });
    expect(denied.message).toContain('Caller is not authorized to perform action on resource.');
    expect(denied.message).toContain("Action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'");
    expect(denied.message).toContain('Assignment: (not found)');
    const listing = await refusal(async () => {
      for await (const _ of vault.listPropertiesOfSecretVersions(NAME)) void _;
    });
    expect(listing).toMatchObject({ statusCode: 403, inner: 'ForbiddenByRbac' });
    expect(listing.message).toContain("Action: 'Microsoft.KeyVault/vaults/secrets/readMetadata/action'");
    // The metadata reads need another role (Key Vault Reader): still served.
    expect((await vault.getCertificate(NAME)).properties.version).toBeDefined();
    expect(vault.metrics().forbidden).toEqual({ getSecret: 1, listSecretVersions: 1 });

    vault.setFaults({ seed: 1, rules: lostRole('Key Vault Certificates Officer') });
    const create = await refusal(() => vault.create(NAME, workerCertificatePolicy('CN=Dialtone worker')));
    expect(create.message).toContain("Action: 'Microsoft.KeyVault/vaults/certificates/create/action'");
    expect(vault.metrics().created).toBe(1);
    vault.setFaults(undefined);
    expect((await vault.getSecret(NAME)).value).toBeDefined();
  });

  it("keeps a disabled version's 403 apart: Forbidden with the inner code SecretDisabled, not ForbiddenByRbac", async () => {
    const { vault } = await vaultWithCertificate();
    const next = await vault.create(NAME, workerCertificatePolicy('CN=Dialtone worker'), { enabled: false });
    const disabled = await refusal(() => vault.getSecret(NAME, { version: next.version }));
    expect(disabled).toMatchObject({ statusCode: 403, code: 'Forbidden', inner: 'SecretDisabled', message: 'Operation get is not allowed on a disabled secret.' });
  });
});
