import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

const ROOT = process.cwd();
const json = (path: string): Record<string, unknown> => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
const API = '@opentelemetry/api';

/** Every installed package (top level and scoped) that names @opentelemetry/api as a peer or a dependency. */
function dependents(): { name: string; range: string }[] {
  const out: { name: string; range: string }[] = [];
  const modules = join(ROOT, 'node_modules');
  const dirs = readdirSync(modules).flatMap((d) => (d.startsWith('@') ? readdirSync(join(modules, d)).map((s) => join(d, s)) : [d]));
  for (const dir of dirs) {
    const file = join(modules, dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = json(file);
    for (const field of ['peerDependencies', 'dependencies'] as const) {
      const range = (pkg[field] as Record<string, string> | undefined)?.[API];
      if (range) out.push({ name: `${String(pkg.name)} (${field})`, range });
    }
  }
  return out;
}

describe('@opentelemetry/api', () => {
  it('is pinned to 1.9.x, the line the Azure Monitor distro and the OpenTelemetry SDKs accept', () => {
    const declared = (json(join(ROOT, 'package.json')).dependencies as Record<string, string>)[API] ?? '';
    // A caret range would let a fresh install take 1.10, which the SDKs' peer range (<1.10.0) refuses.
    expect(declared).toMatch(/^~1\.9\.\d+$/);
    expect(semver.satisfies('1.10.0', declared)).toBe(false);
  });

  it('the one installed copy satisfies every installed package that names it', () => {
    const installed = String(json(join(ROOT, 'node_modules', API, 'package.json')).version);
    const declared = (json(join(ROOT, 'package.json')).dependencies as Record<string, string>)[API] ?? '';
    expect(semver.satisfies(installed, declared)).toBe(true);
    const all = dependents();
    expect(all.map((d) => d.name)).toEqual(expect.arrayContaining(['@azure/monitor-opentelemetry (dependencies)', '@opentelemetry/sdk-trace-base (peerDependencies)']));
    for (const d of all) expect(semver.satisfies(installed, d.range), `${d.name} wants ${d.range}`).toBe(true);
    // No package brought its own copy (two copies of the API mean two global tracer providers).
    const lock = json(join(ROOT, 'package-lock.json')).packages as Record<string, unknown>;
    expect(Object.keys(lock).filter((k) => k.endsWith(`node_modules/${API}`))).toEqual([`node_modules/${API}`]);
  });
});
