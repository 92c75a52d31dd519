import { afterEach, describe, expect, it } from 'vitest';
import { entitySyncState } from '../../shared/adapters/entity-sync-state.js';
import { createGraphDirectory } from '../../shared/adapters/graph-directory.js';
import { createMemoryProvisioningRecords } from '../../shared/adapters/memory-provisioning-records.js';
import { createMemoryTableService } from '../../shared/adapters/memory-table-client.js';
import { silentLogger } from '../../shared/logging/logger.js';
import type { OutgoingMessage } from '../../shared/ports/bus.js';
import { emptyRecord } from '../../shared/usecases/record-history.js';
import { DELTA_LINK_KEY, resyncDirectory } from '../../shared/usecases/resync-directory.js';
import { SimClock } from '../../sandbox/clock.js';
import { startGraphSimulator, type GraphSimulator } from '../../sandbox/graph-sim/index.js';
import { parseSandboxTenantFile } from '../../sandbox/teams-sim/tenant-file.js';
import { ids, tenant } from './fixtures.js';
import { recordingSender } from '../helpers/recording-sender.js';

/** No transient faults here: a retry would not wait. */
const instantSleeper = { sleep: async () => undefined };

let graph: GraphSimulator | undefined;
afterEach(async () => {
  await graph?.close();
});

async function setup(change: Record<string, unknown> = { department: 'Support' }) {
  const clock = new SimClock('2026-11-23T12:00:00Z');
  const base = tenant();
  const withChange = parseSandboxTenantFile({
    ...base,
    directoryChanges: [{ atMs: 3_600_000, userId: ids.anna, set: change, notify: false }],
  });
  graph = await startGraphSimulator({ tenant: withChange, clock });
  const directory = createGraphDirectory({ baseUrl: graph.baseUrl, accessToken: async () => 'token' });
  const service = createMemoryTableService();
  const records = createMemoryProvisioningRecords({ service });
  await records.update(ids.anna, () => emptyRecord(ids.anna, 'anna.devries@contoso.example'));
  const state = entitySyncState(service.table('sync'));
  const recording = recordingSender({ name: 'user-changes', requiresSession: true });
  const sent: OutgoingMessage[] = recording.sent;
  const sender = recording.sender;
  const deps = { delta: directory, records, state, sender, clock, logger: silentLogger, sleeper: instantSleeper };
  return { clock, deps, sent, state, sendCalls: recording.sendCalls };
}

describe('the directory resync (users delta)', () => {
  it('re-plans, on the first round, only the users Dialtone provisions, and keeps the delta link', async () => {
    const { deps, sent, state } = await setup();
    const result = await resyncDirectory(deps);
    expect(result.changed).toBeGreaterThan(1);
    expect(result.replanned).toBe(1);
    expect(sent[0]).toMatchObject({ sessionId: ids.anna, body: { userId: ids.anna, source: 'resync', changeType: 'updated' } });
    expect(await state.get(DELTA_LINK_KEY)).toMatch(/\/users\/delta/);
  });

  it('re-plans a user whose change notification was lost, and nobody else', async () => {
    const { deps, sent, clock } = await setup();
    await resyncDirectory(deps);
    sent.length = 0;
    expect((await resyncDirectory(deps)).replanned).toBe(0);
    clock.advance(2 * 3_600_000);
    const result = await resyncDirectory(deps);
    expect(result.replanned).toBe(1);
    expect(sent.map((m) => m.sessionId)).toEqual([ids.anna]);
  });

  it('re-plans, in the daily full round, a user whose licence was removed with the notification lost (users delta does not report licence changes)', async () => {
    const { deps, sent, clock } = await setup({ servicePlans: ['TEAMS1'] });
    expect((await resyncDirectory(deps)).full).toBe(true);
    sent.length = 0;
    // Twelve hours on (the licence went an hour in): the delta round does not see it.
    clock.advance(12 * 3_600_000);
    const delta = await resyncDirectory(deps);
    expect(delta).toMatchObject({ full: false, replanned: 0 });
    // A day after the first round: every provisioned user is listed and re-planned again.
    clock.advance(12 * 3_600_000);
    const full = await resyncDirectory(deps);
    expect(full).toMatchObject({ full: true, replanned: 1 });
    expect(sent.map((m) => m.sessionId)).toEqual([ids.anna]);
    expect(sent[0]).toMatchObject({ body: { userId: ids.anna, source: 'resync', changeType: 'updated' } });
  });

  it('re-plans a user deleted from Entra ID as deleted: delta reports it with @removed and no other property', async () => {
    const { deps, sent, clock } = await setup({ deleted: true });
    await resyncDirectory(deps);
    sent.length = 0;
    clock.advance(2 * 3_600_000);
    const result = await resyncDirectory(deps);
    expect(result.replanned).toBe(1);
    expect(sent[0]).toMatchObject({ sessionId: ids.anna, body: { userId: ids.anna, source: 'resync', changeType: 'deleted' } });
  });

  it('re-plans as deleted, on the first round, a provisioned user deleted before it (the first listing has only live users)', async () => {
    const { deps, sent, clock } = await setup({ deleted: true });
    // Deleted an hour in, before any delta round and with its notification lost.
    clock.advance(2 * 3_600_000);
    const result = await resyncDirectory(deps);
    expect(result.replanned).toBe(1);
    expect(sent[0]).toMatchObject({ sessionId: ids.anna, body: { userId: ids.anna, source: 'resync', changeType: 'deleted' } });
  });

  it('does not call a provisioned user deleted on the first round while Graph can still read them', async () => {
    const { deps, sent } = await setup();
    const listed = { ...deps, delta: { ...deps.delta, listUsersDeltaPage: async (link?: string) => ({ ...(await deps.delta.listUsersDeltaPage(link)), users: [] }) } };
    const result = await resyncDirectory(listed);
    expect(result.replanned).toBe(0);
    expect(sent).toEqual([]);
  });

  it('700 resync users save the delta link: the user-changes go out in as many 256 KB batches as needed', async () => {
    const clock = new SimClock('2026-11-23T12:00:00Z');
    const base = tenant();
    const many = Array.from({ length: 700 }, (_, i) => ({
      id: `7a000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      userPrincipalName: `user${i}@contoso.example`,
      employeeId: `R${i}`,
      servicePlans: ['TEAMS1', 'MCOEV'],
    }));
    graph = await startGraphSimulator({ tenant: parseSandboxTenantFile({ ...base, users: [...base.users, ...many] }), clock });
    const directory = createGraphDirectory({ baseUrl: graph.baseUrl, accessToken: async () => 'token' });
    const service = createMemoryTableService();
    const records = createMemoryProvisioningRecords({ service });
    for (const user of many) await records.update(user.id, () => emptyRecord(user.id, user.userPrincipalName));
    const state = entitySyncState(service.table('sync'));
    const recording = recordingSender({ name: 'user-changes', requiresSession: true });

    const result = await resyncDirectory({ delta: directory, records, state, sender: recording.sender, clock, logger: silentLogger, sleeper: instantSleeper });

    expect(result.replanned).toBe(700);
    expect(new Set(recording.sent.map((m) => m.sessionId)).size).toBe(700);
    expect(recording.sendCalls()).toBeGreaterThan(1);
    expect(await state.get(DELTA_LINK_KEY)).toMatch(/\/users\/delta/);
  });
});
