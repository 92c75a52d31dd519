import type { Tenant, TenantInput, TenantPatch } from '../domain/tenants.js';

/**
 * The tenants a deployment serves (Table Storage `tenants`, or its in-memory twin). An empty
 * registry means a single-tenant deployment: its one tenant is made from the settings
 * (shared/domain/tenants.ts, implicitTenant).
 */
export interface TenantRegistry {
  list(): Promise<Tenant[]>;
  get(tenantId: string): Promise<Tenant | undefined>;
  /** Refuses (ConfigInvalid) a tenant that exists or whose pools or UPN domains another tenant holds. */
  add(tenant: TenantInput, now: Date): Promise<Tenant>;
  /** Refuses (ConfigInvalid) an unknown tenant, or a change that claims another tenant's pool or domain. */
  update(tenantId: string, patch: TenantPatch, now: Date): Promise<Tenant>;
  /** Removes the tenant (a tombstone stays); false when none was registered. The use case decides whether removal is allowed. */
  remove(tenantId: string, now: Date): Promise<boolean>;
}
