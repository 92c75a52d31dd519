/**
 * Lost Graph change notifications repaired by the delta resync (graphResync, every twelve hours),
 * in one tenant and in two side by side (tenant-worlds.ts). Each tenant's round runs in its own
 * Graph over its own people and keeps its own delta link (`graph-users-delta`, and
 * `graph-users-delta@<tenant id>` for a tenant other than the default one), so a change lost in
 * one tenant is found by that tenant's round, and a later round of one tenant never reads from
 * the other's link.
 */
import { describe, expect, it } from 'vitest';
import { entitySyncState } from '../../shared/adapters/entity-sync-state.js';
import { DELTA_LINK_KEY } from '../../shared/usecases/resync-directory.js';
import { zeroLatencyModel } from '../../sandbox/latency-model.js';
import { Sandbox } from '../../sandbox/host/sandbox.js';
import { hrEvent, inputs, tenantWith, user } from './sandbox-fixtures.js';
import { expectNoCrossing, inputsIn, teamsIn, tenantViews, TENANT_B, worlds, type WorldKind } from './tenant-worlds.js';

const HOUR = 3_600_000;
const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const people = [1, 2, 3].map((n) => user(id(n), `p${n}@contoso.example`, `P${n}`));
const joiners = people.map((p, i) => hrEvent(`j${i}`, 'joiner', '2026-11-02T08:00:00Z', { employeeId: p.employeeId, userPrincipalName: p.userPrincipalName, site: 'AMS', departmentId: 'DEPT001' }));
/** p1 disabled before the first round (12:45), p3 after it (found by a later round's delta link); no notification for either. */
const lost = [
  { atMs: 2 * HOUR, userId: id(1), set: { accountEnabled: false }, notify: false },
  { atMs: 30 * HOUR, userId: id(3), set: { accountEnabled: false }, notify: false },
];

async function resynced(world: WorldKind, changes: { a: typeof lost; b: typeof lost } | undefined = undefined) {
  const input = inputsIn(world, inputs({ tenant: tenantWith(people, { directoryChanges: changes?.a ?? lost }), eventLines: joiners }));
  const changesInB = changes?.b;
  if (changesInB) input.extraTenants = input.extraTenants!.map((t) => ({ ...t, directoryChanges: changesInB.map((c) => ({ ...c, userId: `bbbbbbbb${c.userId.slice(8)}` })) }));
  const sandbox = await Sandbox.start(input, { storage: 'memory', latency: zeroLatencyModel });
  try {
    await sandbox.enqueueEvents(input.eventLines);
    // Rounds at 12:45 and 00:45: the second day's rounds find p3 through the delta link.
    await sandbox.runFor(48 * HOUR);
    await sandbox.runUntilQuiet();
    const state = entitySyncState(sandbox.tableService()!.table('dialtonesync'));
    return { sandbox, report: await sandbox.report(), tenants: tenantViews(world, sandbox), state };
  } finally {
    await sandbox.stop();
  }
}

describe.each(worlds)('lost notifications caught by the delta resync (%s)', (world) => {
  it('takes the phone of an account disabled before the first round and of one disabled after it, in each tenant by its own round', async () => {
    const { sandbox, report, tenants, state } = await resynced(world);
    expect(report.deadLetters).toEqual([]);
    for (const t of tenants) {
      for (const n of [1, 3]) {
        expect(teamsIn(report, t, id(n)), `p${n} in ${t.tenantId}`).toMatchObject({ enterpriseVoiceEnabled: false, lineUri: null });
        expect(report.numbers.find((x) => x.userId === t.id(id(n)) && x.state !== 'free')?.state, `p${n}'s number in ${t.tenantId}`).toBe('quarantined');
      }
      expect(teamsIn(report, t, id(2)).lineUri).not.toBeNull();
      // Nothing was notified: the tenant's own Graph answered its own round's delta reads.
      expect(t.graph.metrics().notifications.deliveries).toBe(0);
      expect(Object.entries(t.graph.metrics().byRoute).filter(([route]) => route.includes('/users/delta')).reduce((s, [, c]) => s + c, 0)).toBeGreaterThan(0);
    }
    // Each tenant keeps its own delta link (the default tenant the bare key, as before tenants).
    const links = await Promise.all(tenants.map((t) => state.get(t.tenantId === TENANT_B ? `${DELTA_LINK_KEY}@${TENANT_B}` : DELTA_LINK_KEY)));
    for (const [i, link] of links.entries()) expect(link, tenants[i]!.tenantId).toEqual(expect.stringContaining(tenants[i]!.graph.baseUrl));
    await expectNoCrossing(sandbox, tenants);
  });
});

describe('lost notifications in one of two tenants', () => {
  it('takes the phone only of the tenant whose account was disabled; the other tenant\'s person with the same employee id keeps it', async () => {
    // Contoso's p1 is disabled before the first round, Fabrikam's p3 after it: each only in its own tenant.
    const { sandbox, report, tenants } = await resynced('two tenants', { a: [lost[0]!], b: [lost[1]!] });
    const [a, b] = tenants;
    expect(teamsIn(report, a!, id(1))).toMatchObject({ enterpriseVoiceEnabled: false, lineUri: null });
    expect(teamsIn(report, b!, id(1)).lineUri).not.toBeNull();
    expect(teamsIn(report, a!, id(3)).lineUri).not.toBeNull();
    expect(teamsIn(report, b!, id(3))).toMatchObject({ enterpriseVoiceEnabled: false, lineUri: null });
    expect(report.deadLetters).toEqual([]);
    await expectNoCrossing(sandbox, tenants);
  });
});

describe('a notified change in a registered tenant', () => {
  it("reaches the webhook as that tenant's change (its tenantId and tenant-scoped session), before any resync round", async () => {
    // Fabrikam's p1 is disabled at 14:00, after the first subscription (12:15) and the first round
    // (12:45); the run stops before the next round (00:45), so only the notification can act.
    const input = inputsIn('two tenants', inputs({ tenant: tenantWith(people, { directoryChanges: [] }), eventLines: joiners }));
    input.extraTenants = input.extraTenants!.map((t) => ({ ...t, directoryChanges: [{ atMs: 6 * HOUR, userId: `bbbbbbbb${id(1).slice(8)}`, set: { accountEnabled: false }, notify: true }] }));
    const sandbox = await Sandbox.start(input, { storage: 'memory', latency: zeroLatencyModel });
    try {
      await sandbox.enqueueEvents(input.eventLines);
      await sandbox.runFor(12 * HOUR);
      await sandbox.runUntilQuiet();
      const report = await sandbox.report();
      const [a, b] = tenantViews('two tenants', sandbox);
      expect(b!.graph.metrics().notifications.deliveries).toBeGreaterThan(0);
      const notified = sandbox.sent.filter((s) => s.queue === 'user-changes' && (s.message.body as { source?: string }).source === 'graph');
      expect(notified.length).toBeGreaterThan(0);
      for (const s of notified) expect(s.message).toMatchObject({ sessionId: `${TENANT_B}:bbbbbbbb${id(1).slice(8)}`, body: { tenantId: TENANT_B } });
      expect(teamsIn(report, b!, id(1))).toMatchObject({ enterpriseVoiceEnabled: false, lineUri: null });
      expect(teamsIn(report, a!, id(1)).lineUri).not.toBeNull();
      expect(report.deadLetters).toEqual([]);
      await expectNoCrossing(sandbox, [a!, b!]);
    } finally {
      await sandbox.stop();
    }
  });
});
