import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialtone as runCli } from '../helpers/cli.js';
import { sampleTenant } from '../integration/sandbox-fixtures.js';
import { everyStepCreated, privateKeyTraces } from './fixtures.js';

let dir: string;
const dialtone = (...args: string[]) => runCli(args);
const state = () => join(dir, 'state');

type Item = { kind: string; identity: string; status: string; detail: string };
const parse = (out: string) => JSON.parse(out) as { items: Item[]; settings: Record<string, string>; certificate?: { thumbprint: string } };
const statuses = (out: string) => parse(out).items.map((i) => `${i.kind}:${i.status}`);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dialtone-setup-'));
  // A tenant whose Function App identity holds no Graph permission yet.
  await writeFile(join(dir, 'tenant.json'), JSON.stringify({ ...sampleTenant(), graphApp: { permissions: [] } }));
  await writeFile(join(dir, 'empty.ndjson'), '');
  const run = await dialtone('sandbox', 'run', '--tenant', join(dir, 'tenant.json'), '--events', join(dir, 'empty.ndjson'), '--state', state(), '--json');
  expect(run.code).toBe(0);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('dialtone setup --sandbox DIR', () => {
  it('plans with --dry-run, sets everything up, finds everything in place the second time, and doctor checks every step', async () => {
    const before = await dialtone('doctor', '--sandbox', state(), '--json');
    const beforeChecks = (JSON.parse(before.out) as { checks: { check: string; status: string }[] }).checks;
    expect(beforeChecks.filter((c) => c.check.startsWith('Graph application permission')).map((c) => c.status)).toEqual(['fail', 'fail']);

    const planned = await dialtone('setup', '--dry-run', '--sandbox', state(), '--json');
    expect(planned.code).toBe(0);
    expect(statuses(planned.out)).toEqual(everyStepCreated);
    expect(parse(planned.out).items.every((i) => i.detail.startsWith('would '))).toBe(true);

    const made = await dialtone('setup', '--sandbox', state(), '--json');
    expect(made.code).toBe(0);
    expect(statuses(made.out)).toEqual(statuses(planned.out));
    const { settings, certificate } = parse(made.out);
    expect(Object.keys(settings)).toEqual(['DIALTONE_APP_ID', 'DIALTONE_WORKER_PRINCIPAL_ID', 'DIALTONE_CERT_NAME']);

    const again = await dialtone('setup', '--sandbox', state(), '--json');
    expect(again.code).toBe(0);
    expect(parse(again.out).items.map((i) => i.status)).toEqual(Array(7).fill('already_exists'));

    const doctor = await dialtone('doctor', '--sandbox', state(), '--json');
    const checks = (JSON.parse(doctor.out) as { checks: { check: string; status: string; detail: string }[] }).checks;
    const byName = (prefix: string) => checks.filter((c) => c.check.startsWith(prefix));
    expect(byName('Graph application permission').map((c) => c.status)).toEqual(['ok', 'ok']);
    expect(byName("Key Vault certificate 'dialtone-teams'")[0]?.status).toBe('ok');
    expect(byName('Teams Communications Administrator role')[0]?.status).toBe('ok');
    expect(byName('Key credential of the worker app')[0]).toMatchObject({ status: 'ok' });
    expect(byName('Key credential of the worker app')[0]?.detail).toContain(certificate!.thumbprint);

    // No private key is written into the sandbox's files, only the public certificate.
    const kept = await readFile(join(state(), 'sandbox-state.json'), 'utf8');
    expect(privateKeyTraces(kept)).toEqual([]);
  });

  it('cert rotate --sandbox DIR: a new version, its key, no live worker to wait for, the old key removed; doctor sees the new one', async () => {
    const before = parse((await dialtone('setup', '--sandbox', state(), '--json')).out).certificate!.thumbprint;
    const planned = await dialtone('cert', 'rotate', '--dry-run', '--sandbox', state(), '--json');
    expect(planned.code).toBe(0);
    expect(statuses(planned.out)).toEqual(['certificate:created', 'keyCredential:created', 'workers:updated', 'keyCredential:removed']);
    const rotated = await dialtone('cert', 'rotate', '--overlap', '5m', '--sandbox', state(), '--json');
    expect(rotated.code).toBe(0);
    expect(statuses(rotated.out)).toEqual(['certificate:created', 'keyCredential:created', 'workers:updated', 'keyCredential:removed']);
    const after = parse(rotated.out).certificate!.thumbprint;
    expect(after).not.toBe(before);
    expect(parse(rotated.out).items[3]!.identity).toContain(before);
    const doctor = await dialtone('doctor', '--sandbox', state(), '--json');
    const credential = (JSON.parse(doctor.out) as { checks: { check: string; status: string; detail: string }[] }).checks.find((c) => c.check.startsWith('Key credential of the worker app'));
    expect(credential).toMatchObject({ status: 'ok' });
    expect(credential!.detail).toContain(after);
    expect(credential!.detail).not.toContain('other credential');

    // A later sandbox run keeps what setup made.
    const run = await dialtone('sandbox', 'run', '--tenant', join(dir, 'tenant.json'), '--events', join(dir, 'empty.ndjson'), '--state', state(), '--json');
    expect(run.code).toBe(0);
    const again = await dialtone('setup', '--sandbox', state(), '--json');
    expect(parse(again.out).items.map((i) => i.status)).toEqual(Array(7).fill('already_exists'));
    expect(parse(again.out).certificate!.thumbprint).toBe(after);
  });

  it('refuses a bad option value before touching anything (exit 2, naming it)', async () => {
    const bad = await dialtone('setup', '--cert-name', 'not valid!', '--sandbox', state());
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--cert-name');
    const wait = await dialtone('cert', 'rotate', '--wait', 'soon', '--sandbox', state());
    expect(wait.code).toBe(2);
    expect(wait.err).toContain('--wait');
  });
});
