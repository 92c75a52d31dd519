/**
 * Issue 16: `doctor --sandbox DIR` on a kept sandbox with several tenants runs every tenant's own
 * checks against that tenant's simulators: admin consent (the worker app's service principal in
 * the tenant's Graph simulator, `GET /servicePrincipals(appId='…')`), its Teams Communications
 * Administrator role (`/roleManagement/directory/roleAssignments`), and the tenant's certificate
 * in the sandbox's Key Vault simulator (present, enabled, not expiring). A tenant file's
 * `workerApp` says how the tenant is set up (default: consented, the role, a certificate valid 12
 * months from the sandbox's start).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { dialtone as run } from '../helpers/cli.js';
import { useTempDir } from '../helpers/temp-dir.js';

const tmp = useTempDir('dialtone-doctor-tenants-');
const dialtone = (...args: string[]) => run(args);

const CONTOSO = '8f0c2a53-5d0e-4c1b-9a57-2f1f0e6f0001';
const FABRIKAM = '5c1e7b42-9a3d-4f60-8e21-7d4b3c2a0002';

interface Check {
  check: string;
  status: string;
  detail: string;
  tenant?: string;
  tenantName?: string;
}
interface DoctorJson {
  status: string;
  checks: Check[];
  tenants?: { tenantId: string; displayName: string; status: string }[];
}

/** Keeps a two-tenant sandbox whose tenant files carry these extra fields. */
async function keptSandbox(contoso: Record<string, unknown>, fabrikam: Record<string, unknown>, events: object[] = []): Promise<string> {
  const files: string[] = [];
  for (const [name, extra] of [['contoso', { displayName: 'Contoso', ...contoso }], ['fabrikam', { displayName: 'Fabrikam', ...fabrikam }]] as const) {
    const file = JSON.parse(await readFile(`sandbox/data/tenants/${name}.json`, 'utf8')) as Record<string, unknown>;
    const path = tmp(`${name}.json`);
    await writeFile(path, JSON.stringify({ ...file, ...extra }));
    files.push(path);
  }
  await writeFile(tmp('none.ndjson'), events.map((e) => JSON.stringify(e)).join('\n'));
  const state = tmp(`state-${Math.random().toString(36).slice(2, 8)}`);
  const made = await dialtone('sandbox', 'run', '--tenant', files[0]!, '--tenant', files[1]!, '--events', tmp('none.ndjson'), '--numbers', 'sandbox/data/tenants/numbers.json', '--policy', 'sandbox/data/tenants/voice-policy.yaml', '--storage', 'memory', '--state', state, '-o', 'none');
  expect(made.code, made.err).toBe(0);
  return state;
}

const of = (report: DoctorJson, tenantId: string) => report.checks.filter((c) => c.tenant === tenantId).map((c) => [c.check.replace(/ '.*'$/, ''), c.status]);

describe('doctor --sandbox with several tenants', () => {
  it('runs each tenant\'s consent, role and certificate checks against its own simulators: one healthy, one missing consent → exit 1, naming the tenant and the fix', async () => {
    const state = await keptSandbox({}, { workerApp: { consent: false } });
    const result = await dialtone('doctor', '--sandbox', state, '--json');
    expect(result.code).toBe(1);
    const report = JSON.parse(result.out) as DoctorJson;
    expect(of(report, CONTOSO)).toEqual([
      ['Admin consent (service principal of the worker app)', 'ok'],
      ['Teams Communications Administrator role (worker app)', 'ok'],
      ['Key Vault certificate', 'ok'],
    ]);
    expect(of(report, FABRIKAM)).toEqual([
      ['Admin consent (service principal of the worker app)', 'fail'],
      ['Teams Communications Administrator role (worker app)', 'skip'],
      ['Key Vault certificate', 'ok'],
    ]);
    const consent = report.checks.find((c) => c.tenant === FABRIKAM && c.check.startsWith('Admin consent'));
    expect(consent?.detail).toContain(`in tenant ${FABRIKAM}`);
    expect(consent?.detail).toContain(`https://login.microsoftonline.com/${FABRIKAM}/adminconsent?client_id=`);
    expect(report.tenants).toEqual([
      { tenantId: CONTOSO, displayName: 'Contoso', status: 'ok' },
      { tenantId: FABRIKAM, displayName: 'Fabrikam', status: 'fail' },
    ]);
    // Nothing else fails: the exit code is the tenant's.
    expect(report.checks.filter((c) => c.tenant === undefined && c.status === 'fail')).toEqual([]);

    const table = await dialtone('doctor', '--sandbox', state);
    expect(table.code).toBe(1);
    expect(table.out).toMatch(new RegExp(`FAIL\\s+${FABRIKAM} \\(Fabrikam\\)\\s+Admin consent`));
  }, 300_000);

  it('fails a tenant whose app lacks the Teams role, and one whose certificate is disabled, missing or expiring, each in its own tenant', async () => {
    // The sandbox's clock runs 23 days past its start: a certificate made at the start for one month has about a week left.
    const person = { employeeId: 'E1001', userPrincipalName: 'anna.devries@contoso.example', departmentId: 'DEPT001', site: 'AMS' };
    const events = [
      { eventId: 'c1', type: 'joiner', occurredAt: '2026-11-02T08:00:00Z', tenantId: CONTOSO, person },
      { eventId: 'c2', type: 'mover', occurredAt: '2026-11-25T08:00:00Z', tenantId: CONTOSO, person: { ...person, site: 'RTM' } },
    ];
    const state = await keptSandbox({ workerApp: { teamsRole: false, certificate: { validityInMonths: 1 } } }, { workerApp: { certificate: { enabled: false } } }, events);
    const report = JSON.parse((await dialtone('doctor', '--sandbox', state, '--json')).out) as DoctorJson;
    expect(of(report, CONTOSO)).toEqual([
      ['Admin consent (service principal of the worker app)', 'ok'],
      ['Teams Communications Administrator role (worker app)', 'fail'],
      ['Key Vault certificate', 'warn'],
    ]);
    expect(report.checks.find((c) => c.tenant === CONTOSO && c.check.startsWith('Key Vault'))?.detail).toMatch(/expires in \d+ days/);
    expect(of(report, FABRIKAM)).toEqual([
      ['Admin consent (service principal of the worker app)', 'ok'],
      ['Teams Communications Administrator role (worker app)', 'ok'],
      ['Key Vault certificate', 'fail'],
    ]);
    expect(report.checks.find((c) => c.tenant === FABRIKAM && c.check.startsWith('Key Vault'))?.detail).toContain('disabled');

    const missing = await keptSandbox({}, { workerApp: { certificate: false } });
    const gone = JSON.parse((await dialtone('doctor', '--sandbox', missing, '--json')).out) as DoctorJson;
    expect(gone.checks.find((c) => c.tenant === FABRIKAM && c.check.startsWith('Key Vault'))).toMatchObject({ status: 'fail' });
    expect(of(gone, CONTOSO).every(([, status]) => status === 'ok')).toBe(true);
  }, 300_000);
});
