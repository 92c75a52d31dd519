/**
 * Issue 16, the sandbox with several tenants: `--state DIR` keeps every tenant (its Teams tenant,
 * its Graph subscriptions, its inventory partitions and records), a second run continues each
 * tenant's state, and the operator commands of the kept sandbox work per tenant (`--tenant-id`).
 * A tenant file may name its own voice policy (`voicePolicy`, as the registry field), else the
 * shared `--policy` applies.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dialtone as run } from '../helpers/cli.js';
import { useTempDir } from '../helpers/temp-dir.js';

const tmp = useTempDir('dialtone-state-tenants-');
const dialtone = (...args: string[]) => run(args);

const CONTOSO = '8f0c2a53-5d0e-4c1b-9a57-2f1f0e6f0001';
const FABRIKAM = '5c1e7b42-9a3d-4f60-8e21-7d4b3c2a0002';

interface ReportUser {
  id: string;
  userPrincipalName: string;
  tenantId: string | null;
  teams: { enterpriseVoiceEnabled: boolean; lineUri: string | null };
}
interface Report {
  users: ReportUser[];
  deadLetters: { reason: string; tenantId: string | null }[];
  metrics: { eventsIn: number };
}

const joiner = (eventId: string, tenantId: string, employeeId: string, site: string, at: string) =>
  JSON.stringify({ eventId, type: 'joiner', occurredAt: at, tenantId, person: { employeeId, departmentId: 'DEPT001', site } });

async function tenantFiles(): Promise<{ a: string; b: string }> {
  const a = tmp('contoso.json');
  const b = tmp('fabrikam.json');
  for (const [from, to] of [['sandbox/data/tenants/contoso.json', a], ['sandbox/data/tenants/fabrikam.json', b]] as const) {
    // Bram is licensed from the start (the sample licenses him later).
    const file = JSON.parse(await readFile(from, 'utf8')) as { users: { employeeId: string; servicePlans?: string[]; licensedAfterMs?: number }[] };
    const bram = file.users.find((u) => u.employeeId === 'E1002')!;
    bram.servicePlans = ['TEAMS1', 'MCOEV'];
    delete bram.licensedAfterMs;
    await writeFile(to, JSON.stringify(file));
  }
  return { a, b };
}

const pools = (fabTo: string) =>
  JSON.stringify({
    pools: [
      { id: 'ams', ranges: [{ from: '+31201234000', to: '+31201234009' }], quarantineDays: 90 },
      { id: 'fab-ams', ranges: [{ from: '+31205550000', to: fabTo }], quarantineDays: 90, tenantId: FABRIKAM },
      { id: 'fab-rtm', ranges: [{ from: '+31105550500', to: '+31105550509' }], quarantineDays: 90, tenantId: FABRIKAM },
    ],
  });

const lineOf = (report: Report, tenantId: string, upn: string) => report.users.find((u) => u.tenantId === tenantId && u.userPrincipalName === upn)?.teams;

describe('sandbox run --state with several tenants', () => {
  it('keeps each tenant\'s state: a PoolExhausted of one tenant is fixed by an import and a replay scoped to it, and the next run continues both tenants', async () => {
    const { a, b } = await tenantFiles();
    await writeFile(
      tmp('events.ndjson'),
      [
        joiner('c1', CONTOSO, 'E1001', 'AMS', '2026-11-02T08:00:00Z'),
        joiner('f1', FABRIKAM, 'E1001', 'FAB-AMS', '2026-11-02T08:00:00Z'),
        joiner('f2', FABRIKAM, 'E1002', 'FAB-AMS', '2026-11-02T08:05:00Z'),
      ].join('\n'),
    );
    await writeFile(tmp('none.ndjson'), '');
    await writeFile(tmp('pools.json'), pools('+31205550000'));
    await writeFile(tmp('more.json'), JSON.stringify({ pools: [{ id: 'fab-ams', ranges: [{ from: '+31205550000', to: '+31205550009' }], quarantineDays: 90 }] }));
    const state = tmp('state');
    const common = ['--tenant', a, '--tenant', b, '--policy', 'sandbox/data/tenants/voice-policy.yaml', '--storage', 'memory', '--state', state, '--json'];

    const first = await dialtone('sandbox', 'run', ...common, '--events', tmp('events.ndjson'), '--numbers', tmp('pools.json'));
    expect(first.code, first.err).toBe(0);
    const one = JSON.parse(first.out) as Report;
    expect(one.deadLetters.map((d) => [d.reason, d.tenantId])).toEqual([['PoolExhausted', FABRIKAM]]);
    expect(lineOf(one, CONTOSO, 'anna.devries@contoso.example')?.lineUri).toBe('tel:+31201234000');
    expect(lineOf(one, FABRIKAM, 'anna.devries@fabrikam.example')?.lineUri).toBe('tel:+31205550000');

    // Operated per tenant, like production.
    const listed = await dialtone('dlq', 'list', '--tenant-id', FABRIKAM, '--sandbox', state, '--json');
    expect(listed.code, listed.err).toBe(0);
    expect((JSON.parse(listed.out) as { messageId: string }[]).map((d) => d.messageId)).toEqual([`uc-${FABRIKAM}:f2`]);
    const none = await dialtone('dlq', 'list', '--tenant-id', CONTOSO, '--sandbox', state, '--json');
    expect(JSON.parse(none.out)).toEqual([]);
    const imported = await dialtone('numbers', 'import', tmp('more.json'), '--tenant-id', FABRIKAM, '--sandbox', state);
    expect(imported.code, imported.err).toBe(0);
    const replay = await dialtone('dlq', 'replay', '--reason', 'PoolExhausted', '--tenant-id', FABRIKAM, '--sandbox', state);
    expect(replay.code, replay.err).toBe(0);
    expect(replay.out).toContain(`uc-${FABRIKAM}:f2`);

    const second = await dialtone('sandbox', 'run', ...common, '--events', tmp('none.ndjson'));
    expect(second.code, second.err).toBe(0);
    const two = JSON.parse(second.out) as Report;
    expect(two.deadLetters).toEqual([]);
    expect(two.metrics.eventsIn).toBe(3);
    // Each tenant's Teams tenant continued: what run 1 applied is still there, in its own tenant.
    expect(lineOf(two, CONTOSO, 'anna.devries@contoso.example')).toMatchObject({ enterpriseVoiceEnabled: true, lineUri: 'tel:+31201234000' });
    expect(lineOf(two, FABRIKAM, 'anna.devries@fabrikam.example')).toMatchObject({ enterpriseVoiceEnabled: true, lineUri: 'tel:+31205550000' });
    expect(lineOf(two, FABRIKAM, 'bram.jansen@fabrikam.example')).toMatchObject({ enterpriseVoiceEnabled: true, lineUri: 'tel:+31205550001' });
    expect(lineOf(two, CONTOSO, 'bram.jansen@contoso.example')?.lineUri ?? null).toBeNull();

    // The kept inputs hold every tenant file, so --sandbox commands know them all.
    const kept = JSON.parse(await readFile(join(state, 'sandbox-inputs.json'), 'utf8')) as { tenants: { tenantId: string }[] };
    expect(kept.tenants.map((t) => t.tenantId)).toEqual([CONTOSO, FABRIKAM]);
    const status = await dialtone('status', 'bram.jansen@fabrikam.example', '--tenant-id', FABRIKAM, '--sandbox', state, '--json');
    expect(status.code, status.err).toBe(0);
    expect(status.out).toContain('+31205550001');
  }, 300_000);

  it('refuses to continue a kept state with other tenant files than it was kept with, naming the tenants', async () => {
    const { a, b } = await tenantFiles();
    await writeFile(tmp('none.ndjson'), '');
    const state = tmp('state');
    const first = await dialtone('sandbox', 'run', '--tenant', a, '--tenant', b, '--events', tmp('none.ndjson'), '--storage', 'memory', '--state', state, '-o', 'none');
    expect(first.code, first.err).toBe(0);
    const again = await dialtone('sandbox', 'run', '--tenant', a, '--events', tmp('none.ndjson'), '--state', state, '-o', 'none');
    expect(again.code).toBe(2);
    expect(again.err).toContain(FABRIKAM);
  }, 300_000);
});

describe('a tenant file may name its own voice policy', () => {
  it('applies the voicePolicy a tenant file names (relative to the file) to that tenant\'s people, and the shared --policy to the others', async () => {
    const { a, b } = await tenantFiles();
    const fabrikam = JSON.parse(await readFile(b, 'utf8')) as Record<string, unknown>;
    fabrikam.voicePolicy = 'fabrikam-policy.yaml';
    await writeFile(b, JSON.stringify(fabrikam));
    // Fabrikam's own policy sends its Amsterdam office to its Rotterdam range.
    const shared = await readFile('sandbox/data/tenants/voice-policy.yaml', 'utf8');
    await writeFile(tmp('fabrikam-policy.yaml'), shared.replace(/when: \{ site: FAB-AMS \}\n(\s+)numberPool: fab-ams/, 'when: { site: FAB-AMS }\n$1numberPool: fab-rtm'));
    await writeFile(tmp('events.ndjson'), [joiner('c1', CONTOSO, 'E1001', 'AMS', '2026-11-02T08:00:00Z'), joiner('f1', FABRIKAM, 'E1001', 'FAB-AMS', '2026-11-02T08:00:00Z')].join('\n'));
    await writeFile(tmp('pools.json'), pools('+31205550009'));
    const result = await dialtone('sandbox', 'run', '--tenant', a, '--tenant', b, '--events', tmp('events.ndjson'), '--numbers', tmp('pools.json'), '--policy', 'sandbox/data/tenants/voice-policy.yaml', '--storage', 'memory', '--json');
    expect(result.code, result.err).toBe(0);
    const report = JSON.parse(result.out) as Report;
    expect(report.deadLetters).toEqual([]);
    expect(lineOf(report, FABRIKAM, 'anna.devries@fabrikam.example')?.lineUri).toBe('tel:+31105550500');
    expect(lineOf(report, CONTOSO, 'anna.devries@contoso.example')?.lineUri).toBe('tel:+31201234000');
  }, 300_000);

  it('refuses a tenant file whose voicePolicy cannot be read or is invalid, naming the tenant file and the field (exit 2)', async () => {
    const { a, b } = await tenantFiles();
    const fabrikam = JSON.parse(await readFile(b, 'utf8')) as Record<string, unknown>;
    await writeFile(tmp('none.ndjson'), '');
    fabrikam.voicePolicy = 'missing.yaml';
    await writeFile(b, JSON.stringify(fabrikam));
    const missing = await dialtone('sandbox', 'run', '--tenant', a, '--tenant', b, '--events', tmp('none.ndjson'), '--storage', 'memory', '-o', 'none');
    expect(missing.code).toBe(2);
    expect(missing.err).toContain(`tenant file ${b}: voicePolicy:`);
    expect(missing.err).toContain('missing.yaml');
    await writeFile(tmp('bad.yaml'), 'version: 1\nrules: 7\n');
    fabrikam.voicePolicy = 'bad.yaml';
    await writeFile(b, JSON.stringify(fabrikam));
    const invalid = await dialtone('sandbox', 'run', '--tenant', a, '--tenant', b, '--events', tmp('none.ndjson'), '--storage', 'memory', '-o', 'none');
    expect(invalid.code).toBe(2);
    expect(invalid.err).toContain(`tenant file ${b}: voicePolicy:`);
  }, 300_000);
});
