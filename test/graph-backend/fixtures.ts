import { SimClock } from '../../sandbox/clock.js';
import { startGraphSimulator, type GraphSimulator } from '../../sandbox/graph-sim/index.js';
import { SimTenant } from '../../sandbox/teams-sim/tenant.js';
import { createGraphTeamsAdmin } from '../../shared/adapters/graph-teams-admin.js';
import type { TeamsAdmin } from '../../shared/ports/teams-admin.js';
import type { SandboxTenantFile } from '../../sandbox/teams-sim/tenant-file.js';
import { tenantFile } from '../teams-sim/fixtures.js';

export { ANNA, BRAM, CEES, DANA, EVA } from '../teams-sim/fixtures.js';

export interface GraphBackendFixture {
  clock: SimClock;
  tenant: SimTenant;
  sim: GraphSimulator;
  admin: TeamsAdmin;
  requests: () => number;
}

/** A Teams tenant served through the Graph simulator's /admin/teams, and the real adapter over HTTP. */
export async function startGraphBackend(
  options: { refusedPolicyTypes?: string[]; operationMs?: number; file?: SandboxTenantFile } = {},
): Promise<GraphBackendFixture> {
  const clock = new SimClock('2026-11-02T08:00:00Z');
  const file = options.file ?? tenantFile();
  const tenant = new SimTenant(file, clock);
  const sim = await startGraphSimulator({ tenant: file, clock, startMs: clock.startedAt, teams: { tenant, ...options } });
  let requests = 0;
  const admin = createGraphTeamsAdmin({ baseUrl: sim.baseUrl, accessToken: async () => 'test-token', onRequest: () => (requests += 1) });
  return { clock, tenant, sim, admin, requests: () => requests };
}
