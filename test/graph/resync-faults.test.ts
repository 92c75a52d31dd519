import { afterEach, describe, expect, it } from 'vitest';
import { entitySyncState } from '../../shared/adapters/entity-sync-state.js';
import { createGraphDirectory, type GraphDirectory } from '../../shared/adapters/graph-directory.js';
import { createMemoryProvisioningRecords } from '../../shared/adapters/memory-provisioning-records.js';
import { createMemoryTableService, TableServiceError } from '../../shared/adapters/memory-table-client.js';
import { DialtoneError } from '../../shared/domain/errors.js';
import { silentLogger } from '../../shared/logging/logger.js';
import type { BusSender } from '../../shared/ports/bus.js';
import type { ProvisioningRecords } from '../../shared/ports/provisioning-records.js';
import type { SyncState } from '../../shared/ports/sync-state.js';
import { emptyRecord } from '../../shared/usecases/record-history.js';
import { DELTA_LINK_KEY, DELTA_PROGRESS_KEY, resyncDirectory, type ResyncDeps } from '../../shared/usecases/resync-directory.js';
import { SimClock } from '../../sandbox/clock.js';
import { startGraphSimulator, type GraphSimulator } from '../../sandbox/graph-sim/index.js';
import { parseSandboxTenantFile } from '../../sandbox/teams-sim/tenant-file.js';
import { recordingSender } from '../helpers/recording-sender.js';
import { tenant } from './fixtures.js';

/**
 * The resync round under transient faults: each call is retried through a sleeper the test
 * drives (no real sleeps), and a round that still stops resumes from its checkpoint.
 */

let graph: GraphSimulator | undefined;
afterEach(async () => {
  await graph?.close();
  graph = undefined;
});

const people = Array.from({ length: 7 }, (_, i) => ({
  id: `7b000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`,
  userPrincipalName: `r${i + 1}@contoso.example`,
  employeeId: `R${i + 1}`,
  servicePlans: ['TEAMS1', 'MCOEV'],
}));

const throttled = (retryAfterMs: number) => new DialtoneError('Throttled', 'Graph answered 429 to read users delta', { transient: true, retryAfterMs });
const unavailable = () => new DialtoneError('ServiceUnavailable', 'Graph answered 503 to read users delta', { transient: true });
const tableBusy = () => new TableServiceError(503, 'ServerBusy', 'The server is busy.');
const tableTimeout = () => new TableServiceError(500, 'OperationTimedOut', 'Operation could not be completed within the specified time.');
const busBusy = () => Object.assign(new Error('The request was terminated because the entity is being throttled.'), { name: 'ServiceBusError', code: 'ServiceBusy', retryable: true });
const quotaExceeded = () => Object.assign(new Error('The maximum entity size has been reached.'), { name: 'ServiceBusError', code: 'QuotaExceeded', retryable: false });

/** Throws the queued errors, one per call, before it lets calls through: a deterministic fault plan per operation. */
interface FaultPlan {
  deltaPage?: (Error | undefined)[];
  getUser?: (Error | undefined)[];
  recordsGet?: (Error | undefined)[];
  recordsList?: (Error | undefined)[];
  send?: (Error | undefined)[];
  stateSet?: (Error | undefined)[];
  stateGet?: (Error | undefined)[];
}

function faulty(plan: FaultPlan, directory: GraphDirectory, records: ProvisioningRecords, state: SyncState, sender: BusSender) {
  const calls = { deltaPage: [] as (string | undefined)[], send: 0 };
  const take = (list: (Error | undefined)[] | undefined) => {
    const error = list?.shift();
    if (error) throw error;
  };
  const delta: ResyncDeps['delta'] = {
    listUsersDeltaPage: async (link) => {
      calls.deltaPage.push(link);
      take(plan.deltaPage);
      return directory.listUsersDeltaPage(link);
    },
    getUser: async (id) => {
      take(plan.getUser);
      return directory.getUser(id);
    },
  };
  const faultyRecords: ProvisioningRecords = {
    get: async (id) => (take(plan.recordsGet), records.get(id)),
    list: async () => (take(plan.recordsList), records.list()),
    update: (id, fn) => records.update(id, fn),
  };
  const faultyState: SyncState = {
    get: async (key) => (take(plan.stateGet), state.get(key)),
    set: async (key, value) => (take(plan.stateSet), state.set(key, value)),
  };
  const faultySender: BusSender = {
    ...sender,
    sendMessages: async (messages) => {
      calls.send += 1;
      take(plan.send);
      return sender.sendMessages(messages);
    },
  };
  return { delta, records: faultyRecords, state: faultyState, sender: faultySender, calls };
}

async function setup(plan: FaultPlan = {}, options: { pageSize?: number } = {}) {
  const clock = new SimClock('2026-11-23T12:00:00Z');
  const base = tenant();
  graph = await startGraphSimulator({
    tenant: parseSandboxTenantFile({ ...base, users: [...base.users, ...people], directoryChanges: [] }),
    clock,
    ...(options.pageSize ? { deltaPageSize: options.pageSize } : {}),
  });
  const directory = createGraphDirectory({ baseUrl: graph.baseUrl, accessToken: async () => 'token' });
  const service = createMemoryTableService();
  const records = createMemoryProvisioningRecords({ service });
  for (const p of people) await records.update(p.id, () => emptyRecord(p.id, p.userPrincipalName));
  const state = entitySyncState(service.table('sync'));
  const recording = recordingSender({ name: 'user-changes', requiresSession: true });
  const f = faulty(plan, directory, records, state, recording.sender);
  const waits: number[] = [];
  const deps: ResyncDeps = {
    delta: f.delta,
    records: f.records,
    state: f.state,
    sender: f.sender,
    clock,
    logger: silentLogger,
    // The sleeper moves the test's clock: no real time passes.
    sleeper: { sleep: async (ms) => void (waits.push(ms), clock.advance(ms)) },
  };
  return { deps, sent: recording.sent, state, waits, calls: f.calls, clock };
}

describe('a resync round under transient faults', () => {
  it('finishes through a Graph 429, a Graph 503, Table 503s and timeouts and a Service Bus ServiceBusy, retrying each call on the sleeper', async () => {
    const { deps, sent, state, waits } = await setup({
      deltaPage: [throttled(7_000), unavailable()],
      recordsGet: [tableBusy(), undefined, tableTimeout()],
      send: [busBusy()],
      stateSet: [tableBusy()],
      stateGet: [tableTimeout()],
    });
    const result = await resyncDirectory(deps);
    expect(result.replanned).toBe(people.length);
    expect(new Set(sent.map((m) => m.sessionId))).toEqual(new Set(people.map((p) => p.id)));
    expect(await state.get(DELTA_LINK_KEY)).toMatch(/\/users\/delta\?\$deltatoken=/);
    // Seven faults, seven waits; the 429's Retry-After was honoured.
    expect(waits).toHaveLength(7);
    expect(waits).toContain(7_000);
  });

  it('gives up on a call after the bounded attempts, and the round fails for the timer to retry', async () => {
    const { deps, waits, state } = await setup({ deltaPage: Array.from({ length: 50 }, () => unavailable()) });
    await expect(resyncDirectory(deps)).rejects.toMatchObject({ code: 'ServiceUnavailable' });
    expect(waits.length).toBeGreaterThan(2);
    expect(waits.length).toBeLessThan(10);
    expect(await state.get(DELTA_LINK_KEY)).toBeUndefined();
  });

  it('does not retry a permanent error (QuotaExceeded on send)', async () => {
    const { deps, waits, calls } = await setup({ send: [quotaExceeded()] });
    await expect(resyncDirectory(deps)).rejects.toMatchObject({ code: 'QuotaExceeded' });
    expect(calls.send).toBe(1);
    expect(waits).toEqual([]);
  });

  it('resumes on the next attempt from the page where the last one stopped, instead of starting over', async () => {
    // Pages of 3 users: the tenant's users take several pages. The third page fails for good.
    const { deps, sent, state, calls } = await setup({ deltaPage: [undefined, undefined, new DialtoneError('Unexpected', 'connection refused')] }, { pageSize: 3 });
    await expect(resyncDirectory(deps)).rejects.toThrow(/connection refused/);
    expect(await state.get(DELTA_LINK_KEY)).toBeUndefined();
    const sentBefore = sent.length;
    calls.deltaPage.length = 0;

    const result = await resyncDirectory(deps);
    // The second attempt starts at the saved next link of page 3, not at the first page.
    expect(calls.deltaPage[0]).toMatch(/\$skiptoken=/);
    expect(calls.deltaPage).not.toContain(undefined);
    expect(await state.get(DELTA_LINK_KEY)).toMatch(/\$deltatoken=/);
    expect(await state.get(DELTA_PROGRESS_KEY)).toBeFalsy();
    // Between the two attempts every provisioned user was re-planned once.
    expect(new Set(sent.map((m) => m.sessionId))).toEqual(new Set(people.map((p) => p.id)));
    expect(sent.length).toBe(people.length);
    expect(result.replanned).toBe(people.length - sentBefore);
  });

  it('keeps the message ids of a resumed round, so a page sent twice is dropped by duplicate detection', async () => {
    // The save of page 2's checkpoint fails for good after page 2 was sent: the resumed round sends page 2 again.
    const failures: (Error | undefined)[] = [undefined, new DialtoneError('Unexpected', 'storage account unreachable')];
    const { deps, sent } = await setup({ stateSet: failures }, { pageSize: 3 });
    await expect(resyncDirectory(deps)).rejects.toThrow(/unreachable/);
    await resyncDirectory(deps);
    const byUser = new Map<string, Set<string>>();
    for (const m of sent) byUser.set(String(m.sessionId), (byUser.get(String(m.sessionId)) ?? new Set()).add(String(m.messageId)));
    expect(sent.length).toBeGreaterThan(people.length);
    for (const ids of byUser.values()) expect(ids.size).toBe(1);
  });

  it('starts the round over when the saved page can no longer be followed', async () => {
    const { deps, sent, state } = await setup({}, { pageSize: 3 });
    await state.set(DELTA_PROGRESS_KEY, JSON.stringify({ v: 1, base: null, next: `${graph!.baseUrl}/users/delta?$skiptoken=expired`, round: '2026-11-23T11:00:00.000Z' }));
    const result = await resyncDirectory(deps);
    expect(result.replanned).toBe(people.length);
    expect(new Set(sent.map((m) => m.sessionId)).size).toBe(people.length);
    expect(await state.get(DELTA_LINK_KEY)).toMatch(/\$deltatoken=/);
  });

  it('retries the first round\'s check that a provisioned user missing from the listing is gone', async () => {
    const { deps, sent } = await setup({ getUser: [throttled(2_000), unavailable()] });
    const gone = '7b000000-0000-4000-8000-0000000000ff';
    await deps.records.update(gone, () => emptyRecord(gone, 'gone@contoso.example'));
    const result = await resyncDirectory(deps);
    expect(result.replanned).toBe(people.length + 1);
    expect(sent.find((m) => m.sessionId === gone)).toMatchObject({ body: { changeType: 'deleted' } });
  });
});
