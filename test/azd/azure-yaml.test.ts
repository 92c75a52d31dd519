import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { AzureYamlSchema, functionLanguages, type AzureYaml } from './azd-schema.js';

const ROOT = process.cwd();
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

function load(): AzureYaml {
  return AzureYamlSchema.parse(parse(read('azure.yaml')));
}

/** `param name type` lines of a Bicep file, with whether they have a default. */
function bicepParams(path: string): Map<string, { required: boolean }> {
  const params = new Map<string, { required: boolean }>();
  for (const match of read(path).matchAll(/^param (\w+) ([^\n=]+?)(\s*=.*)?$/gm)) {
    params.set(match[1] as string, { required: match[3] === undefined });
  }
  return params;
}

describe('azure.yaml against the rules of azd schema v1.0', () => {
  it('validates', () => {
    const result = AzureYamlSchema.safeParse(parse(read('azure.yaml')));
    expect(result.success, result.success ? '' : JSON.stringify(result.error.issues)).toBe(true);
  });

  it('the check refuses what azd refuses', () => {
    const bad = [
      { name: 'Dialtone' },
      { name: 'dialtone', services: { api: { host: 'function' } } },
      { name: 'dialtone', services: { api: { host: 'function', project: '.', image: 'x' } } },
      { name: 'dialtone', services: { api: { host: 'appservice', project: '.', remoteBuild: true } } },
      { name: 'dialtone', hooks: { afterprovision: { run: 'x.sh' } } },
      { name: 'dialtone', hooks: { postprovision: { shell: 'sh' } } },
      { name: 'dialtone', hooks: { postprovision: { run: 'x.sh', shell: 'bash' } } },
      { name: 'dialtone', requiredVersions: { bicep: '1' } },
    ];
    for (const doc of bad) expect(AzureYamlSchema.safeParse(doc).success, JSON.stringify(doc)).toBe(false);
  });
});

describe('azure.yaml references resolve', () => {
  it('names the Bicep module azd provisions, with the parameters file azd reads and no .bicepparam that would win over it', () => {
    const { infra } = load();
    expect(infra?.provider ?? 'bicep').toBe('bicep');
    const dir = infra?.path ?? 'infra';
    const module = infra?.module ?? 'main';
    expect(existsSync(join(ROOT, dir, `${module}.bicep`))).toBe(true);
    expect(existsSync(join(ROOT, dir, `${module}.parameters.json`))).toBe(true);
    expect(existsSync(join(ROOT, dir, `${module}.bicepparam`))).toBe(false);
  });

  it('publishes one Functions service from a directory that is a Node Functions project', () => {
    const services = Object.entries(load().services ?? {});
    expect(services).toHaveLength(1);
    const [name, service] = services[0] as [string, NonNullable<AzureYaml['services']>[string]];
    expect(service.host).toBe('function');
    expect(functionLanguages).toContain(service.language);
    expect(['js', 'ts']).toContain(service.language);
    const project = join(ROOT, service.project ?? '.');
    expect(statSync(project).isDirectory()).toBe(true);
    expect(existsSync(join(project, 'host.json'))).toBe(true);
    const pkg = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as { main?: string; scripts?: Record<string, string> };
    expect(pkg.main).toMatch(/^dist\/functions\//);
    expect(pkg.scripts?.build).toBeDefined();
    // azd finds the app to publish by this tag on the site.
    expect(read('infra/main.bicep')).toContain(`'azd-service-name': '${name}'`);
  });

  it('runs hook scripts that exist', () => {
    const hooks = load().hooks ?? {};
    const runs = Object.values(hooks).flatMap((h) => (Array.isArray(h) ? h : [h])).flatMap((h) => [h, h?.posix, h?.windows]);
    const paths = runs.map((h) => h?.run).filter((r): r is string => typeof r === 'string');
    expect(paths.length).toBeGreaterThan(0);
    for (const path of paths) expect(existsSync(join(ROOT, path)), path).toBe(true);
  });
});

describe('infra/main.parameters.json (azd environment → Bicep parameters)', () => {
  const file = JSON.parse(read('infra/main.parameters.json')) as { parameters: Record<string, { value: unknown }> };
  const params = bicepParams('infra/main.bicep');

  it('sets only parameters main.bicep declares, and every one it requires', () => {
    for (const name of Object.keys(file.parameters)) expect(params.has(name), name).toBe(true);
    for (const [name, { required }] of params) if (required) expect(file.parameters, name).toHaveProperty(name);
  });

  it('maps the azd environment: AZURE_LOCATION, AZURE_ENV_NAME (azd-env-name tag) and the worker principal', () => {
    expect(file.parameters.location?.value).toBe('${AZURE_LOCATION}');
    expect(file.parameters.workerPrincipalId?.value).toBe('${DIALTONE_WORKER_PRINCIPAL_ID}');
    expect(file.parameters.tags?.value).toMatchObject({ 'azd-env-name': '${AZURE_ENV_NAME}' });
  });

  it('maps DIALTONE_SERVES_REGISTERED_TENANTS to servesRegisteredTenants, off unless set, with a default azd turns into a bool (issue 16)', () => {
    expect(params.has('servesRegisteredTenants')).toBe(true);
    expect(file.parameters.servesRegisteredTenants?.value).toBe('${DIALTONE_SERVES_REGISTERED_TENANTS=false}');
  });

  it('gives every bool parameter it maps a default that azd converts to a bool (strconv.ParseBool), so an unset variable deploys', () => {
    const text = read('infra/main.bicep');
    const bools = new Set([...text.matchAll(/^param (\w+) bool\b/gm)].map((m) => m[1] as string));
    const goParseBool = new Set(['1', 't', 'T', 'TRUE', 'true', 'True', '0', 'f', 'F', 'FALSE', 'false', 'False']);
    for (const [name, { value }] of Object.entries(file.parameters)) {
      if (!bools.has(name) || typeof value !== 'string') continue;
      const match = /^\$\{[A-Z_][A-Z0-9_]*=([^}]*)\}$/.exec(value);
      expect(match, `${name}: ${value}`).not.toBeNull();
      expect(goParseBool.has(match?.[1] ?? ''), `${name}: ${value}`).toBe(true);
    }
  });

  it('uses only the substitutions azd understands: ${NAME} or ${NAME=default}', () => {
    const text = read('infra/main.parameters.json');
    const refs = [...text.matchAll(/\$\{([^}]*)\}/g)].map((m) => m[1] as string);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) expect(ref).toMatch(/^[A-Z_][A-Z0-9_]*(=[^}]*)?$/);
    expect(text.replace('"$schema"', '').replace(/\$\{[^}]*\}/g, '')).not.toContain('$');
  });
});
