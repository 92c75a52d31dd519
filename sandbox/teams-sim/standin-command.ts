/**
 * How a pwsh stand-in process is started. Compiled (dist/, as the `dialtone` bin runs) the
 * stand-in is JavaScript next to this file. From the sources (tests, tsx, `npm run chaos`) it is
 * TypeScript: it is transpiled once per process into a temporary directory (keyed by the sources'
 * hash) and started with plain node, because starting every stand-in through tsx's loader costs
 * about four times the CPU and real time of a plain start — and a chaos run starts a new stand-in
 * for every crashed, hung or killed session while the sandbox holds its clock for the start.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The stand-in and the one module it imports (it imports nothing else of the repository). */
const SOURCES = ['pwsh-standin', 'wire'] as const;

let transpiled: Promise<string> | undefined;

/** The JavaScript file to run with `node`: the compiled one, or the sources transpiled once. */
export function standinScript(): Promise<string> {
  const here = import.meta.url;
  if (here.endsWith('.js')) return Promise.resolve(fileURLToPath(new URL('./pwsh-standin.js', here)));
  transpiled ??= transpileStandin();
  return transpiled;
}

async function transpileStandin(): Promise<string> {
  const texts = SOURCES.map((name) => readFileSync(fileURLToPath(new URL(`./${name}.ts`, import.meta.url)), 'utf8'));
  const hash = createHash('sha256').update(texts.join('\0')).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), `dialtone-standin-${hash}`);
  const entry = join(dir, 'pwsh-standin.js');
  if (existsSync(entry)) return entry;
  const ts = (await import('typescript')).default;
  // Written to a directory of its own first, then renamed: a concurrent process never runs half a file.
  const staging = `${dir}.${process.pid}.${Date.now()}`;
  mkdirSync(staging, { recursive: true });
  writeFileSync(join(staging, 'package.json'), '{ "type": "module" }\n');
  SOURCES.forEach((name, i) => {
    const out = ts.transpileModule(texts[i]!, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false },
      fileName: `${name}.ts`,
    });
    writeFileSync(join(staging, `${name}.js`), out.outputText);
  });
  try {
    renameSync(staging, dir);
  } catch (error) {
    // Another process renamed its copy first: the same sources, so the same files.
    if (!existsSync(entry)) throw error;
  }
  return entry;
}
