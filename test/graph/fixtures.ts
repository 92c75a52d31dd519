import { SimClock } from '../../sandbox/clock.js';
import { startGraphSimulator, type GraphFaults, type GraphSimulator } from '../../sandbox/graph-sim/index.js';
import { parseSandboxTenantFile, type SandboxTenantFile } from '../../sandbox/teams-sim/tenant-file.js';

export const ids = {
  anna: '3b7d1c9e-0d2a-4c55-8d0e-000000000101',
  bram: '3b7d1c9e-0d2a-4c55-8d0e-000000000102',
  carl: '3b7d1c9e-0d2a-4c55-8d0e-000000000103',
  carla: '3b7d1c9e-0d2a-4c55-8d0e-000000000104',
  dora: '3b7d1c9e-0d2a-4c55-8d0e-000000000105',
  sean: '3b7d1c9e-0d2a-4c55-8d0e-000000000106',
} as const;

export const MCOEV = '4828c8ec-dc2e-4779-b502-87ac9ce28ab7';
export const TEAMS1 = '57ff2da0-773e-42df-b2af-ffb7a2317929';

/** A valid sandbox tenant file, checked with the shared schema. */
export function tenant(): SandboxTenantFile {
  return parseSandboxTenantFile({
    tenantId: '8f0c2a53-5d0e-4c1b-9a57-2f1f0e6f0001',
    users: [
      {
        id: ids.anna,
        userPrincipalName: 'anna.devries@contoso.example',
        mail: 'anna.devries@contoso.example',
        employeeId: 'E1001',
        displayName: 'Anna de Vries',
        department: 'Sales',
        officeLocation: 'AMS',
        jobTitle: 'Account Manager',
        accountEnabled: true,
        usageLocation: 'NL',
        servicePlans: ['TEAMS1', 'MCOEV'],
      },
      {
        id: ids.bram,
        userPrincipalName: 'bram.jansen@contoso.example',
        employeeId: 'E1002',
        department: 'Support',
        servicePlans: ['TEAMS1', 'MCOEV'],
        licensedAfterMs: 30_000,
      },
      { id: ids.carl, userPrincipalName: 'carl@contoso.example', employeeId: 'E2000', servicePlans: ['TEAMS1'] },
      { id: ids.carla, userPrincipalName: 'carla@contoso.example', employeeId: 'E2000', servicePlans: ['TEAMS1'] },
      { id: ids.dora, userPrincipalName: 'dora@contoso.example', employeeId: 'E1005', servicePlans: ['MCOEV'], appearsAfterMs: 60_000 },
      { id: ids.sean, userPrincipalName: 'sean.obrien@contoso.example', mail: "sean.o'brien@contoso.example", employeeId: "O'6" },
    ],
    directoryChanges: [
      { atMs: 120_000, userId: ids.anna, set: { department: 'Support' }, notify: true },
      { atMs: 180_000, userId: ids.carl, set: { servicePlans: ['TEAMS1', 'MCOEV'] }, notify: false },
    ],
  });
}

/** A one-user tenant for the cases the shared fixture does not cover. */
export function singleUserTenant(user: Record<string, unknown>, directoryChanges: unknown[] = []): SandboxTenantFile {
  return parseSandboxTenantFile({
    tenantId: 't1',
    users: [{ id: 'u1', userPrincipalName: 'u1@contoso.example', ...user }],
    directoryChanges,
  });
}

export interface SimFixture {
  clock: SimClock;
  sim: GraphSimulator;
}

export async function startSim(options: { faults?: GraphFaults; listPageSize?: number; deltaPageSize?: number; seed?: number } = {}): Promise<SimFixture> {
  const clock = new SimClock('2026-11-02T08:00:00Z');
  const sim = await startGraphSimulator({ tenant: tenant(), clock, startMs: clock.startedAt, ...options });
  return { clock, sim };
}

/** A raw GET against the simulator, for what the adapter never sends. */
export function rawGet(sim: GraphSimulator, pathAndQuery: string, headers: Record<string, string> = { Authorization: 'Bearer test' }): Promise<Response> {
  return fetch(`${sim.baseUrl}${pathAndQuery}`, { headers });
}
