/**
 * Issue 16, "Done means: the pipeline's integration suite runs with two tenants side by side".
 *
 * A scenario is written once for one tenant (its tenant file, HR lines, pools) and played in a
 * *world*: `single` is the scenario as it is (one implicit tenant, messages naming none), `two
 * tenants` plays the same scenario in two tenants of one deployment at once. The second tenant
 * (Fabrikam) gets the same inputs with the same ids: the same employee ids, UPN local parts,
 * department ids, sites, pool ids and HR event ids; only what cannot be the same in two real
 * tenants differs (Entra object ids, UPN domains, the phone numbers of its ranges). The test then
 * asserts per tenant (through `TenantView`, which maps the scenario's ids into the tenant) and
 * that nothing crossed (`expectNoCrossing`).
 */
import { expect } from 'vitest';
import type { UserChange, VoiceCommand } from '../../shared/contracts/messages.js';
import type { PoolDefinition } from '../../shared/domain/numbers.js';
import type { NumberInventory } from '../../shared/ports/number-inventory.js';
import type { SandboxInputs } from '../../sandbox/host/inputs.js';
import type { SandboxReport } from '../../sandbox/host/report.js';
import type { Sandbox, SandboxOptions } from '../../sandbox/host/sandbox.js';
import type { GraphSimulator } from '../../sandbox/graph-sim/index.js';
import type { SimTenant } from '../../sandbox/teams-sim/index.js';
import type { SandboxTenantFile } from '../../sandbox/teams-sim/tenant-file.js';
import { played, sampleTenant } from './sandbox-fixtures.js';

export type WorldKind = 'single tenant' | 'two tenants';
/** For `describe.each(worlds)`: every parametrised scenario runs in both. */
export const worlds: readonly WorldKind[] = ['single tenant', 'two tenants'];

/** The sample tenant (Contoso): the scenario's own ids. */
export const TENANT_A = sampleTenant().tenantId.toLowerCase();
/** The second tenant of the `two tenants` world. */
export const TENANT_B = '5c1e7b42-9a3d-4f60-8e21-7d4b3c2a0002';
const DOMAIN_A = '@contoso.example';
const DOMAIN_B = '@fabrikam.example';

/** The scenario's ids as they are in one tenant of the world. */
export interface TenantMap {
  tenantId: string;
  /** Entra object ids are unique across tenants: B's ids are A's with another first group. */
  id(userId: string): string;
  /** The same local part in the tenant's own domain. */
  upn(upn: string): string;
  /** A number of the tenant's own ranges (a number belongs to one tenant only). */
  number(e164: string): string;
  /** `tel:` of number(). */
  lineUri(e164: string): string;
}

const identity: TenantMap = { tenantId: TENANT_A, id: (u) => u, upn: (u) => u, number: (n) => n, lineUri: (n) => `tel:${n}` };

function bNumber(e164: string): string {
  // +31 20 1234000 → +31 20 6234000: the sixth character moves by five, so B's ranges are A's
  // shifted into numbers nobody else uses, one to one.
  const digit = Number(e164[5]);
  if (!/^\+\d{6,}/.test(e164) || Number.isNaN(digit)) throw new Error(`cannot map ${e164} into tenant B`);
  return `${e164.slice(0, 5)}${(digit + 5) % 10}${e164.slice(6)}`;
}

const tenantB: TenantMap = {
  tenantId: TENANT_B,
  id: (u) => `bbbbbbbb${u.slice(8)}`,
  upn: (u) => u.replace(new RegExp(`${DOMAIN_A.replace('.', '\\.')}$`, 'i'), DOMAIN_B),
  number: (n) => n.replace(/^\+\d+/, (m) => bNumber(m)),
  lineUri: (n) => `tel:${tenantB.number(n)}`,
};

function mapDeep(value: unknown, map: TenantMap, ids: ReadonlySet<string>): unknown {
  if (typeof value === 'string') {
    if (ids.has(value)) return map.id(value);
    if (value.toLowerCase().endsWith(DOMAIN_A)) return map.upn(value);
    if (/^(tel:)?\+\d{8,}(;ext=\d+)?$/.test(value)) return value.replace(/\+\d+/, (n) => map.number(n));
    return value;
  }
  if (Array.isArray(value)) return value.map((v) => mapDeep(v, map, ids));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapDeep(v, map, ids)]));
  return value;
}

/** The tenant file of the scenario as tenant B has it: its users' ids, UPNs, mail, numbers in B's terms. */
function tenantFileIn(file: SandboxTenantFile, map: TenantMap): SandboxTenantFile {
  const ids = new Set(file.users.map((u) => u.id));
  return { ...(mapDeep(file, map, ids) as SandboxTenantFile), tenantId: map.tenantId };
}

/** One HR line in a tenant: tenantId added, UPN / mail in the tenant's domain, the same eventId. */
function eventIn(line: string, map: TenantMap): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
  return JSON.stringify({ ...(mapDeep(parsed, map, new Set()) as object), tenantId: map.tenantId });
}

/** The scenario in two tenants: A keeps its ids (its events now name it), B gets the same inputs in its own terms. */
export function twoTenantInputs(input: SandboxInputs): SandboxInputs {
  const tenant = { ...input.tenant, tenantId: TENANT_A };
  const lines: string[] = [];
  for (const line of input.eventLines) {
    const a = eventIn(line, identity);
    const b = eventIn(line, tenantB);
    // A line that is not an event object belongs to no tenant: it stays once, as it was.
    if (a === undefined || b === undefined) lines.push(line);
    else lines.push(a, b);
  }
  const pools: PoolDefinition[] = [
    ...input.pools.map((p) => ({ ...p, tenantId: TENANT_A })),
    // The same pool ids in B's own inventory, over B's own ranges.
    ...input.pools.map((p) => ({ ...(mapDeep(p, tenantB, new Set()) as PoolDefinition), tenantId: TENANT_B })),
  ];
  return { ...input, tenant, extraTenants: [tenantFileIn(input.tenant, tenantB)], eventLines: lines, pools };
}

/** The inputs for a world: as they are, or side by side in two tenants. */
export function inputsIn(world: WorldKind, input: SandboxInputs): SandboxInputs {
  return world === 'single tenant' ? input : twoTenantInputs(input);
}

/** One tenant of a played world: the scenario's ids in its terms, and its own Graph, Teams and inventory. */
export interface TenantView extends TenantMap {
  graph: GraphSimulator;
  teams: SimTenant | undefined;
  inventory: NumberInventory;
  /** The tenantId its messages, records and report rows carry (undefined in the single world: none). */
  named: string | undefined;
}

export function tenantViews(world: WorldKind, sandbox: Sandbox): TenantView[] {
  const maps = world === 'single tenant' ? [identity] : [identity, tenantB];
  return maps.map((m, i) => ({
    ...m,
    graph: sandbox.graphOf(m.tenantId),
    teams: sandbox.teams?.tenants[i],
    inventory: world === 'single tenant' ? sandbox.inventory : sandbox.inventory.forTenant(m.tenantId),
    named: world === 'single tenant' ? undefined : m.tenantId,
  }));
}

/** played() in a world; the tenants to assert on come with it. */
export async function playedIn(
  world: WorldKind,
  input: SandboxInputs,
  options: SandboxOptions = {},
  more?: (sandbox: Sandbox, tenants: TenantView[]) => Promise<void>,
): Promise<{ report: SandboxReport; sandbox: Sandbox; tenants: TenantView[] }> {
  let views: TenantView[] = [];
  const { report, sandbox } = await played(inputsIn(world, input), options, async (s) => {
    views = tenantViews(world, s);
    if (more) await more(s, views);
  });
  if (views.length === 0) views = tenantViews(world, sandbox);
  return { report, sandbox, tenants: views };
}

/** The report's user row of a scenario user in a tenant. */
export function teamsIn(report: SandboxReport, t: TenantView, userId: string) {
  const found = report.users.find((u) => u.id === t.id(userId));
  if (!found) throw new Error(`no user ${t.id(userId)} in the report`);
  if (t.named !== undefined) expect(found.tenantId).toBe(t.named);
  return found.teams;
}

/** The report's dead letters of one tenant (in the single world: all of them). */
export function deadLettersOf(report: SandboxReport, t: TenantView) {
  return report.deadLetters.filter((d) => t.named === undefined || d.tenantId === t.named);
}

/**
 * Nothing crossed between the tenants: every user change and voice command about a person names
 * that person's tenant in its body and its session id; each tenant's Teams gave voice to its own
 * people only and none of another tenant's numbers; each tenant's inventory holds numbers for its
 * own people only, and none of another tenant's ranges; every dead letter names a tenant the person it is about belongs to.
 */
export async function expectNoCrossing(sandbox: Sandbox, tenants: TenantView[]): Promise<void> {
  if (tenants.length < 2) return;
  const files = [sandbox.inputs.tenant, ...(sandbox.inputs.extraTenants ?? [])];
  const tenantOfUser = new Map(files.flatMap((f) => f.users.map((u) => [u.id, f.tenantId.toLowerCase()] as const)));
  for (const { queue, message } of sandbox.sent) {
    if (queue !== 'user-changes' && !queue.startsWith('voice-commands')) continue;
    const body = message.body as UserChange | VoiceCommand;
    const owner = tenantOfUser.get(body.userId);
    expect(owner, `${queue} ${message.messageId}: a person of no tenant`).toBeDefined();
    expect(body.tenantId, `${queue} ${message.messageId}`).toBe(owner);
    expect(message.sessionId, `${queue} ${message.messageId}`).toBe(`${owner}:${body.userId}`);
  }
  for (const t of tenants) {
    const own = new Set(files.find((f) => f.tenantId.toLowerCase() === t.tenantId)!.users.map((u) => u.id));
    const rangesOf = (tenantId: string) => sandbox.inputs.pools.filter((p) => p.tenantId?.toLowerCase() === tenantId).flatMap((p) => p.ranges);
    const within = (ranges: PoolDefinition['ranges'], n: string) => {
      const v = BigInt(n.replace(/^tel:/, '').replace(/;ext=.*$/, '').slice(1));
      return ranges.some((r) => BigInt(r.from.slice(1)) <= v && v <= BigInt(r.to.slice(1)));
    };
    const others = tenants.filter((o) => o !== t).flatMap((o) => rangesOf(o.tenantId));
    for (const row of t.teams?.assignments() ?? []) {
      if (row.AssignedPstnTargetId === null) continue;
      // Numbers Teams held before Dialtone (externalAssignments) may be anyone's; none is another tenant's person.
      expect(!own.has(row.AssignedPstnTargetId) && tenantOfUser.has(row.AssignedPstnTargetId), `Teams of ${t.tenantId} assigned ${row.TelephoneNumber} to ${row.AssignedPstnTargetId}`).toBe(false);
      expect(within(others, row.TelephoneNumber), `Teams of ${t.tenantId} assigned another tenant's number ${row.TelephoneNumber}`).toBe(false);
    }
    for (const n of await t.inventory.list()) {
      if (n.userId) expect(own.has(n.userId), `${t.tenantId}'s number ${n.number} is held by ${n.userId}`).toBe(true);
      expect(within(others, n.number), `another tenant's number ${n.number} in ${t.tenantId}'s inventory`).toBe(false);
    }
  }
  const report = await sandbox.report();
  for (const d of report.deadLetters) {
    const userId = (d.body as { userId?: unknown } | null)?.userId;
    if (typeof userId === 'string' && tenantOfUser.has(userId)) expect(d.tenantId, `dead letter about ${userId}`).toBe(tenantOfUser.get(userId));
  }
}
