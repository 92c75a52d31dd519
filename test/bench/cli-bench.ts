/**
 * `npm run bench:cli [-- --numbers N]`: how soon the real `dialtone` bin answers an operator.
 * Keeps a sandbox with N numbers (default 100,000), then times, from spawn, the first byte of
 * stdout of `numbers list` (the first page of a streamed table) and of `--help`. Prints one JSON
 * object; the times depend on the machine (run it on an idle one).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'bin', 'dialtone.js');
const arg = process.argv.indexOf('--numbers');
const count = arg > 0 ? Number(process.argv[arg + 1]) : 100_000;

interface Timing {
  firstStdoutMs: number | null;
  firstStderrMs: number | null;
  totalMs: number;
  code: number | null;
}

function timed(args: string[]): Promise<Timing> {
  const start = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let firstStdoutMs: number | null = null;
    let firstStderrMs: number | null = null;
    child.stdout.on('data', () => (firstStdoutMs ??= Math.round(performance.now() - start)));
    child.stderr.on('data', () => (firstStderrMs ??= Math.round(performance.now() - start)));
    child.on('close', (code) => resolve({ firstStdoutMs, firstStderrMs, totalMs: Math.round(performance.now() - start), code }));
  });
}

const dir = await mkdtemp(join(tmpdir(), 'dialtone-cli-bench-'));
try {
  const last = 201_000_000 + count - 1;
  await writeFile(join(dir, 'numbers.json'), JSON.stringify({ pools: [{ id: 'big', ranges: [{ from: '+31201000000', to: `+31${last}` }], quarantineDays: 90 }] }));
  await writeFile(join(dir, 'none.ndjson'), '');
  const state = join(dir, 'state');
  const common = ['--tenant', join(root, 'sandbox/data/tenant.json'), '--storage', 'memory', '--state', state];
  await timed(['--version']); // builds dist/ first if the sources are newer
  const keep = await timed(['sandbox', 'run', ...common, '--events', join(dir, 'none.ndjson'), '--numbers', join(dir, 'numbers.json'), '-o', 'none']);
  const help = await timed(['--help']);
  const list = await timed(['numbers', 'list', '--sandbox', state]);
  const page = await timed(['numbers', 'list', '--sandbox', state, '--top', '50']);
  process.stdout.write(
    `${JSON.stringify({ numbers: count, importMs: keep.totalMs, help: help.firstStdoutMs, numbersListFirstOutputMs: list.firstStdoutMs, numbersListTotalMs: list.totalMs, numbersListTop50Ms: page.totalMs }, null, 2)}\n`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
