/** `dialtone tenants …` on a kept sandbox: the registry, its bounds and the output/exit-code conventions. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dialtone, useKeptSandbox } from '../helpers/cli.js';

const SANDBOX_TENANT = '8f0c2a53-5d0e-4c1b-9a57-2f1f0e6f0001';
const FABRIKAM = '22222222-2222-4222-8222-222222222222';
const APP = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';

const kept = useKeptSandbox('tenants');

describe('dialtone tenants', () => {
  it('lists the implicit tenant of a deployment with no registry', async () => {
    const r = await dialtone(['tenants', 'list', '--sandbox', kept.state(), '-o', 'json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual([expect.objectContaining({ tenantId: SANDBOX_TENANT, source: 'implicit' })]);
  });

  it('refuses to remove the implicit tenant', async () => {
    const r = await dialtone(['tenants', 'remove', SANDBOX_TENANT, '--yes', '--sandbox', kept.state()]);
    expect(r).toMatchObject({ code: 1, err: expect.stringContaining("is the deployment's own tenant") });
  });

  it('registers tenants, refuses a bad or overlapping one, and removes only a tenant that holds nobody', async () => {
    const add = await dialtone(['tenants', 'add', '--tenant-id', SANDBOX_TENANT, '--name', 'Contoso', '--app-id', APP, '--cert-name', 'contoso-teams', '--pool', 'ams', '--pool', 'rtm', '--upn-domain', 'contoso.example', '--sandbox', kept.state(), '-o', 'json']);
    expect(add.code).toBe(0);
    expect(JSON.parse(add.out)).toMatchObject({ tenantId: SANDBOX_TENANT, pools: ['ams', 'rtm'], sessionLimit: 3 });

    const bad = await dialtone(['tenants', 'add', '--tenant-id', 'fabrikam', '--name', 'Fabrikam', '--app-id', APP, '--cert-name', 'fabrikam-teams', '--sandbox', kept.state()]);
    expect(bad).toMatchObject({ code: 2, err: expect.stringContaining('tenantId: must be the Entra tenant id (a GUID)') });

    const missing = await dialtone(['tenants', 'add', '--tenant-id', FABRIKAM, '--name', 'Fabrikam', '--sandbox', kept.state()]);
    expect(missing).toMatchObject({ code: 2, err: expect.stringMatching(/applicationId: .*certificateName: /) });

    const limit = await dialtone(['tenants', 'add', '--tenant-id', FABRIKAM, '--name', 'Fabrikam', '--app-id', APP, '--cert-name', 'x', '--session-limit', '11', '--sandbox', kept.state()]);
    expect(limit.code).toBe(2);

    const overlap = await dialtone(['tenants', 'add', '--tenant-id', FABRIKAM, '--name', 'Fabrikam', '--app-id', APP, '--cert-name', 'fabrikam-teams', '--upn-domain', 'contoso.example', '--sandbox', kept.state()]);
    expect(overlap).toMatchObject({ code: 2, err: expect.stringContaining(`UPN domain contoso.example already routes to tenant ${SANDBOX_TENANT} (Contoso)`) });

    const file = join(kept.dir(), 'fabrikam.json');
    await writeFile(file, JSON.stringify({ tenantId: FABRIKAM, displayName: 'Fabrikam', applicationId: APP, certificateName: 'fabrikam-teams', pools: ['fab-ams'], upnDomains: ['fabrikam.example'] }));
    expect((await dialtone(['tenants', 'add', '--file', file, '--session-limit', '2', '--sandbox', kept.state(), '-o', 'none'])).code).toBe(0);

    const list = await dialtone(['tenants', 'list', '--sandbox', kept.state(), '-o', 'json']);
    expect((JSON.parse(list.out) as { tenantId: string; sessionLimit: number; source: string }[]).map((t) => [t.tenantId, t.sessionLimit, t.source])).toEqual([
      [SANDBOX_TENANT, 3, 'registry'],
      [FABRIKAM, 2, 'registry'],
    ]);

    const table = await dialtone(['tenants', 'list', '--sandbox', kept.state()], {}, { env: { COLUMNS: '200' } });
    expect(table.out).toMatch(/tenant id\s+name\s+app id/);
    expect(table.out).toContain('fab-ams');

    const show = await dialtone(['tenants', 'show', SANDBOX_TENANT, '--sandbox', kept.state(), '-o', 'json']);
    const shown = JSON.parse(show.out) as { holds: { people: number; numbers: number } };
    expect(shown.holds.people).toBeGreaterThan(0);
    expect(shown.holds.numbers).toBeGreaterThan(0);

    const noYes = await dialtone(['tenants', 'remove', SANDBOX_TENANT, '--sandbox', kept.state()]);
    expect(noYes.code).toBe(2);
    const refused = await dialtone(['tenants', 'remove', SANDBOX_TENANT, '--yes', '--sandbox', kept.state()]);
    expect(refused).toMatchObject({ code: 1, err: expect.stringMatching(/still holds \d+ people with voice \(.*contoso\.example.*\) and \d+ numbers reserved or assigned in its pools/) });

    const nothing = await dialtone(['tenants', 'update', FABRIKAM, '--sandbox', kept.state()]);
    expect(nothing).toMatchObject({ code: 2, err: expect.stringContaining('nothing to change') });
    const updated = await dialtone(['tenants', 'update', FABRIKAM, '--teams-backend', 'graph', '--sandbox', kept.state(), '-o', 'json']);
    expect(JSON.parse(updated.out)).toMatchObject({ teamsBackend: 'graph', sessionLimit: 2, certificateName: 'fabrikam-teams' });

    const removed = await dialtone(['tenants', 'remove', FABRIKAM, '--yes', '--sandbox', kept.state(), '-o', 'json']);
    expect(removed.code).toBe(0);
    expect(JSON.parse(removed.out)).toEqual({ removed: true, tenantId: FABRIKAM });
    const after = await dialtone(['tenants', 'show', FABRIKAM, '--sandbox', kept.state()]);
    expect(after).toMatchObject({ code: 1, err: expect.stringContaining(`tenant ${FABRIKAM} is not a tenant of this deployment`) });
  });

  it('exits 1 (not found), not 2 (usage), for a tenant id that is well formed but not registered', async () => {
    const unknown = '33333333-3333-4333-8333-333333333333';
    expect(await dialtone(['tenants', 'show', unknown, '--sandbox', kept.state()])).toMatchObject({ code: 1, err: expect.stringContaining(`tenant ${unknown} is not a tenant of this deployment`) });
    expect(await dialtone(['tenants', 'update', unknown, '--session-limit', '2', '--sandbox', kept.state()])).toMatchObject({ code: 1, err: expect.stringContaining(`tenant ${unknown} is not registered`) });
    expect(await dialtone(['tenants', 'remove', unknown, '--yes', '--sandbox', kept.state()])).toMatchObject({ code: 1, err: expect.stringContaining(`tenant ${unknown} is not a tenant of this deployment`) });
  });

  it('scopes dlq, numbers, status and plan by --tenant-id, and gives a number range to one tenant only', async () => {
    // Contoso is registered (the test above) and owns ams and rtm; Fabrikam comes back after its removal.
    const add = await dialtone(['tenants', 'add', '--tenant-id', FABRIKAM, '--name', 'Fabrikam', '--app-id', APP, '--cert-name', 'fabrikam-teams', '--sandbox', kept.state(), '-o', 'none']);
    expect(add.code).toBe(0);

    const overlapping = join(kept.dir(), 'overlap.json');
    await writeFile(overlapping, JSON.stringify({ pools: [{ id: 'fab-ams', ranges: [{ from: '+31201234090', to: '+31201234110' }], quarantineDays: 30 }] }));
    const refused = await dialtone(['numbers', 'import', overlapping, '--tenant-id', FABRIKAM, '--sandbox', kept.state()]);
    expect(refused).toMatchObject({ code: 2, err: expect.stringContaining(`+31201234090 is already in pool 'ams' of tenant ${SANDBOX_TENANT}; a number belongs to one tenant only (tenant ${SANDBOX_TENANT} is Contoso)`) });
    // The same pool id in Fabrikam's own inventory, with its own range: Contoso's ams is untouched.
    const sameId = join(kept.dir(), 'same-id.json');
    await writeFile(sameId, JSON.stringify({ pools: [{ id: 'ams', ranges: [{ from: '+32201234000', to: '+32201234004' }], quarantineDays: 30 }] }));
    const contosoAms = () => dialtone(['numbers', 'pools', '--tenant-id', SANDBOX_TENANT, '--sandbox', kept.state(), '-o', 'json']).then((r) => (JSON.parse(r.out) as { pool: string; total: number }[]).find((p) => p.pool === 'ams')?.total);
    const before = await contosoAms();
    expect((await dialtone(['numbers', 'import', sameId, '--tenant-id', FABRIKAM, '--sandbox', kept.state(), '-o', 'none'])).code).toBe(0);
    expect(await contosoAms()).toBe(before);
    expect(await dialtone(['numbers', 'show', '+32201234000', '--sandbox', kept.state()])).toMatchObject({ code: 1 });
    expect(JSON.parse((await dialtone(['numbers', 'show', '+32201234000', '--tenant-id', FABRIKAM, '--sandbox', kept.state(), '-o', 'json'])).out)).toMatchObject({ pool: 'ams', state: 'free' });

    const own = join(kept.dir(), 'own.json');
    await writeFile(own, JSON.stringify({ pools: [{ id: 'fab-ams', ranges: [{ from: '+31201239000', to: '+31201239009' }], quarantineDays: 30 }] }));
    expect((await dialtone(['numbers', 'import', own, '--tenant-id', FABRIKAM, '--sandbox', kept.state(), '-o', 'none'])).code).toBe(0);
    const fabrikam = JSON.parse((await dialtone(['tenants', 'show', FABRIKAM, '--sandbox', kept.state(), '-o', 'json'])).out) as { pools: string[] };
    expect(fabrikam.pools).toEqual(['ams', 'fab-ams']);
    const pools = JSON.parse((await dialtone(['numbers', 'pools', '--tenant-id', FABRIKAM, '--sandbox', kept.state(), '-o', 'json'])).out) as { pool: string; total: number }[];
    expect(pools.map((p) => [p.pool, p.total])).toEqual([['ams', 5], ['fab-ams', 10]]);
    const contosoNumbers = JSON.parse((await dialtone(['numbers', 'list', '--tenant-id', SANDBOX_TENANT, '--sandbox', kept.state(), '-o', 'json'])).out) as { pool: string }[];
    expect(new Set(contosoNumbers.map((n) => n.pool))).toEqual(new Set(['ams', 'rtm']));

    const mine = JSON.parse((await dialtone(['dlq', 'list', '--tenant-id', SANDBOX_TENANT, '--sandbox', kept.state(), '-o', 'json'])).out) as { reason: string }[];
    expect(mine.length).toBeGreaterThan(0);
    expect(JSON.parse((await dialtone(['dlq', 'list', '--tenant-id', FABRIKAM, '--sandbox', kept.state(), '-o', 'json'])).out)).toEqual([]);
    const table = await dialtone(['dlq', 'list', '--sandbox', kept.state()], {}, { env: { COLUMNS: '240' } });
    expect(table.out).toMatch(/tenant/);
    expect(table.out).toContain('(default)');

    expect((await dialtone(['status', 'E1001', '--tenant-id', SANDBOX_TENANT, '--sandbox', kept.state(), '-o', 'none'])).code).toBe(0);
    expect(await dialtone(['status', 'E1001', '--tenant-id', FABRIKAM, '--sandbox', kept.state()])).toMatchObject({ code: 1, err: expect.stringContaining(`is a person of tenant ${SANDBOX_TENANT}, not ${FABRIKAM}`) });
    expect(await dialtone(['plan', 'E1001', '--tenant-id', FABRIKAM, '--sandbox', kept.state()])).toMatchObject({ code: 1, err: expect.stringContaining(`is a person of tenant ${SANDBOX_TENANT}`) });

    // doctor lists every registered tenant; in a sandbox its consent, role and certificate cannot be checked, and says so.
    const doctor = JSON.parse((await dialtone(['doctor', '--sandbox', kept.state(), '-o', 'json'])).out) as { tenants: { tenantId: string; status: string }[]; checks: { tenant?: string; status: string; detail: string }[] };
    expect(doctor.tenants).toEqual(expect.arrayContaining([{ tenantId: FABRIKAM, displayName: 'Fabrikam', status: 'skip' }]));
    expect(doctor.checks.filter((c) => c.tenant === FABRIKAM).map((c) => c.status)).toEqual(['skip', 'skip', 'skip']);
    expect(doctor.checks.find((c) => c.tenant === FABRIKAM)?.detail).toContain('a real deployment checks it');
  }, 120_000);
});
