/**
 * Issue 16: sync state and Graph subscriptions per tenant. The resync and subscription timers run
 * once per tenant in force, each in its own tenant's Graph, with its own delta link, only its own
 * people and user changes tagged with its tenant; the webhook puts a notification's change under
 * the tenant the notification names.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { entitySyncState } from '../../shared/adapters/entity-sync-state.js';
import { createGraphDirectory } from '../../shared/adapters/graph-directory.js';
import { createGraphSubscriptions } from '../../shared/adapters/graph-subscriptions.js';
import { createMemoryProvisioningRecords } from '../../shared/adapters/memory-provisioning-records.js';
import { createMemoryTableService } from '../../shared/adapters/memory-table-client.js';
import type { UserChange } from '../../shared/contracts/messages.js';
import { effectiveTenants, implicitTenant } from '../../shared/domain/tenants.js';
import { silentLogger } from '../../shared/logging/logger.js';
import { perTenant } from '../../shared/ports/per-tenant.js';
import { acceptGraphNotifications } from '../../shared/usecases/accept-graph-notifications.js';
import { maintainEveryTenantSubscription, resyncEveryTenant } from '../../shared/usecases/every-tenant.js';
import { emptyRecord } from '../../shared/usecases/record-history.js';
import { DELTA_LINK_KEY } from '../../shared/usecases/resync-directory.js';
import { SimClock } from '../../sandbox/clock.js';
import { startGraphSimulator, type GraphSimulator } from '../../sandbox/graph-sim/index.js';
import { parseSandboxTenantFile } from '../../sandbox/teams-sim/tenant-file.js';
import { recordingSender } from '../helpers/recording-sender.js';
import { registeredTenant } from './fixtures.js';

const A = '11111111-1111-4111-8111-111111111111';
const B = '22222222-2222-4222-8222-222222222222';
// A is the home tenant (registered too): records from before the registry (no tenantId) are A's.
const tenants = async () => effectiveTenants([registeredTenant(A, 'Contoso'), registeredTenant(B, 'Fabrikam')], implicitTenant({ tenantId: A }));
const user = (id: string, upn: string) => ({ id, userPrincipalName: upn, employeeId: 'E1', servicePlans: ['MCOEV'] });
const ANNA_A = '00000000-0000-4000-8000-0000000000a1';
const OLD_A = '00000000-0000-4000-8000-0000000000a0';
const ANNA_B = '00000000-0000-4000-8000-0000000000b1';

const sims: GraphSimulator[] = [];
afterEach(async () => {
  for (const sim of sims.splice(0)) await sim.close();
});

async function world() {
  const clock = new SimClock('2026-11-23T12:00:00Z');
  const simA = await startGraphSimulator({ tenant: parseSandboxTenantFile({ tenantId: A, users: [user(ANNA_A, 'anna@contoso.example'), user(OLD_A, 'old@contoso.example')] }), clock });
  const simB = await startGraphSimulator({ tenant: parseSandboxTenantFile({ tenantId: B, users: [user(ANNA_B, 'anna@fabrikam.example')] }), clock });
  sims.push(simA, simB);
  const graphOf = (t: string | undefined) => (t === B ? simB : simA);
  const asked: (string | undefined)[] = [];
  const directory = perTenant(async (t) => {
    asked.push(t);
    return createGraphDirectory({ baseUrl: graphOf(t).baseUrl, accessToken: async () => 'token' });
  });
  const service = createMemoryTableService();
  const records = createMemoryProvisioningRecords({ service });
  await records.update(OLD_A, () => emptyRecord(OLD_A, 'old@contoso.example'));
  await records.update(ANNA_A, () => ({ ...emptyRecord(ANNA_A, 'anna@contoso.example'), tenantId: A }));
  await records.update(ANNA_B, () => ({ ...emptyRecord(ANNA_B, 'anna@fabrikam.example'), tenantId: B }));
  const state = entitySyncState(service.table('sync'));
  const recording = recordingSender({ name: 'user-changes', requiresSession: true });
  const deps = { delta: createGraphDirectory({ baseUrl: simA.baseUrl, accessToken: async () => 'token' }), records, state, sender: recording.sender, clock, logger: silentLogger, sleeper: { sleep: async () => undefined } };
  return { clock, deps, sent: recording.sent, state, directory, asked, simA, simB };
}

describe('the directory resync in every tenant', () => {
  it('re-plans each tenant\'s people from its own directory, tagged with its tenant, each with its own delta link', async () => {
    const w = await world();
    const results = await resyncEveryTenant(w.deps, { tenants, defaultTenantId: A, graph: w.directory });
    expect([...results.keys()]).toEqual([A, B]);
    const changes = w.sent.map((m) => [m.sessionId, (m.body as UserChange).userId, (m.body as UserChange).tenantId ?? null, (m.body as UserChange).changeType]);
    // No person of B is judged "gone" by A's directory, nor one of A by B's.
    expect(changes.sort()).toEqual(
      [
        [`${A}:${ANNA_A}`, ANNA_A, A, 'updated'],
        [`${A}:${OLD_A}`, OLD_A, A, 'updated'],
        [`${B}:${ANNA_B}`, ANNA_B, B, 'updated'],
      ].sort(),
    );
    expect(w.asked).toEqual([A, B]);
    // The home (default) tenant keeps the bare key, so its state from before goes on; B's is its own.
    const linkA = await w.state.get(DELTA_LINK_KEY);
    const linkB = await w.state.get(`${DELTA_LINK_KEY}@${B}`);
    expect(linkA).toContain(w.simA.baseUrl.replace('/v1.0', ''));
    expect(linkB).toContain(w.simB.baseUrl.replace('/v1.0', ''));
  });

  it('goes on with the other tenants when one tenant\'s round fails, then fails naming that tenant', async () => {
    const w = await world();
    const broken = perTenant(async (t) => {
      if (t === A) throw new Error('certificate refused');
      return w.directory.forTenant(t);
    });
    await expect(resyncEveryTenant(w.deps, { tenants, defaultTenantId: A, graph: broken })).rejects.toMatchObject({ transient: true, message: expect.stringContaining(`${A}: certificate refused`) });
    expect(w.sent.map((m) => (m.body as UserChange).tenantId)).toEqual([B]);
  });
});

describe('the Graph subscription in every tenant', () => {
  it('creates the users subscription in each tenant\'s own Graph', async () => {
    const w = await world();
    const subscriptions = perTenant(async (t) => createGraphSubscriptions({ baseUrl: (t === B ? w.simB : w.simA).baseUrl, accessToken: async () => 'token' }));
    const results = await maintainEveryTenantSubscription(
      { subscriptions: await subscriptions.forTenant(undefined), clock: w.clock, logger: silentLogger, notificationUrl: 'https://dialtone.example/api/graph/notifications?code=k', clientState: 'client-state-0123456789', sleeper: { sleep: async () => undefined } },
      { tenants, graph: subscriptions },
    );
    expect([...results.values()].map((r) => r.action)).toEqual(['create', 'create']);
    for (const sim of [w.simA, w.simB]) expect(sim.exportSubscriptions().items).toHaveLength(1);
  });
});

describe('the webhook puts a change under the tenant its notification names', () => {
  const CLIENT_STATE = 'client-state-0123456789';
  const notification = (tenantId: string | undefined, userId: string) => ({
    id: `n-${userId}`,
    subscriptionId: 'sub-1',
    clientState: CLIENT_STATE,
    changeType: 'updated',
    resource: `Users/${userId}`,
    ...(tenantId ? { tenantId } : {}),
  });

  it('tags a registered tenant\'s change and its session, leaves the home tenant\'s untagged and refuses an unknown tenant\'s', async () => {
    const recording = recordingSender({ name: 'user-changes', requiresSession: true });
    const logged: string[] = [];
    const logger = { ...silentLogger, warn: (message: string) => void logged.push(message), child: () => logger };
    const answer = await acceptGraphNotifications(
      {
        validationToken: null,
        bodyText: JSON.stringify({ value: [notification(B, ANNA_B), notification(undefined, OLD_A), notification('33333333-3333-4333-8333-333333333333', ANNA_A)] }),
      },
      async () => ({ clientState: CLIENT_STATE, sender: recording.sender, clock: new SimClock('2026-11-23T12:00:00Z'), logger, tenants }),
    );
    expect(answer.status).toBe(202);
    expect(recording.sent.map((m) => [m.sessionId, (m.body as UserChange).tenantId ?? null])).toEqual([
      [`${B}:${ANNA_B}`, B],
      [OLD_A, null],
    ]);
    expect(logged).toEqual(['graph notification rejected']);
  });
});
