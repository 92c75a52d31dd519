/**
 * The operator commands on a deployment serving one tenant and two side by side
 * (tenant-worlds.ts): dead letters, `dlq replay`, `status`, `plan` and `numbers`, each scoped by
 * `--tenant-id` and saying which tenant a row or a person belongs to. The commands run in this
 * process (runCli, as the bin does) against the live sandbox: its queues, records, inventory and
 * each tenant's Graph, as they would against a deployment.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProgramDeps } from '../../cli/program.js';
import { createMemoryTenantRegistry } from '../../shared/adapters/entity-tenant-registry.js';
import { createMemoryTableService } from '../../shared/adapters/memory-table-client.js';
import { implicitTenant } from '../../shared/domain/tenants.js';
import type { BusClient } from '../../shared/ports/bus.js';
import { Sandbox } from '../../sandbox/host/sandbox.js';
import { dialtone } from '../helpers/cli.js';
import { hrEvent, inputs, tenantWith, user } from './sandbox-fixtures.js';
import { deadLettersOf, expectNoCrossing, inputsIn, teamsIn, TENANT_A, tenantViews, worlds, type TenantView } from './tenant-worlds.js';

const U1 = '00000000-0000-4000-8000-000000000001';
const U2 = '00000000-0000-4000-8000-000000000002';
const APP = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';

describe.each(worlds)('operator commands scoped by --tenant-id (%s)', (world) => {
  let sandbox: Sandbox;
  let tenants: TenantView[];
  let deps: ProgramDeps;
  let dir: string;

  // One sandbox per world for every test below (the tests run in order and build on each other):
  // Carla takes the only Amsterdam number, Dirk is dead-lettered PoolExhausted, in each tenant.
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dialtone-operator-'));
    const tenant = tenantWith([user(U1, 'carla@contoso.example', 'E1'), user(U2, 'dirk@contoso.example', 'E2')]);
    const pools = [{ id: 'ams', ranges: [{ from: '+31201234000', to: '+31201234000' }], quarantineDays: 90 }];
    const events = [
      hrEvent('e1', 'joiner', '2026-11-02T08:00:00Z', { employeeId: 'E1', userPrincipalName: 'carla@contoso.example', site: 'AMS', departmentId: 'DEPT001' }),
      hrEvent('e2', 'joiner', '2026-11-02T08:05:00Z', { employeeId: 'E2', userPrincipalName: 'dirk@contoso.example', site: 'AMS', departmentId: 'DEPT001' }),
    ];
    const input = inputsIn(world, inputs({ tenant, pools, eventLines: events }));
    sandbox = await Sandbox.start(input, { storage: 'memory' });
    await sandbox.enqueueEvents(input.eventLines);
    await sandbox.runUntilQuiet();
    tenants = tenantViews(world, sandbox);
    // The deployment's registry: none with one tenant (the implicit one), both tenants with two.
    const registry = createMemoryTenantRegistry(createMemoryTableService());
    for (const [i, t] of tenants.entries()) if (t.named) await registry.add({ tenantId: t.tenantId, displayName: i === 0 ? 'Contoso' : 'Fabrikam', applicationId: APP, certificateName: 'fabrikam-teams' }, sandbox.clock.now());
    // The commands close the bus they were given when done; the sandbox's stays open.
    const bus = new Proxy(sandbox.bus, {
      get: (target, key) => {
        if (key === 'close') return async () => undefined;
        const value = Reflect.get(target, key, target) as unknown;
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    }) as unknown as BusClient;
    deps = {
      bus: async () => bus,
      inventory: async () => sandbox.inventory,
      records: async () => sandbox.records,
      directory: async () => sandbox.operator.directory,
      plan: async () => sandbox.operator.plan,
      tenants: async () => ({ registry, implicit: implicitTenant({ tenantId: TENANT_A }) }),
      now: () => sandbox.clock.now(),
    };
  }, 240_000);
  afterAll(async () => {
    await sandbox?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  const cli = (args: string[]) => dialtone(args, deps);
  const json = async <T>(args: string[]): Promise<T> => {
    const r = await cli([...args, '-o', 'json']);
    expect(r.code, `${args.join(' ')}: ${r.err}`).toBe(0);
    return JSON.parse(r.out) as T;
  };

  it('lists each tenant\'s dead letter naming its tenant, and only that tenant\'s with --tenant-id', async () => {
    const all = await json<{ reason: string; tenantId: string | null; subject: string }[]>(['dlq', 'list']);
    expect(all.map((d) => d.reason)).toEqual(tenants.map(() => 'PoolExhausted'));
    expect(all.map((d) => d.tenantId ?? null).sort()).toEqual(tenants.map((t) => t.named ?? null).sort());
    const table = await cli(['dlq', 'list']);
    for (const t of tenants) expect(table.out).toContain(t.named ?? '(default)');
    for (const t of tenants) {
      const mine = await json<{ reason: string; tenantId: string | null; body: { userId: string } }[]>(['dlq', 'list', '--tenant-id', t.tenantId]);
      expect(mine.map((d) => [d.reason, d.body.userId])).toEqual([['PoolExhausted', t.id(U2)]]);
    }
  });

  it('imports a range into one tenant\'s inventory and replays only that tenant\'s dead letters with --tenant-id', async () => {
    const last = tenants.at(-1)!;
    const file = join(dir, 'more.json');
    await writeFile(file, JSON.stringify({ pools: [{ id: 'ams', ranges: [{ from: last.number('+31201234000'), to: last.number('+31201234009') }], quarantineDays: 90 }] }));
    const imported = await cli(['numbers', 'import', file, '--tenant-id', last.tenantId, '-o', 'none']);
    expect(imported.code, imported.err).toBe(0);
    const replayed = await json<{ action: string; messageId: string }[]>(['dlq', 'replay', '--reason', 'PoolExhausted', '--tenant-id', last.tenantId]);
    expect(replayed.map((r) => r.action)).toEqual(['replayed']);
    await sandbox.runUntilQuiet();
    const report = await sandbox.report();
    expect(teamsIn(report, last, U2).lineUri).toBe(last.lineUri('+31201234001'));
    expect(deadLettersOf(report, last)).toEqual([]);
    // The other tenant's Dirk is still waiting for numbers of his own tenant, dead-lettered.
    for (const t of tenants.slice(0, -1)) {
      expect(teamsIn(report, t, U2).lineUri).toBeNull();
      expect(deadLettersOf(report, t).map((d) => d.reason)).toEqual(['PoolExhausted']);
    }
    await expectNoCrossing(sandbox, tenants);
  });

  it('lists with numbers --tenant-id only that tenant\'s inventory, with the same pool id in each', async () => {
    for (const t of tenants) {
      const listed = await json<{ number: string; pool: string; userId: string | null }[]>(['numbers', 'list', '--tenant-id', t.tenantId]);
      expect(listed.find((n) => n.userId === t.id(U1))).toMatchObject({ number: t.number('+31201234000'), pool: 'ams' });
      for (const n of listed) expect([t.id(U1), t.id(U2), null]).toContain(n.userId);
      const pools = await json<{ pool: string; total: number }[]>(['numbers', 'pools', '--tenant-id', t.tenantId]);
      expect(pools.find((p) => p.pool === 'ams')?.total).toBe(t === tenants.at(-1) ? 10 : 1);
      // The person's numbers by employee id, within the tenant: the same employee id elsewhere is someone else.
      const held = await json<{ number: string }[]>(['numbers', 'list', '--user', 'E1', '--tenant-id', t.tenantId]);
      expect(held.map((n) => n.number)).toEqual([t.number('+31201234000')]);
    }
  });

  it('shows with status --tenant-id the person of that tenant, naming the tenant and its own numbers', async () => {
    for (const t of tenants) {
      const shown = await json<{ record: { userId: string; tenantId?: string }; numbers: { number: string }[] }>(['status', 'E1', '--tenant-id', t.tenantId]);
      expect(shown.record.userId).toBe(t.id(U1));
      expect(shown.numbers.map((n) => n.number)).toEqual([t.number('+31201234000')]);
      const text = await cli(['status', t.upn('carla@contoso.example')]);
      expect(text.code, text.err).toBe(0);
      expect(text.out.split('\n')[0]).toContain(`tenant ${t.named ?? 'the default tenant'}`);
      expect(text.out).toContain(`numbers: ${t.number('+31201234000')} assigned (ams)`);
    }
    if (tenants.length > 1) {
      // Without --tenant-id, an employee id two tenants use names both people and their tenants.
      const both = await cli(['status', 'E1']);
      expect(both.code).toBe(1);
      for (const t of tenants) expect(both.err).toContain(`${t.upn('carla@contoso.example')} (${t.id(U1)}) of tenant ${t.tenantId}`);
      expect(both.err).toContain('--tenant-id');
      const refused = await cli(['status', tenants[1]!.id(U1), '--tenant-id', tenants[0]!.tenantId]);
      expect(refused).toMatchObject({ code: 1, err: expect.stringContaining(`is a person of tenant ${tenants[1]!.tenantId}, not ${tenants[0]!.tenantId}`) });
    }
  });

  it('previews with plan --tenant-id the person of that tenant against its own Teams and pools, naming the tenant', async () => {
    for (const t of tenants) {
      const planned = await json<{ user: { id: string }; preview: { kind: string; desired?: { phoneNumber: string | null } } }>(['plan', 'E1', '--tenant-id', t.tenantId]);
      expect(planned.user.id).toBe(t.id(U1));
      expect(planned.preview).toMatchObject({ kind: 'command', desired: { phoneNumber: t.number('+31201234000') } });
      const text = await cli(['plan', 'E1', '--tenant-id', t.tenantId]);
      expect(text.out.split('\n')[0]).toContain(`tenant ${t.tenantId}`);
      expect(text.out).toContain('Teams already matches the desired state');
    }
    if (tenants.length > 1) {
      const both = await cli(['plan', 'E1']);
      expect(both.code).toBe(1);
      expect(both.err).toContain(`of tenant ${tenants[1]!.tenantId}`);
    }
  });
});
