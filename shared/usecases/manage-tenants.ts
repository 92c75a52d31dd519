import { DialtoneError } from '../domain/errors.js';
import { effectiveTenants, tenantOf, type EffectiveTenant, type Tenant } from '../domain/tenants.js';
import type { NumberInventory } from '../ports/number-inventory.js';
import type { ProvisioningRecord, ProvisioningRecords } from '../ports/provisioning-records.js';
import type { TenantRegistry } from '../ports/tenant-registry.js';

/**
 * The operator's view of the tenant registry (`dialtone tenants …`): the tenants in force (the
 * implicit one while nothing is registered) and a removal that refuses while the tenant still
 * holds people or numbers.
 */
export interface TenantAdminDeps {
  registry: TenantRegistry;
  /** The tenant of a single-tenant deployment (settings); owner of every record without a tenantId. */
  implicit: EffectiveTenant;
  records: () => Promise<ProvisioningRecords>;
  inventory: () => Promise<NumberInventory>;
}

export async function listTenants(deps: Pick<TenantAdminDeps, 'registry' | 'implicit'>): Promise<EffectiveTenant[]> {
  return effectiveTenants(await deps.registry.list(), deps.implicit);
}

/** The tenant in force with this id (registered, or the implicit one), or undefined: not found is a result, not bad input. */
export async function findTenant(deps: Pick<TenantAdminDeps, 'registry' | 'implicit'>, tenantId: string): Promise<EffectiveTenant | undefined> {
  return (await listTenants(deps)).find((t) => t.tenantId === tenantId.toLowerCase());
}

/** What an operator is told about a well-formed tenant id that is not in force. */
export function tenantNotFound(tenantId: string): string {
  return `tenant ${tenantId} is not a tenant of this deployment (see dialtone tenants list)`;
}

/** Someone Dialtone still provisions: voice on, a number, or an HR lifecycle that is not `left`. */
export function holdsVoice(record: ProvisioningRecord): boolean {
  if (record.lastApplied && (record.lastApplied.enterpriseVoiceEnabled || record.lastApplied.phoneNumber !== null)) return true;
  return record.lifecycle?.state === 'active';
}

export interface TenantHoldings {
  people: string[];
  numbers: number;
}

/** What a tenant still holds: its people with voice or an active lifecycle, and its pools' numbers in use. */
export async function tenantHoldings(deps: TenantAdminDeps, tenant: Pick<Tenant, 'tenantId' | 'pools'>): Promise<TenantHoldings> {
  const records = await (await deps.records()).list();
  const people = records.filter((r) => tenantOf(r, deps.implicit.tenantId) === tenant.tenantId && holdsVoice(r)).map((r) => r.userPrincipalName || r.userId);
  let numbers = 0;
  // Every pool of the tenant's own inventory (docs/NUMBERS.md "Tenants"), named in the registry or not.
  for (const p of await (await deps.inventory()).forTenant(tenant.tenantId).pools()) numbers += p.counts.reserved + p.counts.assigned;
  return { people, numbers };
}

export type RemoveTenantOutcome = { removed: true; tenant: Tenant } | { removed: false; tenant: Tenant; reason: string; holdings: TenantHoldings };

/**
 * Offboards a tenant from the registry. Refused (a value naming who) while it holds people or
 * numbers: take their voice off first (HR leavers, or a policy that gives no voice), so Teams and
 * the inventory are left clean. An unknown tenant is ConfigInvalid; the implicit tenant is not in
 * the registry and cannot be removed.
 */
export async function removeTenant(deps: TenantAdminDeps, tenantId: string, now: Date): Promise<RemoveTenantOutcome> {
  const tenant = await deps.registry.get(tenantId);
  if (!tenant) {
    throw new DialtoneError('ConfigInvalid', `tenant ${tenantId} is not registered (see dialtone tenants list)${tenantId.toLowerCase() === deps.implicit.tenantId ? '; the deployment\'s own tenant is not in the registry and cannot be removed' : ''}`);
  }
  const held = await tenantHoldings(deps, tenant);
  if (held.people.length > 0 || held.numbers > 0) {
    const who = held.people.slice(0, 5).join(', ') + (held.people.length > 5 ? `, and ${held.people.length - 5} more` : '');
    const parts = [held.people.length > 0 ? `${held.people.length} people with voice (${who})` : '', held.numbers > 0 ? `${held.numbers} numbers reserved or assigned in its pools` : ''].filter(Boolean);
    return { removed: false, tenant, holdings: held, reason: `tenant ${tenant.tenantId} (${tenant.displayName}) still holds ${parts.join(' and ')}: take their voice off first, then remove the tenant` };
  }
  await deps.registry.remove(tenant.tenantId, now);
  return { removed: true, tenant };
}

/**
 * `numbers import --tenant-id T`: the pools go into T's own inventory (another tenant may have a
 * pool of the same id). A number range belongs to one tenant only: a range that overlaps another
 * tenant's numbers is refused by the inventory, and the refusal names that tenant (with its
 * display name). Once imported, the file's pools are listed in T's registry row.
 */
export async function importPoolsForTenant(
  deps: Pick<TenantAdminDeps, 'registry' | 'inventory'>,
  tenantId: string,
  pools: Parameters<NumberInventory['importPools']>[0],
  actor: Parameters<NumberInventory['importPools']>[1],
): Promise<Awaited<ReturnType<NumberInventory['importPools']>>> {
  const id = tenantId.toLowerCase();
  const registered = await deps.registry.list();
  const tenant = registered.find((t) => t.tenantId === id);
  if (!tenant) throw new DialtoneError('ConfigInvalid', `tenant ${tenantId} is not registered (dialtone tenants add first)`);
  const inventory = (await deps.inventory()).forTenant(id);
  let summary;
  try {
    summary = await inventory.importPools(pools, actor);
  } catch (error) {
    const holder = error instanceof DialtoneError && typeof error.details['tenantId'] === 'string' ? registered.find((t) => t.tenantId === error.details['tenantId']) : undefined;
    if (error instanceof DialtoneError && holder) throw new DialtoneError('ConfigInvalid', `${error.message} (tenant ${holder.tenantId} is ${holder.displayName})`, { details: error.details });
    throw error;
  }
  const missing = pools.map((p) => p.id).filter((p) => !tenant.pools.includes(p));
  if (missing.length > 0) await deps.registry.update(id, { pools: [...tenant.pools, ...missing] }, actor.now);
  return summary;
}
