import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryLogger } from '../../shared/logging/logger.js';
import { inspectPfx, loadValidCertificate } from '../../worker/certificate.js';
import { CertificateProvider } from '../../worker/certificate-provider.js';
import { ephemeralCertificateSource } from '../../worker/ephemeral-certificate.js';
import { fileCertificateSource, keyVaultCertificateSource, type SecretReader } from '../../worker/certificate-sources.js';
import { workerCertificatePolicy } from '../../shared/ports/key-vault-certificates.js';
import { SimClock } from '../../sandbox/clock.js';
import { lostRole, SimKeyVault } from '../../sandbox/keyvault-sim/index.js';
import { makeTestPfx, thumbprintOf } from './helpers/certificates.js';
import { ManualTimers } from './helpers/manual-timers.js';

const now = new Date('2026-11-02T08:00:00Z');
const clock = { now: () => now };
const vaultUrl = 'https://contoso-dialtone.vault.azure.net';

/** Shaped like SecretClient; `versions` lets a test rotate the certificate. */
function fakeSecrets(versions: { value?: string; version: string; contentType?: string }[]): SecretReader & { rotate(): void } {
  let index = 0;
  return {
    getSecret: async (name) => {
      if (name !== 'dialtone-teams') throw Object.assign(new Error('SecretNotFound'), { statusCode: 404 });
      const v = versions[index]!;
      return { value: v.value, properties: { version: v.version, contentType: v.contentType ?? 'application/x-pkcs12' } };
    },
    rotate: () => {
      index += 1;
    },
  };
}

describe('inspectPfx', () => {
  it('computes the thumbprint as the SHA-1 of the DER certificate', () => {
    const pfx = makeTestPfx();
    expect(inspectPfx(pfx, null, 'test').thumbprint).toBe(thumbprintOf(pfx));
  });

  it('reads subject, validity and the private key', () => {
    expect(inspectPfx(makeTestPfx({ commonName: 'dialtone-prod' }), null, 'test')).toMatchObject({
      subject: 'CN=dialtone-prod',
      notBefore: new Date('2026-01-01T00:00:00Z'),
      notAfter: new Date('2027-06-01T00:00:00Z'),
      hasPrivateKey: true,
    });
  });

  it('opens a PFX protected with a password', () => {
    expect(inspectPfx(makeTestPfx({ password: 'pw-123' }), 'pw-123', 'test').hasPrivateKey).toBe(true);
  });

  it('refuses a wrong password without echoing it', () => {
    expect(() => inspectPfx(makeTestPfx({ password: 'right-pw' }), 'wrong-pw', 'file x.pfx')).toThrow(
      'The certificate from file x.pfx cannot be read: it is not a PKCS#12 (PFX) file or the password is wrong.',
    );
  });
});

describe('loading the Key Vault certificate', () => {
  it('loads the PFX from the secret behind the certificate', async () => {
    const pfx = makeTestPfx();
    const source = keyVaultCertificateSource({ vaultUrl, name: 'dialtone-teams', secrets: fakeSecrets([{ value: pfx, version: 'v1' }]) });
    expect(await loadValidCertificate(source, now, createMemoryLogger())).toMatchObject({
      pfxBase64: pfx,
      password: null,
      version: 'v1',
      thumbprint: thumbprintOf(pfx),
    });
  });

  it('refuses to start when the certificate is missing', async () => {
    const source = keyVaultCertificateSource({ vaultUrl, name: 'missing', secrets: fakeSecrets([]) });
    await expect(loadValidCertificate(source, now, createMemoryLogger())).rejects.toMatchObject({
      code: 'CertificateInvalid',
      message: `Key Vault ${vaultUrl} certificate 'missing' does not exist.`,
    });
  });

  it('refuses to start when the certificate has expired', async () => {
    const pfx = makeTestPfx({ notBefore: new Date('2025-01-01T00:00:00Z'), notAfter: new Date('2026-01-01T00:00:00Z') });
    const source = keyVaultCertificateSource({ vaultUrl, name: 'dialtone-teams', secrets: fakeSecrets([{ value: pfx, version: 'v1' }]) });
    await expect(loadValidCertificate(source, now, createMemoryLogger())).rejects.toMatchObject({
      code: 'CertificateInvalid',
      message: `The certificate ${thumbprintOf(pfx)} (CN=dialtone-worker) from Key Vault ${vaultUrl} certificate 'dialtone-teams' expired on 2026-01-01T00:00:00.000Z.`,
    });
  });

  it('refuses to start when the certificate is not valid yet', async () => {
    const pfx = makeTestPfx({ notBefore: new Date('2026-12-01T00:00:00Z') });
    const source = keyVaultCertificateSource({ vaultUrl, name: 'dialtone-teams', secrets: fakeSecrets([{ value: pfx, version: 'v1' }]) });
    await expect(loadValidCertificate(source, now, createMemoryLogger())).rejects.toThrow(/is not valid before 2026-12-01T00:00:00.000Z\.$/);
  });

  it('starts on a certificate that begins within the clock-skew tolerance (a new Key Vault version read by a host whose clock is minutes slow), with a warning naming the skew', async () => {
    // Key Vault dates a new version from its own clock: a worker host 5 minutes slow reads it as valid in 5 minutes.
    const pfx = makeTestPfx({ notBefore: new Date(now.getTime() + 5 * 60_000) });
    const source = keyVaultCertificateSource({ vaultUrl, name: 'dialtone-teams', secrets: fakeSecrets([{ value: pfx, version: 'v1' }]) });
    const logger = createMemoryLogger();
    expect(await loadValidCertificate(source, now, logger)).toMatchObject({ thumbprint: thumbprintOf(pfx) });
    expect(logger.lines.some((l) => l.includes('"certificate not valid yet by this host\'s clock"') && l.includes('"aheadSeconds":300'))).toBe(true);
  });

  it('still refuses a certificate that begins beyond the clock-skew tolerance', async () => {
    const pfx = makeTestPfx({ notBefore: new Date(now.getTime() + 11 * 60_000) });
    const source = keyVaultCertificateSource({ vaultUrl, name: 'dialtone-teams', secrets: fakeSecrets([{ value: pfx, version: 'v1' }]) });
    await expect(loadValidCertificate(source, now, createMemoryLogger())).rejects.toThrow(/is not valid before .*\.$/);
  });

  it('refuses to start when the PFX has no private key', async () => {
    const pfx = makeTestPfx({ withKey: false });
    const source = keyVaultCertificateSource({ vaultUrl, name: 'dialtone-teams', secrets: fakeSecrets([{ value: pfx, version: 'v1' }]) });
    await expect(loadValidCertificate(source, now, createMemoryLogger())).rejects.toThrow(/has no private key: export it with its key/);
  });

  it('refuses a PEM secret and names the content type to use', async () => {
    const source = keyVaultCertificateSource({
      vaultUrl,
      name: 'dialtone-teams',
      secrets: fakeSecrets([{ value: '-----BEGIN', version: 'v1', contentType: 'application/x-pem-file' }]),
    });
    await expect(loadValidCertificate(source, now, createMemoryLogger())).rejects.toThrow(
      /is stored as application\/x-pem-file; set the certificate policy's content type to application\/x-pkcs12/,
    );
  });

  it('warns when the certificate expires within 30 days', async () => {
    const pfx = makeTestPfx({ notAfter: new Date('2026-11-20T00:00:00Z') });
    const logger = createMemoryLogger();
    const source = keyVaultCertificateSource({ vaultUrl, name: 'dialtone-teams', secrets: fakeSecrets([{ value: pfx, version: 'v1' }]) });
    await loadValidCertificate(source, now, logger);
    expect(logger.lines.some((l) => l.includes('"level":"warn"') && l.includes('certificate expires soon'))).toBe(true);
  });

  it('never logs the PFX', async () => {
    const pfx = makeTestPfx();
    const logger = createMemoryLogger();
    const source = keyVaultCertificateSource({ vaultUrl, name: 'dialtone-teams', secrets: fakeSecrets([{ value: pfx, version: 'v1' }]) });
    await loadValidCertificate(source, now, logger);
    expect(logger.lines.join('\n')).not.toContain(pfx.slice(0, 64));
  });
});

describe('certificate rotation', () => {
  it('loads a new Key Vault version and tells the pool to retire old sessions', async () => {
    const secrets = fakeSecrets([
      { value: makeTestPfx({ commonName: 'v1' }), version: 'v1' },
      { value: makeTestPfx({ commonName: 'v2' }), version: 'v2' },
    ]);
    const rotated: string[] = [];
    const timers = new ManualTimers();
    const provider = new CertificateProvider(keyVaultCertificateSource({ vaultUrl, name: 'dialtone-teams', secrets }), {
      clock,
      logger: createMemoryLogger(),
      timers,
      reloadIntervalMs: 60_000,
      onRotate: (c) => rotated.push(c.version),
    });
    await provider.start();
    secrets.rotate();
    expect(await provider.checkForRotation()).toBe(true);
    expect([provider.current().subject, rotated]).toEqual(['CN=v2', ['v2']]);
    provider.stop();
  });

  it('keeps the current certificate when the new version is invalid', async () => {
    const secrets = fakeSecrets([
      { value: makeTestPfx({ commonName: 'v1' }), version: 'v1' },
      { value: makeTestPfx({ commonName: 'v2', withKey: false }), version: 'v2' },
    ]);
    const logger = createMemoryLogger();
    const provider = new CertificateProvider(keyVaultCertificateSource({ vaultUrl, name: 'dialtone-teams', secrets }), {
      clock,
      logger,
      reloadIntervalMs: 0,
    });
    await provider.start();
    secrets.rotate();
    expect(await provider.checkForRotation()).toBe(false);
    expect(provider.current().subject).toBe('CN=v1');
    expect(logger.lines.some((l) => l.includes('certificate check failed; keeping the current certificate'))).toBe(true);
  });
});

describe('the development file source', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('reads a PFX and its password file and warns that it is for development only', async () => {
    dir = await mkdtemp(join(tmpdir(), 'dialtone-cert-'));
    const pfx = makeTestPfx({ password: 'file-pw' });
    await writeFile(join(dir, 'app.pfx'), Buffer.from(pfx, 'base64'));
    await writeFile(join(dir, 'password.txt'), 'file-pw\n');
    const logger = createMemoryLogger();
    const source = fileCertificateSource({ path: join(dir, 'app.pfx'), passwordFile: join(dir, 'password.txt'), logger });
    const loaded = await loadValidCertificate(source, now, logger);
    expect([loaded.thumbprint, loaded.password]).toEqual([thumbprintOf(pfx, 'file-pw'), 'file-pw']);
    expect(logger.lines.some((l) => l.includes('development only'))).toBe(true);
  });

  it('refuses to start when the file is missing', async () => {
    const source = fileCertificateSource({ path: '/nonexistent/app.pfx', logger: createMemoryLogger() });
    await expect(source.load()).rejects.toMatchObject({
      code: 'CertificateInvalid',
      message: 'The certificate file /nonexistent/app.pfx does not exist.',
    });
  });
});

describe('the sandbox certificate', () => {
  it('is made in memory with a private key and valid now', async () => {
    const loaded = await loadValidCertificate(ephemeralCertificateSource({ now }), now, createMemoryLogger());
    expect([loaded.hasPrivateKey, loaded.subject, loaded.thumbprint]).toEqual([true, 'CN=dialtone-sandbox', thumbprintOf(loaded.pfxBase64)]);
  });
});

describe('Key Vault throttling (429) and a lost role assignment (403), against the strict simulator', () => {
  const KV_NAME = 'dialtone-teams';
  async function simVault() {
    const simClock = new SimClock(new Date('2026-11-02T08:00:00Z'));
    const vault = new SimKeyVault(simClock);
    await vault.create(KV_NAME, workerCertificatePolicy('CN=Dialtone worker'));
    const source = keyVaultCertificateSource({ vaultUrl: vault.vaultUrl, name: KV_NAME, secrets: vault, certificates: vault });
    return { simClock, vault, source };
  }
  /** Lets every pending wait of the provider run out, in steps, until `done` settles. */
  async function drive<T>(timers: ManualTimers, done: Promise<T>): Promise<T> {
    let settled = false;
    void done.then(
      () => (settled = true),
      () => (settled = true),
    );
    for (let i = 0; i < 200 && !settled; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      timers.advance(1000);
    }
    return done;
  }

  it("waits out a throttled secret read for the Retry-After Key Vault gave, and starts", async () => {
    const { simClock, vault, source } = await simVault();
    vault.setFaults({ seed: 1, rules: [{ operation: 'getSecret', answer: 429, retryAfterSeconds: 7, times: 2 }] });
    const timers = new ManualTimers();
    const logger = createMemoryLogger();
    const provider = new CertificateProvider(source, { clock: simClock, logger, timers, reloadIntervalMs: 0 });
    const started = await drive(timers, provider.start());
    expect(started.hasPrivateKey).toBe(true);
    expect(vault.metrics().throttled).toEqual({ getSecret: 2 });
    // Two waits of the 7 s Key Vault asked for, not fewer.
    expect(timers.now()).toBeGreaterThanOrEqual(14_000);
    expect(logger.lines.filter((l) => l.includes('Key Vault throttled'))).toHaveLength(2);
  });

  it('waits out a 429 at start on the start wait it is given (the sandbox\'s tracked restart), and a 429 on reload on its timers', async () => {
    const { simClock, vault, source } = await simVault();
    vault.setFaults({ seed: 1, rules: [{ operation: 'getSecret', answer: 429, retryAfterSeconds: 7, times: 2 }] });
    const timers = new ManualTimers();
    const waited: number[] = [];
    const provider = new CertificateProvider(source, { clock: simClock, logger: createMemoryLogger(), timers, reloadIntervalMs: 0 });
    const started = await provider.start({ sleep: async (ms) => void waited.push(ms) });
    expect(started.hasPrivateKey).toBe(true);
    // Both of Key Vault's Retry-Afters went to the start wait; the provider's own timers were not used.
    expect(waited).toEqual([7000, 7000]);
    expect(timers.now()).toBe(0);
    // A reload's 429 still waits on the timers (the sandbox's certificate timers; real time in production).
    await vault.create(KV_NAME, workerCertificatePolicy('CN=Dialtone worker'));
    vault.setFaults({ seed: 1, rules: [{ operation: 'getCertificate', answer: 429, retryAfterSeconds: 5, times: 1 }] });
    expect(await drive(timers, provider.checkForRotation())).toBe(true);
    expect(waited).toHaveLength(2);
    expect(timers.now()).toBeGreaterThanOrEqual(5000);
  });

  it('gives up after a bounded number of throttled reads, each wait capped, with a transient Throttled reason', async () => {
    const { simClock, vault, source } = await simVault();
    vault.setFaults({ seed: 1, rules: [{ operation: 'getSecret', answer: 429, retryAfterSeconds: 3600 }] });
    const timers = new ManualTimers();
    const provider = new CertificateProvider(source, { clock: simClock, logger: createMemoryLogger(), timers, reloadIntervalMs: 0 });
    const refused = await drive(timers, provider.start().then(() => undefined, (e: unknown) => e));
    expect(refused).toMatchObject({ code: 'Throttled', transient: true });
    expect((refused as Error).message).toContain('429');
    const tries = vault.metrics().throttled.getSecret ?? 0;
    expect(tries).toBeGreaterThan(1);
    expect(tries).toBeLessThanOrEqual(5);
    // Capped: not the hour Key Vault asked for.
    expect(timers.now()).toBeLessThanOrEqual(5 * 60_000);
  });

  it('refuses to start when the worker lost Key Vault Secrets User: permanent, names the role and the vault, not retried, no secret', async () => {
    const { simClock, vault, source } = await simVault();
    vault.setFaults({ seed: 1, rules: lostRole('Key Vault Secrets User') });
    const timers = new ManualTimers();
    const provider = new CertificateProvider(source, { clock: simClock, logger: createMemoryLogger(), timers, reloadIntervalMs: 0 });
    const refused = (await drive(timers, provider.start().then(() => undefined, (e: unknown) => e))) as { code: string; transient: boolean; message: string };
    expect(refused).toMatchObject({ code: 'CertificateInvalid', transient: false });
    expect(refused.message).toContain('Key Vault Secrets User');
    expect(refused.message).toContain(vault.vaultUrl.replace(/\/$/, ''));
    expect(refused.message).toContain('ForbiddenByRbac');
    expect(refused.message).not.toContain('Certificate User');
    expect(vault.metrics().forbidden.getSecret).toBe(1);
    for (const secret of vault.secretValuesForLeakScan()) expect(refused.message).not.toContain(secret.slice(0, 48));
  });

  it('keeps its certificate and says which role is missing when a reload is refused (Key Vault Reader), then rotates once the role is back', async () => {
    const { simClock, vault, source } = await simVault();
    const timers = new ManualTimers();
    const logger = createMemoryLogger();
    const rotated: string[] = [];
    const provider = new CertificateProvider(source, { clock: simClock, logger, timers, reloadIntervalMs: 0, onRotate: (c) => rotated.push(c.thumbprint) });
    const first = await provider.start();
    const next = await vault.create(KV_NAME, workerCertificatePolicy('CN=Dialtone worker'));
    vault.setFaults({ seed: 1, rules: lostRole('Key Vault Reader') });
    expect(await drive(timers, provider.checkForRotation())).toBe(false);
    expect(provider.current().thumbprint).toBe(first.thumbprint);
    const line = logger.lines.find((l) => l.includes('certificate check failed'));
    expect(line).toContain('Key Vault Reader');
    expect(vault.metrics().forbidden).toEqual({ getCertificate: 1 });
    vault.setFaults(undefined);
    expect(await drive(timers, provider.checkForRotation())).toBe(true);
    expect(rotated).toEqual([next.thumbprint]);
  });
});
