/**
 * The real `dialtone` bin, spawned as an operator runs it: through pipes (not a terminal) and in a
 * pseudo-terminal (`script` from util-linux). Few spawns on purpose: each costs a Node start.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'bin', 'dialtone.js');
const data = (name: string) => join(root, 'sandbox', 'data', name);

let dir: string;
let state: string;

interface Run {
  stdout: string;
  stderr: string;
  code: number | null;
}

/** A shell pipeline (bash, pipefail off) with `dialtone` meaning the bin; a clean environment without colour settings. */
function sh(script: string, env: Record<string, string> = {}, input?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', `dialtone() { ${JSON.stringify(process.execPath)} ${JSON.stringify(bin)} "$@"; }\n${script}`], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', COLUMNS: '100', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ stdout, stderr, code }));
    child.stdin.end(input ?? '');
  });
}

/** The same in a pseudo-terminal: stdout and stderr are a terminal, both arrive on stdout. */
function tty(command: string, env: Record<string, string> = {}, input?: string): Promise<Run> {
  return sh(`script -qefc ${JSON.stringify(`stty cols 100 2>/dev/null; ${command.replaceAll('dialtone ', `${process.execPath} ${bin} `)}`)} /dev/null`, env, input);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dialtone-spawned-'));
  state = join(dir, 'state');
  await writeFile(join(dir, 'more.json'), JSON.stringify({ pools: [{ id: 'ams', ranges: [{ from: '+31201234000', to: '+31201234199' }], quarantineDays: 90 }] }));
  // The first start builds dist/ when the sources are newer (a developer's tree); CI has built it in npm ci.
  expect(spawnSync(process.execPath, [bin, '--version'], { cwd: root, encoding: 'utf8' }).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
}, 600_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const run = (extra: string) =>
  `dialtone sandbox run --tenant ${data('tenant.json')} --events ${data('hr-events.ndjson')} --numbers ${data('numbers.json')} --storage memory ${extra}`;

describe('dialtone in a terminal', () => {
  it('shows progress on stderr from the start, streams --log as it goes, and keeps the state', async () => {
    const log = join(dir, 'run.log');
    const r = await tty(run(`--state ${state} --log ${log}`));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('sandbox run: reading the inputs');
    expect(r.stdout).toMatch(/sandbox run: \d+ events, \d+ dead letters/);
    const lines = (await readFile(log, 'utf8')).trim().split('\n');
    expect(lines.length).toBeGreaterThan(5);
    expect(lines.every((l) => typeof (JSON.parse(l) as { message?: unknown }).message === "string")).toBe(true);
    expect(existsSync(join(state, 'sandbox-state.json'))).toBe(true);
  }, 120_000);

  it('colours a table header bold (not red) on a terminal, and not with NO_COLOR', async () => {
    const coloured = await tty(`dialtone numbers pools --sandbox ${state}`);
    expect(coloured.stdout).toContain('\u001b[1mpool');
    expect(coloured.stdout).not.toContain('\u001b[31m');
    const plain = await tty(`dialtone numbers pools --sandbox ${state}`, { NO_COLOR: '1' });
    expect(plain.stdout).toContain('pool');
    expect(plain.stdout).not.toContain('\u001b[');
  }, 180_000);

  it('asks before purging in a terminal and does nothing on no', async () => {
    // The sample timeline leaves one dead letter.
    const r = await tty(`dialtone dlq purge --all --sandbox ${state}`, {}, 'n\n');
    expect(r.stdout).toContain('Delete 1 dead letters for good? [y/N]');
    expect(r.stdout).toContain('Nothing purged.');
    expect(r.code).toBe(1);
  }, 180_000);
});

describe('dialtone through pipes', () => {
  it('prints the same --json report as -o json, and a heartbeat on stderr instead of a spinner', async () => {
    const r = await sh(`${run('--json')} > ${dir}/a.json && ${run('-o json')} > ${dir}/b.json`, { DIALTONE_HEARTBEAT_SECONDS: '0.1' });
    expect(r.code).toBe(0);
    const a = await readFile(join(dir, 'a.json'), 'utf8');
    const report = JSON.parse(a) as Record<string, unknown>;
    for (const key of ['users', 'numbers', 'deadLetters', 'metrics']) expect(report).toHaveProperty(key);
    expect(a.endsWith('}\n')).toBe(true);
    // The same report, byte for byte but for the measured run time.
    const strip = (t: string) => t.replace(/"simulatedMs": \d+/, '');
    expect(strip(await readFile(join(dir, 'b.json'), 'utf8'))).toBe(strip(a));
    expect(r.stderr).not.toContain('\u001b[');
    expect(r.stderr).toMatch(/^dialtone: sandbox run: .+ \(\d+ s\)$/m);
  }, 120_000);

  it('commits before printing, ends quietly when the reader goes, and exits 0', async () => {
    const r = await sh(
      [
        `dialtone numbers import ${dir}/more.json --sandbox ${state} | head -1; echo "import=\${PIPESTATUS[0]}"`,
        `dialtone numbers export --sandbox ${state} | head -1; echo "export=\${PIPESTATUS[0]}"`,
        `dialtone numbers list --sandbox ${state} -o tsv | wc -l`,
      ].join('\n'),
    );
    expect(r.stderr).toBe('');
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^Imported .*more\.json: 0 pools added, 1 updated; 100 numbers added, 100 already present\.$/);
    expect(lines[1]).toBe('import=0');
    expect(lines[2]).toBe('number,pool,state,userId,reservedUntil,quarantinedUntil,owner,updatedAt\r');
    expect(lines[3]).toBe('export=0');
    expect(Number(lines[4])).toBe(250);
  }, 120_000);

  it('refuses bad values with exit 2 naming the option, and destructive work without --yes', async () => {
    const r = await sh(
      [
        `dialtone dlq list --limit abc --sandbox ${state}; echo "limit=$?"`,
        `dialtone numbers release +31101234500 --sandbox ${state}; echo "release=$?"`,
        `dialtone status nobody@contoso.example --sandbox ${state}; echo "status=$?"`,
      ].join('\n'),
    );
    expect(r.stdout.trim().split('\n')).toEqual(['limit=2', 'release=2', 'status=1']);
    expect(r.stderr).toContain("error: option '--limit <n>' argument 'abc' is invalid. expected a whole number from 1 to 100000, got 'abc'.");
    expect(r.stderr).toContain('add --yes to do it');
    expect(r.stderr).toContain("No person 'nobody@contoso.example'");
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }, 120_000);
});
