/** `dialtone doctor` per tenant: consent, Teams role and certificate of every registered tenant, in the table and in JSON. */
import { describe, expect, it } from 'vitest';
import { TEAMS_COMMUNICATIONS_ADMINISTRATOR_ROLE_ID, type CertificateFacts } from '../../shared/domain/doctor.js';
import { runDoctor, type DoctorProbes, type TenantDoctorProbe } from '../../shared/usecases/doctor.js';
import { dialtone } from '../helpers/cli.js';

const A = 'aaaaaaaa-0000-4000-8000-00000000000a';
const B = 'bbbbbbbb-0000-4000-8000-00000000000b';
const C = 'cccccccc-0000-4000-8000-00000000000c';
const APP_A = 'aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa';
const APP_B = 'bbbbbbbb-1111-4111-8111-bbbbbbbbbbbb';
const now = new Date('2026-11-02T08:00:00Z');
const day = 86_400_000;

const cert = (name: string, daysLeft: number): CertificateFacts => ({
  name,
  expiresOn: new Date(now.getTime() + daysLeft * day),
  notBefore: new Date(now.getTime() - 30 * day),
  exportable: true,
  contentType: 'application/x-pkcs12',
  enabled: true,
});

/** A: all fine. B: consented, no Teams role, certificate expiring in 10 days. C: never consented, certificate expired. */
function tenants(): TenantDoctorProbe[] {
  return [
    {
      tenantId: A,
      displayName: 'Contoso',
      applicationId: APP_A,
      servicePrincipal: async () => ({ id: 'sp-a' }),
      roles: async (id) => (id === 'sp-a' ? [TEAMS_COMMUNICATIONS_ADMINISTRATOR_ROLE_ID] : []),
      certificate: async () => cert('contoso-teams', 200),
    },
    {
      tenantId: B,
      displayName: 'Fabrikam',
      applicationId: APP_B,
      servicePrincipal: async () => ({ id: 'sp-b' }),
      roles: async () => ['62e90394-69f5-4237-9190-012177145e10'],
      certificate: async () => cert('fabrikam-teams', 10),
    },
    {
      tenantId: C,
      displayName: 'Northwind',
      applicationId: APP_B,
      servicePrincipal: async () => undefined,
      roles: async () => {
        throw new Error('must not be asked: there is no service principal');
      },
      certificate: async () => cert('northwind-teams', -1),
    },
  ];
}

const probes = (over: Partial<DoctorProbes> = {}): DoctorProbes => ({ settingsProblems: [], skipped: [], tenants: tenants(), ...over });

describe('doctor per tenant', () => {
  it("checks every tenant's consent, Teams role and certificate and says which tenant each check is of", async () => {
    const results = await runDoctor(probes(), now);
    const of = (tenantId: string) => results.filter((r) => r.tenant === tenantId).map((r) => [r.check, r.status]);
    expect(of(A)).toEqual([
      ['Admin consent (service principal of the worker app)', 'ok'],
      ['Teams Communications Administrator role (worker app)', 'ok'],
      ["Key Vault certificate 'contoso-teams'", 'ok'],
    ]);
    expect(of(B)).toEqual([
      ['Admin consent (service principal of the worker app)', 'ok'],
      ['Teams Communications Administrator role (worker app)', 'fail'],
      ["Key Vault certificate 'fabrikam-teams'", 'warn'],
    ]);
    expect(of(C)).toEqual([
      ['Admin consent (service principal of the worker app)', 'fail'],
      ['Teams Communications Administrator role (worker app)', 'skip'],
      ["Key Vault certificate 'northwind-teams'", 'fail'],
    ]);
    const consent = results.find((r) => r.tenant === C && r.check.startsWith('Admin consent'));
    expect(consent?.detail).toContain(`app ${APP_B} has no service principal in tenant ${C}`);
    expect(consent?.detail).toContain(`https://login.microsoftonline.com/${C}/adminconsent?client_id=${APP_B}`);
    expect(results.find((r) => r.tenant === B && r.check.startsWith('Key Vault'))?.detail).toContain('expires in 10 days');
  });

  it("reports a probe that throws as that tenant's failed check, and the other tenants' checks still run", async () => {
    const list = tenants();
    list[0] = { ...list[0]!, servicePrincipal: async () => Promise.reject(new Error('AADSTS700016: application not found in the directory')) };
    const results = await runDoctor(probes({ tenants: list }), now);
    expect(results.find((r) => r.tenant === A && r.check.startsWith('Admin consent'))).toMatchObject({ status: 'fail', detail: expect.stringContaining('AADSTS700016') });
    expect(results.filter((r) => r.tenant === B)).toHaveLength(3);
  });

  it('prints a tenant column, gives the tenant in JSON, and exits 1 when a tenant check fails', async () => {
    const table = await dialtone(['doctor'], { doctor: async () => probes(), now: () => now }, { env: { COLUMNS: '240' } });
    expect(table.code).toBe(1);
    expect(table.out).toMatch(/tenant\s+check\s+detail/);
    expect(table.out).toContain(`${C} (Northwind)`);
    const json = await dialtone(['doctor', '-o', 'json'], { doctor: async () => probes(), now: () => now });
    expect(json.code).toBe(1);
    const parsed = JSON.parse(json.out) as { status: string; checks: { tenant?: string; status: string }[]; tenants: { tenantId: string; status: string }[] };
    expect(parsed.status).toBe('fail');
    expect(parsed.tenants).toEqual([
      { tenantId: A, displayName: 'Contoso', status: 'ok' },
      { tenantId: B, displayName: 'Fabrikam', status: 'fail' },
      { tenantId: C, displayName: 'Northwind', status: 'fail' },
    ]);
  });

  it('exits 0 with warnings only, as the rest of doctor does', async () => {
    const warnOnly = tenants().slice(0, 1).map((t) => ({ ...t, certificate: async () => cert('contoso-teams', 5) }));
    const r = await dialtone(['doctor', '-o', 'json'], { doctor: async () => probes({ tenants: warnOnly }), now: () => now });
    expect(JSON.parse(r.out)).toMatchObject({ status: 'warn', tenants: [{ tenantId: A, status: 'warn' }] });
    expect(r.code).toBe(0);
  });
});
