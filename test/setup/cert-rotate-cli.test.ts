import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialtone as runCli } from '../helpers/cli.js';
import { sampleTenant } from '../integration/sandbox-fixtures.js';

let dir: string;
const dialtone = (...args: string[]) => runCli(args);
const state = () => join(dir, 'state');
type Item = { kind: string; identity: string; status: string; detail: string };
const parse = (out: string) => JSON.parse(out) as { items: Item[]; certificate?: { thumbprint: string; version: string } };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dialtone-rotate-'));
  await writeFile(join(dir, 'tenant.json'), JSON.stringify(sampleTenant()));
  await writeFile(join(dir, 'empty.ndjson'), '');
  expect((await dialtone('sandbox', 'run', '--tenant', join(dir, 'tenant.json'), '--events', join(dir, 'empty.ndjson'), '--state', state(), '--json')).code).toBe(0);
  expect((await dialtone('setup', '--sandbox', state(), '--json')).code).toBe(0);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('dialtone cert rotate --sandbox DIR', () => {
  it('waits only on the reports of the tenant --tenant-id names (default the home tenant), and refuses a tenant id that is not a GUID', async () => {
    const workers = async (...extra: string[]) => {
      const run = await dialtone('cert', 'rotate', '--dry-run', '--sandbox', state(), ...extra, '--json');
      expect(run.code, run.err).toBe(0);
      return parse(run.out).items.find((i) => i.kind === 'workers')?.detail;
    };
    expect(await workers()).toContain('for 1 live worker(s)');
    expect(await workers('--tenant-id', sampleTenant().tenantId.toUpperCase())).toContain('for 1 live worker(s)');
    // The sandbox's worker serves only the home tenant: nobody reports another tenant's certificate.
    expect(await workers('--tenant-id', '5c1e7b42-9a3d-4f60-8e21-7d4b3c2a0002')).toContain('for 0 live worker(s)');
    const bad = await dialtone('cert', 'rotate', '--dry-run', '--sandbox', state(), '--tenant-id', 'contoso');
    expect(bad.code).not.toBe(0);
    expect(bad.err).toContain("expected a tenant id (a GUID), got 'contoso'");
  }, 300_000);

  it("runs the sandbox's workers while it waits: they find the new version, switch without a restart and report it, and only then is the old key removed", async () => {
    const planned = await dialtone('cert', 'rotate', '--dry-run', '--sandbox', state(), '--json');
    expect(planned.code, planned.err).toBe(0);
    // The dry run counts the sandbox's worker as live: it reported at its start.
    expect(parse(planned.out).items.find((i) => i.kind === 'workers')?.detail).toContain('for 1 live worker(s)');

    const rotated = await dialtone('cert', 'rotate', '--sandbox', state(), '--overlap', '10m', '--json');
    expect(rotated.code, rotated.err).toBe(0);
    const { items, certificate } = parse(rotated.out);
    expect(items.map((i) => `${i.kind}:${i.status}`)).toEqual(['certificate:created', 'keyCredential:created', 'workers:updated', 'keyCredential:removed']);
    // Not "no worker reported recently": the worker was waited for and reported the new thumbprint.
    expect(items.find((i) => i.kind === 'workers')?.detail).toBe(`all 1 live worker(s) report ${certificate!.thumbprint}`);

    // The kept state has the worker's report and the app only the new key: doctor finds the current version's key on the app.
    const doctor = await dialtone('doctor', '--sandbox', state(), '--json');
    const checks = (JSON.parse(doctor.out) as { checks: { check: string; status: string; detail: string }[] }).checks;
    const credential = checks.find((c) => /key credential/i.test(c.check));
    expect(credential, JSON.stringify(checks)).toMatchObject({ status: 'ok' });
  }, 300_000);
});
