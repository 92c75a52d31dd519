import { accessSync, constants, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SimulatorEnvSchema } from '../../compose/simulators.js';
import { eventMessages } from '../../compose/send-events.js';
import { functionSettingNames, loadFunctionSettings, loadOperatorSettings, operatorSettingNames } from '../../shared/config/settings.js';
import { telemetrySettingNames } from '../../shared/config/telemetry-settings.js';
import { loadWorkerSettings, workerSettingNames } from '../../shared/config/worker-settings.js';
import { queueNames } from '../../shared/contracts/messages.js';
import { SIM_URL_ENV } from '../../sandbox/teams-sim/wire.js';

/**
 * compose.yaml cannot run here (no Docker, no pulling images), so it is checked for what would
 * break it: every container's settings are ones its code reads and load as they would in the
 * container, the hosts and ports they name are the services that serve them, the queues are
 * those of infra/queues.json, and the Dockerfile copies files that exist.
 */

const ROOT = process.cwd();
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string; target?: string };
  command?: string | string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  depends_on?: string[];
  profiles?: string[];
}

const compose = parse(read('compose.yaml'), { merge: true }) as { services: Record<string, Service>; volumes?: Record<string, unknown> };
const services = compose.services;
const service = (name: string): Service => {
  const found = services[name];
  if (!found) throw new Error(`compose.yaml has no service ${name}`);
  return found;
};
const env = (name: string): Record<string, string> => service(name).environment ?? {};

/** The values .env.example gives, as `docker compose` would interpolate `${VAR:?message}`. */
const dotenv = Object.fromEntries(
  read('compose/.env.example')
    .split('\n')
    .filter((l) => /^[A-Z_]+=/.test(l))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
);

/** Where a container path comes from on the host, through the service's bind mounts (else the image). */
function hostPathOf(s: Service, containerPath: string, imageRoot: string): string {
  for (const volume of s.volumes ?? []) {
    const [source, target] = volume.split(':') as [string, string];
    if (source.startsWith('./') && (containerPath === target || containerPath.startsWith(`${target}/`))) return join(source, containerPath.slice(target.length));
  }
  if (!containerPath.startsWith(`${imageRoot}/`)) throw new Error(`${containerPath} is neither mounted nor in the image under ${imageRoot}`);
  return containerPath.slice(imageRoot.length + 1);
}

const hostPort = (url: string) => {
  const u = new URL(url);
  return { host: u.hostname, port: u.port };
};

function connectionStringPart(value: string, key: string): string | undefined {
  return value
    .split(';')
    .map((p) => p.split(/=(.*)/s))
    .find(([k]) => k?.toLowerCase() === key.toLowerCase())?.[1];
}

describe('compose.yaml: the services', () => {
  it('runs Microsoft\'s Service Bus emulator, Azurite and Functions host, the worker and the simulators', () => {
    expect(Object.keys(services).sort()).toEqual(['azurite', 'functions', 'servicebus', 'simulators', 'sqlserver', 'tools', 'worker']);
    expect(service('servicebus').image).toMatch(/^mcr\.microsoft\.com\/azure-messaging\/servicebus-emulator:/);
    expect(service('azurite').image).toMatch(/^mcr\.microsoft\.com\/azure-storage\/azurite:/);
    expect(service('sqlserver').image).toMatch(/^mcr\.microsoft\.com\/mssql\/server:/);
    const dockerfile = read('compose/Dockerfile');
    expect(dockerfile).toMatch(/^FROM mcr\.microsoft\.com\/azure-functions\/node:4-node20 AS functions$/m);
    for (const name of ['functions', 'worker', 'simulators', 'tools']) expect(service(name).build, name).toMatchObject({ context: '.', dockerfile: 'compose/Dockerfile' });
    for (const [name, s] of Object.entries(services)) for (const dep of s.depends_on ?? []) expect(services[dep], `${name} depends on ${dep}`).toBeDefined();
  });

  it('every variable it interpolates is given by compose/.env.example', () => {
    const used = [...read('compose.yaml').matchAll(/\$\{([A-Z_]+)(?::?[?-][^}]*)?\}/g)].map((m) => m[1] as string);
    expect(used.length).toBeGreaterThan(0);
    for (const name of used) expect(Object.keys(dotenv), name).toContain(name);
  });
});

describe('compose.yaml: every container\'s settings are ones its code reads, and load', () => {
  const functionsHost = ['FUNCTIONS_WORKER_RUNTIME', 'AzureWebJobsStorage'];

  it('the Functions host: the emulator through ServiceBusConnection, Azurite, the Graph simulator', () => {
    const e = env('functions');
    for (const key of Object.keys(e)) expect([...functionSettingNames, ...telemetrySettingNames, ...functionsHost], key).toContain(key);
    const settings = loadFunctionSettings(e);
    expect(settings.serviceBus.kind).toBe('emulator');
    expect(settings.graphCredential).toBe('simulator');
    expect(e.FUNCTIONS_WORKER_RUNTIME).toBe('node');
    expect(connectionStringPart(e.AzureWebJobsStorage ?? '', 'BlobEndpoint')).toBeDefined();
  });

  it('the worker: the emulator through DIALTONE_SERVICEBUS_CONNECTION_STRING, the Teams stand-in as pwsh, the sandbox tenant', () => {
    const e = env('worker');
    for (const key of Object.keys(e)) expect([...workerSettingNames, ...telemetrySettingNames, SIM_URL_ENV], key).toContain(key);
    const settings = loadWorkerSettings(e);
    expect(settings.serviceBus.kind).toBe('emulator');
    expect(settings.certificate).toEqual({ kind: 'file', path: '/certs/worker.pfx', passwordFile: undefined });
    const tenant = JSON.parse(read('sandbox/data/tenant.json')) as { tenantId: string };
    expect(settings.tenantId).toBe(tenant.tenantId);
    // The certificate is written where the worker reads it, on a volume, before the worker starts.
    expect(String(service('worker').command)).toContain('compose/dev-certificate.ts /certs/worker.pfx');
    expect(service('worker').volumes).toContain('worker-certs:/certs');
    expect(Object.keys(compose.volumes ?? {})).toContain('worker-certs');
  });

  it('the tools and the simulators', () => {
    const tools = env('tools');
    for (const key of Object.keys(tools)) expect(operatorSettingNames, key).toContain(key);
    expect(loadOperatorSettings(tools).serviceBus?.kind).toBe('emulator');
    const sims = env('simulators');
    for (const key of Object.keys(sims)) expect(Object.keys(SimulatorEnvSchema.shape), key).toContain(key);
    expect(SimulatorEnvSchema.parse(sims)).toMatchObject({ DIALTONE_SIM_GRAPH_PORT: 8080, DIALTONE_SIM_TEAMS_PORT: 8081 });
  });

  it('the hosts and ports the settings name are the services that serve them', () => {
    const sims = SimulatorEnvSchema.parse(env('simulators'));
    for (const name of ['functions', 'worker', 'tools']) {
      const e = env(name);
      const sb = e.ServiceBusConnection ?? e.DIALTONE_SERVICEBUS_CONNECTION_STRING;
      expect(sb, name).toBeDefined();
      expect(hostPort(connectionStringPart(sb ?? '', 'Endpoint') ?? '').host, name).toBe('servicebus');
      expect(service(name).depends_on, name).toContain('servicebus');
    }
    // Service Bus emulator: AMQP on 5672 without TLS (UseDevelopmentEmulator=true).
    expect(service('servicebus').ports).toContain('5672:5672');
    const azuritePorts = (service('azurite').ports ?? []).map((p) => p.split(':')[1]);
    for (const name of ['functions', 'tools']) {
      const e = env(name);
      for (const value of [e.AzureWebJobsStorage, e.DIALTONE_TABLES_CONNECTION_STRING].filter((v): v is string => v !== undefined)) {
        for (const key of ['BlobEndpoint', 'QueueEndpoint', 'TableEndpoint']) {
          const endpoint = connectionStringPart(value, key);
          if (endpoint === undefined) continue;
          expect(hostPort(endpoint).host, `${name} ${key}`).toBe('azurite');
          expect(azuritePorts, `${name} ${key}`).toContain(hostPort(endpoint).port);
        }
      }
    }
    expect(hostPort(env('functions').DIALTONE_GRAPH_BASE_URL ?? '')).toEqual({ host: 'simulators', port: String(sims.DIALTONE_SIM_GRAPH_PORT) });
    expect(sims.DIALTONE_SIM_GRAPH_PUBLIC_URL).toBe(env('functions').DIALTONE_GRAPH_BASE_URL);
    expect(hostPort(env('worker')[SIM_URL_ENV] ?? '')).toEqual({ host: 'simulators', port: String(sims.DIALTONE_SIM_TEAMS_PORT) });
    expect(service('functions').depends_on).toContain('simulators');
    expect(service('worker').depends_on).toContain('simulators');
  });

  it('the files the settings name exist: the policy through its mount, the stand-in in the image', () => {
    const policy = hostPathOf(service('functions'), env('functions').DIALTONE_POLICY_PATH ?? '', '/home/site/wwwroot');
    expect(existsSync(join(ROOT, policy)), policy).toBe(true);
    const standin = hostPathOf(service('worker'), env('worker').DIALTONE_PWSH_PATH ?? '', '/app');
    expect(standin).toBe('compose/pwsh-standin.sh');
    accessSync(join(ROOT, standin), constants.X_OK);
    const exec = /exec node --import tsx \/app\/(\S+)/.exec(read(standin));
    expect(exec?.[1]).toBe('sandbox/teams-sim/pwsh-standin.ts');
    expect(existsSync(join(ROOT, exec?.[1] ?? ''))).toBe(true);
    const tenantArg = (service('simulators').command as string[]).at(-1) ?? '';
    expect(existsSync(join(ROOT, hostPathOf(service('simulators'), `/app/${tenantArg}`, '/app')))).toBe(true);
  });
});

describe('compose.yaml: the queues are those of infra/queues.json', () => {
  const config = JSON.parse(read('compose/servicebus-emulator/Config.json')) as { UserConfig: { Namespaces: { Queues: { Name: string }[] }[] } };
  const emulatorQueues = config.UserConfig.Namespaces.flatMap((n) => n.Queues.map((q) => q.Name)).sort();
  const definitions = Object.values((JSON.parse(read('infra/queues.json')) as { queues: Record<string, { name: string }> }).queues)
    .map((q) => q.name)
    .sort();

  it('the emulator reads the generated Config.json at its documented path, with every queue and no other', () => {
    expect(service('servicebus').volumes).toContain('./compose/servicebus-emulator/Config.json:/ServiceBus_Emulator/ConfigFiles/Config.json:ro');
    expect(emulatorQueues).toEqual(definitions);
    expect(emulatorQueues).toEqual(Object.values(queueNames).sort());
  });

  it('every queue a Function triggers on and the worker takes commands from is in it', () => {
    const triggered = readdirSync(join(ROOT, 'functions'))
      .filter((f) => f.endsWith('.ts'))
      .flatMap((f) => [...read(`functions/${f}`).matchAll(/queueName: '([^']+)'/g)].map((m) => m[1] as string));
    expect(triggered.length).toBeGreaterThanOrEqual(4);
    for (const queue of triggered) expect(emulatorQueues, queue).toContain(queue);
    expect(emulatorQueues).toContain(loadWorkerSettings(env('worker')).commandsQueue);
  });

  it('send-events turns NDJSON into hr-events messages keyed by eventId, refusing a bad line by number', () => {
    const messages = eventMessages(read('sandbox/data/hr-events.ndjson'));
    expect(messages.length).toBeGreaterThan(0);
    for (const m of messages) expect(m.messageId).toBe(m.correlationId);
    expect(() => eventMessages('{"eventId":"a"}\n{"type":"joiner"}\n')).toThrow(/^line 2: eventId/);
    expect(() => eventMessages('not json')).toThrow(/^line 1: not JSON/);
  });
});

describe('compose/Dockerfile builds from files that exist', () => {
  const dockerfile = read('compose/Dockerfile');
  const ignored = read('.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const stages = [...dockerfile.matchAll(/^FROM \S+ AS (\S+)$/gm)].map((m) => m[1] as string);

  it('has the stages compose.yaml builds', () => {
    for (const [name, s] of Object.entries(services)) if (s.build?.target) expect(stages, name).toContain(s.build.target);
  });

  it('copies only paths that exist in the context and are not ignored', () => {
    const copies = [...dockerfile.matchAll(/^COPY (?!--from)(.+)$/gm)].map((m) => (m[1] as string).trim().split(/\s+/).slice(0, -1));
    expect(copies.length).toBeGreaterThan(5);
    for (const sources of copies) {
      for (const source of sources) {
        expect(existsSync(join(ROOT, source)), source).toBe(true);
        expect(ignored.some((pattern) => source === pattern || source.startsWith(`${pattern}/`)), `${source} is in .dockerignore`).toBe(false);
      }
    }
    // What the stages copy from each other is built in the app stage: dist/ by npm ci's prepare.
    for (const m of dockerfile.matchAll(/^COPY --from=(\S+) (.+)$/gm)) expect(stages).toContain(m[1]);
    expect(dockerfile).toMatch(/^RUN npm ci --no-audit --no-fund$/m);
    expect((JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts.prepare).toBe('npm run build');
    // The build context never carries a local node_modules or secrets file.
    for (const pattern of ['node_modules', '.env', 'local.settings.json', '.git']) expect(ignored).toContain(pattern);
  });

  it('everything a container runs is copied into the image', () => {
    const copied = [...dockerfile.matchAll(/^COPY (?!--from)(.+)$/gm)].flatMap((m) => (m[1] as string).trim().split(/\s+/).slice(0, -1));
    for (const name of ['simulators', 'worker']) {
      const command = String(service(name).command ?? '');
      for (const file of command.match(/compose\/[\w-]+\.ts/g) ?? []) {
        expect(existsSync(join(ROOT, file)), file).toBe(true);
        expect(copied.some((c) => file === c || file.startsWith(`${c}/`)), `${file} copied`).toBe(true);
      }
    }
  });
});
