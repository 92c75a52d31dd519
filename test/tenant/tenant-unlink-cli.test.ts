import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialtone as runCli } from '../helpers/cli.js';
import { bareTenantDir, items, ndjson, statuses } from './fixtures.js';

let dir: string;
const dialtone = (...args: string[]) => runCli(args);

/** Unlink's order: the reverse of apply's. */
const removals = [
  'callingLineIdentity:CLI-Sales',
  'callingLineIdentity:CLI-Support',
  'dialPlan:DP-NL',
  'voiceRoutingPolicy:VRP-NL',
  'voiceRoute:NL-All',
  'pstnUsage:NL-Local',
];

beforeAll(async () => {
  // Someone else's route in the same tenant, on a usage of its own: unlink must leave both.
  dir = await bareTenantDir('dialtone-unlink-', {
    'joiners.ndjson': ndjson([
      { eventId: 'u1', type: 'joiner', occurredAt: '2026-11-02T08:00:00Z', person: { employeeId: 'E1001', departmentId: 'DEPT001', site: 'AMS' } },
      { eventId: 'u2', type: 'joiner', occurredAt: '2026-11-02T08:05:00Z', person: { employeeId: 'E1002', departmentId: 'DEPT002', site: 'RTM' } },
    ]),
    'leavers.ndjson': ndjson([
      { eventId: 'u3', type: 'leaver', occurredAt: '2026-11-03T17:00:00Z', person: { employeeId: 'E1001' } },
      { eventId: 'u4', type: 'leaver', occurredAt: '2026-11-03T17:05:00Z', person: { employeeId: 'E1002' } },
    ]),
  });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('dialtone tenant unlink on a sandbox tenant', () => {
  const state = () => join(dir, 'state');
  const config = () => join(dir, 'tenant-voice.yaml');
  const savedState = async () => JSON.parse(await readFile(join(state(), 'sandbox-state.json'), 'utf8'));

  it('is refused while people hold Dialtone numbers, listing them; after they leave it removes exactly what the file owns and the Graph subscription', async () => {
    await dialtone('sandbox', 'run', '--tenant', join(dir, 'tenant.json'), '--events', join(dir, 'empty.ndjson'), '--state', state(), '--json');
    expect((await dialtone('tenant', 'apply', '--config', config(), '--sandbox', state(), '--json')).code).toBe(0);
    // A route, a policy and a usage somebody keeps by hand in the same tenant.
    const withOthers = await savedState();
    withOthers.teams.voiceRouting.pstnUsages.push('Other-Usage');
    withOthers.teams.voiceRouting.voiceRoutes.push({ name: 'Legacy', numberPattern: '.*', gateways: ['sbc1.contoso.example'], usages: ['Other-Usage'], priority: 9, description: null });
    withOthers.teams.voiceRouting.voiceRoutingPolicies.push({ name: 'VRP-Other', usages: ['Other-Usage'], description: null });
    await writeFile(join(state(), 'sandbox-state.json'), JSON.stringify(withOthers));

    const joined = await dialtone('sandbox', 'run', '--tenant', join(dir, 'tenant.json'), '--events', join(dir, 'joiners.ndjson'), '--numbers', 'sandbox/data/numbers.json', '--state', state(), '--json');
    const report = JSON.parse(joined.out) as { users: { id: string; userPrincipalName: string; teams: { lineUri: string | null } }[] };
    const anna = report.users.find((u) => u.userPrincipalName.startsWith('anna'))!;
    expect(anna.teams.lineUri).toBe('tel:+31201234000');

    const refused = await dialtone('tenant', 'unlink', '--config', config(), '--sandbox', state(), '--json');
    expect(refused.code).toBe(1);
    expect(refused.err).toBe(
      "dialtone: refused: 2 people hold a Dialtone number (2 numbers assigned or reserved); move them off Dialtone's numbers (leavers, or dialtone numbers release) and run unlink again. Nothing was removed.",
    );
    const holders = (JSON.parse(refused.out) as { refused: boolean; holders: { number: string; state: string; userId: string }[] }).holders;
    expect(holders.map((h) => `${h.number}:${h.state}`).sort()).toEqual(['+31101234500:assigned', '+31201234000:assigned']);
    expect(holders.map((h) => h.userId)).toContain(anna.id);
    // Another tenant's unlink looks at that tenant's own numbers only (none: not refused by these two people) and
    // connects with that tenant's identity from the registry, which the sandbox's one Teams tenant is not.
    const FABRIKAM = '22222222-2222-4222-8222-222222222222';
    expect((await dialtone('tenants', 'add', '--tenant-id', FABRIKAM, '--name', 'Fabrikam', '--app-id', 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', '--cert-name', 'fabrikam-teams', '--sandbox', state(), '-o', 'none')).code).toBe(0);
    const other = await dialtone('tenant', 'unlink', '--config', config(), '--tenant-id', FABRIKAM, '--sandbox', state(), '--dry-run', '--json');
    expect(other).toMatchObject({ code: 1, err: expect.stringContaining(`only, not tenant ${FABRIKAM}`) });
    expect(other.err).not.toContain('hold a Dialtone number');
    expect(await dialtone('tenant', 'unlink', '--config', config(), '--tenant-id', '33333333-3333-4333-8333-333333333333', '--sandbox', state())).toMatchObject({ code: 1, err: expect.stringContaining('is not a tenant of this deployment') });
    expect((await dialtone('tenants', 'remove', FABRIKAM, '--yes', '--sandbox', state(), '-o', 'none')).code).toBe(0);
    // Refused means untouched, --dry-run too.
    expect((await dialtone('tenant', 'unlink', '--config', config(), '--sandbox', state(), '--dry-run', '--json')).code).toBe(1);
    expect((await dialtone('tenant', 'status', '--config', config(), '--sandbox', state())).code).toBe(0);

    // A day and a half of sandbox time: the graphSubscription timer (every six hours) made the subscription.
    await dialtone('sandbox', 'run', '--tenant', join(dir, 'tenant.json'), '--events', join(dir, 'leavers.ndjson'), '--numbers', 'sandbox/data/numbers.json', '--state', state(), '--json');
    expect((await savedState()).graph.subscriptions.items).toHaveLength(1);

    const dry = await dialtone('tenant', 'unlink', '--config', config(), '--sandbox', state(), '--dry-run', '--json');
    expect(dry.code).toBe(0);
    expect(statuses(dry.out)).toEqual([...removals.map((i) => `${i}=removed`), expect.stringMatching(/^graphSubscription:.+=removed$/)]);
    expect(items(dry.out)[4]!.detail).toBe('would remove with Remove-CsOnlineVoiceRoute');
    expect((await dialtone('tenant', 'status', '--config', config(), '--sandbox', state())).code).toBe(0);
    expect((await savedState()).graph.subscriptions.items).toHaveLength(1);

    const unlinked = await dialtone('tenant', 'unlink', '--config', config(), '--sandbox', state(), '--json');
    expect(unlinked.err).toBe('');
    expect(unlinked.code).toBe(0);
    expect(statuses(unlinked.out)).toEqual([...removals.map((i) => `${i}=removed`), expect.stringMatching(/^graphSubscription:.+=removed$/)]);

    const after = await savedState();
    expect(after.graph.subscriptions.items).toEqual([]);
    const routing = after.teams.voiceRouting;
    expect(routing.pstnUsages).toEqual(['Other-Usage']);
    expect(routing.voiceRoutes.map((r: { name: string }) => r.name)).toEqual(['Legacy']);
    expect(routing.voiceRoutingPolicies.map((p: { name: string }) => p.name)).toEqual(['VRP-Other']);
    expect(routing.dialPlans).toEqual([]);
    expect(routing.callingLineIdentities).toEqual([]);

    const again = await dialtone('tenant', 'unlink', '--config', config(), '--sandbox', state(), '--json');
    expect(again.code).toBe(0);
    expect(statuses(again.out)).toEqual([...removals.map((i) => `${i}=not_found`), expect.stringMatching(/^graphSubscription:.+=not_found$/)]);
  }, 180_000);
});
