/** The operator commands on a kept sandbox, through runCli in this process (the bin's own entry). */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { completions } from '../../cli/commands/completion.js';
import { csvField } from '../../cli/commands/numbers.js';
import { buildProgram } from '../../cli/program.js';
import { dialtone, useKeptSandbox } from '../helpers/cli.js';

const ANNA = '3b7d1c9e-0d2a-4c55-8d0e-000000000101';
const BRAM = '3b7d1c9e-0d2a-4c55-8d0e-000000000102';
/** A real clock far from the sandbox's, so a filter that used it would find nothing. */
const far = { now: () => new Date('2031-01-01T00:00:00Z') };

const kept = useKeptSandbox('operator');

describe('one person resolver for every command', () => {
  it('finds a person in status by UPN, object id, employee id or mail', async () => {
    for (const who of ['anna.devries@contoso.example', ANNA, 'E1001']) {
      const r = await dialtone(['status', who, '--sandbox', kept.state(), '-o', 'json']);
      expect((JSON.parse(r.out) as { record: { userId: string } }).record.userId).toBe(ANNA);
    }
  });

  it('lists the numbers of a person named by employee id', async () => {
    const r = await dialtone(['numbers', 'list', '--user', 'E1001', '--sandbox', kept.state(), '-o', 'json']);
    expect((JSON.parse(r.out) as { number: string; state: string }[]).map((n) => [n.number, n.state]).sort()).toEqual([
      ['+31101234500', 'assigned'],
      ['+31201234000', 'quarantined'],
    ]);
  });

  it('finds dead letters by UPN though the message names the person only by object id, on the sandbox clock', async () => {
    const r = await dialtone(['dlq', 'list', '--user', 'bram.jansen@contoso.example', '--newer-than', '30d', '--sandbox', kept.state(), '-o', 'json'], far);
    expect((JSON.parse(r.out) as { sessionId: string; reason: string }[]).map((d) => [d.sessionId, d.reason])).toEqual([[BRAM, 'NotLicensed']]);
    const older = await dialtone(['dlq', 'list', '--older-than', '30d', '--sandbox', kept.state(), '-o', 'json'], far);
    expect(JSON.parse(older.out)).toEqual([]);
  });

  it('plans a person of the sandbox (plan honours --sandbox)', async () => {
    const r = await dialtone(['plan', 'E1001', '--sandbox', kept.state(), '-o', 'json']);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.out) as { user: { id: string } }).user.id).toBe(ANNA);
  });

  it("shows Teams' live state the sandbox left, read through Graph, next to the desired one", async () => {
    const r = await dialtone(['plan', 'E1001', '--sandbox', kept.state(), '-o', 'json']);
    const plan = JSON.parse(r.out) as { preview: { desired: unknown }; live: { read: boolean; known: boolean; phoneSystem: boolean; state: unknown } };
    expect(plan.live).toMatchObject({ read: true, known: true, phoneSystem: true });
    // Anna was provisioned by the run: Teams holds exactly what Dialtone would give her now.
    expect(plan.live.state).toEqual(plan.preview.desired);
    const table = await dialtone(['plan', 'E1001', '--sandbox', kept.state()]);
    expect(table.out).toMatch(/live in Teams: Enterprise Voice on, number \+31101234500, .*\(featureTypes: .*PhoneSystem.*\)/);
    expect(table.out).toContain('Teams already matches the desired state');
  });
});

describe('dialtone doctor', () => {
  it('checks the sandbox under --sandbox: its queues and pools', async () => {
    const r = await dialtone(['doctor', '--sandbox', kept.state(), '-o', 'json']);
    const report = JSON.parse(r.out) as { status: string; checks: { check: string; status: string }[] };
    expect(report.checks).toContainEqual(expect.objectContaining({ check: 'Queue user-changes', status: 'warn' }));
    expect(report.checks).toContainEqual(expect.objectContaining({ check: 'Number pools' }));
    expect(r.code).toBe(0);
  });

  it("checks the Function App's Graph permissions against the sandbox's simulated Graph", async () => {
    const r = await dialtone(['doctor', '--sandbox', kept.state(), '-o', 'json']);
    const report = JSON.parse(r.out) as { checks: { check: string; status: string }[] };
    expect(report.checks.filter((c) => c.check.startsWith('Graph application permission')).map((c) => [c.check, c.status])).toEqual([
      ['Graph application permission User.Read.All (Function App identity)', 'ok'],
      ['Graph application permission TeamsUserConfiguration.Read.All (Function App identity)', 'ok'],
    ]);
  });

  it('reports each Graph permission the graph backend lacks, with the command that grants it', async () => {
    const tenantPath = join(kept.dir(), 'tenant-few-permissions.json');
    const sample = JSON.parse(await readFile('sandbox/data/tenant.json', 'utf8')) as Record<string, unknown>;
    await writeFile(tenantPath, JSON.stringify({ ...sample, graphApp: { permissions: ['User.Read.All', 'TeamsUserConfiguration.Read.All'] } }));
    const graphState = join(kept.dir(), 'graph-state');
    const empty = join(kept.dir(), 'empty.ndjson');
    await writeFile(empty, '');
    const run = await dialtone(['sandbox', 'run', '--tenant', tenantPath, '--events', empty, '--teams-backend', 'graph', '--storage', 'memory', '--state', graphState, '-o', 'none']);
    expect(run.code).toBe(0);
    const r = await dialtone(['doctor', '--sandbox', graphState, '-o', 'json']);
    const report = JSON.parse(r.out) as { status: string; checks: { check: string; status: string; detail: string }[] };
    const missing = report.checks.filter((c) => c.status === 'fail');
    expect(missing.map((c) => c.check)).toEqual([
      'Graph application permission TeamsTelephoneNumber.ReadWrite.All (Function App identity)',
      'Graph application permission TeamsPolicyUserAssign.ReadWrite.All (Function App identity)',
    ]);
    expect(missing[0]?.detail).toMatch(/^not granted to f0f0f0f0-5a1d-4b0c-9d1e-00000000d1a1 \(needed: graphVoice assigns and unassigns numbers\): run dialtone setup --function-principal-id f0f0f0f0-5a1d-4b0c-9d1e-00000000d1a1 --teams-backend graph \(or scripts\/grant-graph-permissions\.sh --function-principal-id f0f0f0f0-5a1d-4b0c-9d1e-00000000d1a1 --teams-backend graph\)$/);
    expect(r.code).toBe(1);
  });

  it('exits 1 when it could check nothing', async () => {
    const skipped = ['Queues', 'Number pools', 'Key Vault certificate'].map((check) => ({ check, setting: 'X' }));
    const r = await dialtone(['doctor', '-o', 'json'], { doctor: async () => ({ settingsProblems: [], skipped }) });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toMatchObject({ status: 'fail', checks: expect.arrayContaining([expect.objectContaining({ check: 'Coverage', status: 'fail' })]) });
  });
});

describe('dialtone policy validate', () => {
  const policy = (when: string, pool: string, plan: string) =>
    ['version: 1', 'defaults:', `  policies: { TenantDialPlan: ${plan} }`, 'rules:', '  - name: amsterdam', `    when: ${when}`, `    numberPool: ${pool}`].join('\n');

  it('reports unknown attribute names with a did-you-mean, and pools and policies that do not exist', async () => {
    const file = join(kept.dir(), 'typo.yaml');
    await writeFile(file, policy('{ sight: AMS }', 'amss', 'DP-NX'));
    const r = await dialtone(['policy', 'validate', file, '--tenant', 'sandbox/data/tenant.json', '--numbers', 'sandbox/data/numbers.json', '-o', 'json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toEqual([
      expect.objectContaining({ severity: 'error', path: 'rules[0].when.sight', message: expect.stringContaining("did you mean 'site'?") }),
      expect.objectContaining({ severity: 'error', path: 'rules[0].numberPool', message: expect.stringContaining("number pool 'amss' is not in the inventory; did you mean 'ams'?") }),
      expect.objectContaining({ severity: 'error', path: 'defaults.policies.TenantDialPlan', message: "the tenant has no TenantDialPlan named 'DP-NX'; did you mean 'DP-NL'?" }),
    ]);
  });

  it('accepts attributes the file declares, and checks against the sandbox under --sandbox', async () => {
    const file = join(kept.dir(), 'declared.yaml');
    await writeFile(file, `${policy('{ costCenter: "42*" }', 'ams', 'DP-NL')}\nattributes: [costCenter]`);
    const r = await dialtone(['policy', 'validate', file, '--sandbox', kept.state()]);
    expect(r).toMatchObject({ code: 0, out: `${file}: valid (1 rules).` });
  });

  it('exits 2 naming the file and the field when it cannot be parsed', async () => {
    const file = join(kept.dir(), 'broken.yaml');
    await writeFile(file, 'version: 1\nrules:\n  - name: x\n    whne: { site: AMS }\n');
    const r = await dialtone(['policy', 'validate', file, '--numbers', 'sandbox/data/numbers.json', '--tenant', 'sandbox/data/tenant.json']);
    expect(r.code).toBe(2);
    expect(r.err.startsWith(`dialtone: ${file}: `)).toBe(true);
    expect(r.err).toContain("rules[0].whne: unknown field; did you mean 'when'?");
  });
});

describe('usage and input errors exit 2', () => {
  it('names the numbers file when its pools overlap', async () => {
    const file = join(kept.dir(), 'overlap.json');
    await writeFile(
      file,
      JSON.stringify({ pools: [{ id: 'a', ranges: [{ from: '+31201234000', to: '+31201234009' }] }, { id: 'b', ranges: [{ from: '+31201234005', to: '+31201234019' }] }] }),
    );
    const r = await dialtone(['sandbox', 'run', '--tenant', 'sandbox/data/tenant.json', '--events', 'sandbox/data/hr-events.ndjson', '--numbers', file, '--storage', 'memory']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(new RegExp(`^dialtone: numbers file ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
  });

  it('refuses --workers abc and a bad numbers file', async () => {
    const workers = await dialtone(['sandbox', 'run', '--tenant', 'x', '--events', 'y', '--workers', 'abc']);
    expect(workers.code).toBe(2);
    expect(workers.err).toContain("option '--workers <n>' argument 'abc' is invalid");
    const bad = join(kept.dir(), 'bad.json');
    await writeFile(bad, '{ "pools": [{ "id": "AMS" }] }');
    const imported = await dialtone(['numbers', 'import', bad, '--sandbox', kept.state()]);
    expect(imported.code).toBe(2);
    expect(imported.err).toMatch(new RegExp(`^dialtone: ${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: pools\\.0\\.id: `));
  });
});

describe('help, completion and exports', () => {
  const leaves = (command: Command, path: string[] = []): string[][] =>
    command.commands.filter((c) => c.name() !== '__complete' && c.name() !== 'help').flatMap((c) => (c.commands.length > 0 ? leaves(c, [...path, c.name()]) : [[...path, c.name()]]));

  it('ends every command help with examples', async () => {
    const program = buildProgram({ out: () => undefined, err: () => undefined, exit: () => undefined });
    const commands = leaves(program);
    expect(commands.length).toBeGreaterThan(15);
    for (const path of commands) {
      const r = await dialtone([...path, '--help']);
      expect(r.code, path.join(' ')).toBe(0);
      expect(r.out, path.join(' ')).toContain('Examples:\n  $ ');
    }
  });

  it('completes commands, options and option choices', () => {
    const program = buildProgram({ out: () => undefined, err: () => undefined, exit: () => undefined });
    expect(completions(program, ['numbers', 'li'])).toEqual(['list']);
    expect(completions(program, ['numbers', 'list', '--st'])).toEqual(['--state']);
    expect(completions(program, ['numbers', 'list', '--state', ''])).toEqual(['free', 'reserved', 'assigned', 'quarantined', 'blocked']);
    expect(completions(program, ['-o', 'js'])).toEqual(['json', 'jsonl']);
  });

  it('prints a bash completion script', async () => {
    const r = await dialtone(['completion', 'bash']);
    expect(r.out).toContain('complete -o default -F _dialtone_complete dialtone');
  });

  it('exports CSV that a spreadsheet cannot run and that keeps the plus of a number', () => {
    expect(csvField('+31201234000')).toBe("'+31201234000");
    expect(csvField('=HYPERLINK("http://x")')).toBe(`"'=HYPERLINK(""http://x"")"`);
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvField('plain')).toBe('plain');
  });
});
