/**
 * The timer Functions (directory resync, Graph subscription) once per tenant in force (issue 16,
 * "sync state and Graph subscriptions per tenant"). Each tenant's round runs with that tenant's
 * own Graph credential and a view of the shared stores scoped to it: only its people's records,
 * its own sync-state keys, and user changes tagged with its tenant (and its tenant-scoped session
 * id). One tenant's failed round does not stop the others'; the run fails after all were tried, so
 * the timer's retry repeats it.
 */
import type { UserChange } from '../contracts/messages.js';
import { DialtoneError } from '../domain/errors.js';
import { personSessionId } from '../domain/ids.js';
import { tenantOf, type EffectiveTenant } from '../domain/tenants.js';
import type { BusMessageBatch, BusSender, OutgoingMessage } from '../ports/bus.js';
import type { Logger } from '../ports/logger.js';
import type { ProvisioningRecords } from '../ports/provisioning-records.js';
import type { Subscriptions } from '../ports/subscriptions.js';
import type { SyncState } from '../ports/sync-state.js';
import { maintainGraphSubscription, type SubscriptionMaintenanceDeps } from './maintain-graph-subscription.js';
import { resyncDirectory, type ResyncDeps } from './resync-directory.js';

/** A tenant as its round sees it: the id messages carry (none for the implicit tenant) and whether untagged data is its. */
export interface TenantRound {
  tenant: EffectiveTenant;
  /** The tenantId put on its messages: undefined for the implicit tenant of a deployment without a registry. */
  messageTenantId: string | undefined;
}

export async function forEveryTenant<R>(
  deps: { tenants: () => Promise<readonly EffectiveTenant[]>; logger: Logger; what: string },
  run: (round: TenantRound) => Promise<R>,
): Promise<Map<string, R>> {
  const results = new Map<string, R>();
  const failed: string[] = [];
  for (const tenant of await deps.tenants()) {
    const round: TenantRound = { tenant, messageTenantId: tenant.source === 'registry' ? tenant.tenantId : undefined };
    try {
      results.set(tenant.tenantId, await run(round));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      failed.push(`${tenant.tenantId}: ${reason}`);
      deps.logger.error(`${deps.what} failed for a tenant; the other tenants go on`, { tenantId: tenant.tenantId, reason });
    }
  }
  if (failed.length > 0) throw new DialtoneError('Unexpected', `${deps.what} failed for ${failed.length} tenant(s): ${failed.join('; ')}`, { transient: true });
  return results;
}

/** The records of one tenant only (a record without tenantId is the default tenant's). */
export function tenantRecords(records: ProvisioningRecords, tenantId: string, defaultTenantId: string): ProvisioningRecords {
  const mine = (r: { tenantId?: string | undefined } | undefined) => r !== undefined && tenantOf(r, defaultTenantId) === tenantId;
  return {
    get: async (userId) => {
      const record = await records.get(userId);
      return mine(record) ? record : undefined;
    },
    update: (userId, update) => records.update(userId, update),
    list: async () => (await records.list()).filter(mine),
  };
}

/** One tenant's sync-state keys: the default tenant keeps the bare keys (its state from before goes on), another's are suffixed `@<tenant id>`. */
export function tenantSyncState(state: SyncState, tenantId: string, isDefault: boolean): SyncState {
  const key = (k: string) => (isDefault ? k : `${k}@${tenantId}`);
  return { get: (k) => state.get(key(k)), set: (k, v) => state.set(key(k), v) };
}

/** User changes sent for one tenant carry its tenantId and its tenant-scoped session id, as correlate's do. */
export function tenantUserChanges(sender: BusSender, tenantId: string | undefined): BusSender {
  if (tenantId === undefined) return sender;
  const tag = (m: OutgoingMessage): OutgoingMessage => {
    const body = m.body as Partial<UserChange> | undefined;
    if (typeof body !== 'object' || body === null || typeof body.userId !== 'string' || (body.tenantId !== undefined && body.tenantId !== tenantId)) return m;
    return { ...m, body: { ...body, tenantId }, sessionId: personSessionId(body.userId, tenantId) };
  };
  const inner = new WeakMap<BusMessageBatch, BusMessageBatch>();
  const unwrap = (messages: OutgoingMessage | OutgoingMessage[] | BusMessageBatch) => {
    if (Array.isArray(messages)) return messages.map(tag);
    const batch = inner.get(messages as BusMessageBatch);
    if (batch) return batch;
    return 'tryAddMessage' in messages ? messages : tag(messages);
  };
  return {
    sendMessages: (messages) => sender.sendMessages(unwrap(messages)),
    createMessageBatch: async (options) => {
      const batch = await sender.createMessageBatch(options);
      const wrapped: BusMessageBatch = {
        get count() {
          return batch.count;
        },
        get sizeInBytes() {
          return batch.sizeInBytes;
        },
        get maxSizeInBytes() {
          return batch.maxSizeInBytes;
        },
        tryAddMessage: (m) => batch.tryAddMessage(tag(m)),
      };
      inner.set(wrapped, batch);
      return wrapped;
    },
    scheduleMessages: (messages, at) => sender.scheduleMessages(Array.isArray(messages) ? messages.map(tag) : tag(messages), at),
    close: () => sender.close(),
  };
}

/** Which tenants' rounds run, the default tenant (of untagged data), and each tenant's own Graph. */
export interface EveryTenant<G> {
  tenants: () => Promise<readonly EffectiveTenant[]>;
  defaultTenantId: string;
  graph: { forTenant(tenantId: string | undefined): Promise<G> };
}

/** The directory resync once per tenant, each with its own delta link, its own people and tagged changes. */
export async function resyncEveryTenant(deps: ResyncDeps, every: EveryTenant<ResyncDeps['delta']>): Promise<Map<string, Awaited<ReturnType<typeof resyncDirectory>>>> {
  return forEveryTenant({ tenants: every.tenants, logger: deps.logger, what: 'directory resync' }, async ({ tenant, messageTenantId }) =>
    resyncDirectory({
      ...deps,
      delta: await every.graph.forTenant(messageTenantId),
      records: tenantRecords(deps.records, tenant.tenantId, every.defaultTenantId),
      state: tenantSyncState(deps.state, tenant.tenantId, tenant.tenantId === every.defaultTenantId),
      sender: tenantUserChanges(deps.sender, messageTenantId),
      logger: deps.logger.child({ tenantId: tenant.tenantId }),
    }),
  );
}

/** The users subscription kept alive in every tenant (each tenant's subscriptions are its own). */
export async function maintainEveryTenantSubscription(
  deps: SubscriptionMaintenanceDeps,
  every: Omit<EveryTenant<Subscriptions>, 'defaultTenantId'>,
): Promise<Map<string, Awaited<ReturnType<typeof maintainGraphSubscription>>>> {
  return forEveryTenant({ tenants: every.tenants, logger: deps.logger, what: 'graph subscription' }, async ({ tenant, messageTenantId }) =>
    maintainGraphSubscription({ ...deps, subscriptions: await every.graph.forTenant(messageTenantId), logger: deps.logger.child({ tenantId: tenant.tenantId }) }),
  );
}
