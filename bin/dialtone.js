#!/usr/bin/env node
// The `dialtone` command. It runs the compiled JavaScript in dist/ (no TypeScript loader at run
// time, so `dialtone --help` starts fast). `npm ci` builds dist/ through the `prepare` script;
// when dist/ is missing or older than a source file (someone edited the sources), the first run
// builds it once, so `npx dialtone` always runs the code of the working tree.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL, URL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
const stamp = join(dist, '.build-stamp');
const sources = ['cli', 'shared', 'sandbox', 'functions', 'worker'];

function newestSource(dir) {
  let newest = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts') || entry.name.endsWith('.json')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

function builtAt() {
  try {
    return statSync(stamp).mtimeMs;
  } catch {
    return -1;
  }
}

function stale() {
  const at = builtAt();
  if (at < 0) return true;
  const files = [join(root, 'infra', 'queues.json'), join(root, 'tsconfig.json'), join(root, 'tsconfig.build.json')];
  const newestFile = Math.max(...files.map((f) => { try { return statSync(f).mtimeMs; } catch { return 0; } }));
  return newestFile > at || sources.some((dir) => newestSource(join(root, dir)) > at);
}

const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

function build() {
  const lock = join(root, '.dialtone-build.lock');
  for (let waited = 0; ; waited += 200) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // Another dialtone is building: wait for it, then use its build.
      if (waited > 180_000) throw new Error(`dialtone: ${lock} has been held for 3 minutes; remove it if no build is running`);
      sleep(200);
      if (!stale()) return;
    }
  }
  try {
    if (!stale()) return;
    let tsc;
    try {
      tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    } catch {
      process.stderr.write('dialtone: dist/ is missing or out of date and TypeScript is not installed: run `npm ci` (or `npm run build`) first.\n');
      process.exit(2);
    }
    process.stderr.write('dialtone: compiling the sources into dist/ (once after a change) …\n');
    const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (result.status !== 0) {
      process.stderr.write('dialtone: the build failed (see above).\n');
      process.exit(2);
    }
    writeFileSync(stamp, new Date().toISOString());
  } finally {
    rmdirSync(lock);
  }
}

if (process.env.DIALTONE_SKIP_BUILD_CHECK !== '1' && stale()) build();
await import(pathToFileURL(join(dist, 'cli', 'main.js')).href);
