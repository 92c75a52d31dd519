import type { Tenant } from '../../shared/domain/tenants.js';

/**
 * A registry entry for the per-tenant tests: `name` gives the display name and the certificate
 * name (`<name>-teams`); `extra` sets what a test is about (backend, UPN domains, app id…).
 */
export const registeredTenant = (tenantId: string, name: string, extra: Partial<Tenant> = {}): Tenant => ({
  tenantId,
  displayName: name,
  applicationId: 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa',
  certificateName: `${name.toLowerCase()}-teams`,
  pools: [],
  upnDomains: [],
  sessionLimit: 3,
  createdAt: '2026-12-01T00:00:00Z',
  updatedAt: '2026-12-01T00:00:00Z',
  ...extra,
});
