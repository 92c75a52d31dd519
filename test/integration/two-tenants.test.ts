/**
 * Issue 16, "Done means": the pipeline's key scenarios with two tenants side by side in one
 * sandbox (`--tenant A.json --tenant B.json`): joiner, mover, leaver and rehire, with the same
 * employee ids, UPN local parts and department ids in both tenants. Each tenant has its own
 * directory in the Graph simulator (a token of one tenant never reads the other's) and its own
 * Teams tenant; nothing of one tenant lands in the other's directory reads, Teams, records,
 * commands or numbers.
 */
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { UserChange, VoiceCommand } from '../../shared/contracts/messages.js';
import { SimClock } from '../../sandbox/clock.js';
import { sandboxGraphToken, startGraphSimulator, type GraphSimulator } from '../../sandbox/graph-sim/index.js';
import { loadSandboxInputs, SandboxInputError } from '../../sandbox/host/inputs.js';
import { Sandbox } from '../../sandbox/host/sandbox.js';
import { parseSandboxTenantFile } from '../../sandbox/teams-sim/tenant-file.js';

const data = (name: string) => fileURLToPath(new URL(`../../sandbox/data/tenants/${name}`, import.meta.url));
const CONTOSO = '8f0c2a53-5d0e-4c1b-9a57-2f1f0e6f0001' as const;
const FABRIKAM = '5c1e7b42-9a3d-4f60-8e21-7d4b3c2a0002' as const;
const ANNA = { [CONTOSO]: '3b7d1c9e-0d2a-4c55-8d0e-000000000101', [FABRIKAM]: '7e2a4f10-0d2a-4c55-8d0e-000000000101' };
const poolsOf = { [CONTOSO]: ['ams', 'rtm'], [FABRIKAM]: ['fab-ams', 'fab-rtm'] };
const site = { [CONTOSO]: { AMS: 'AMS', RTM: 'RTM' }, [FABRIKAM]: { AMS: 'FAB-AMS', RTM: 'FAB-RTM' } };
const domain = { [CONTOSO]: 'contoso.example', [FABRIKAM]: 'fabrikam.example' };

/** The same person (employee id E1001, anna.devries@…, DEPT001) in both tenants: joiner, mover, leaver, rehire. */
function lifecycle(): string[] {
  const lines: string[] = [];
  for (const tenantId of [CONTOSO, FABRIKAM] as const) {
    const anna = (extra: Record<string, unknown>) => ({ employeeId: 'E1001', userPrincipalName: `anna.devries@${domain[tenantId]}`, ...extra });
    const event = (id: string, type: string, occurredAt: string, person: Record<string, unknown>) => JSON.stringify({ eventId: `${tenantId.slice(0, 8)}-${id}`, tenantId, type, occurredAt, person });
    lines.push(
      event('j', 'joiner', '2026-11-02T08:00:00Z', anna({ departmentId: 'DEPT001', site: site[tenantId].AMS })),
      event('m', 'mover', '2026-11-10T08:00:00Z', anna({ departmentId: 'DEPT002', site: site[tenantId].RTM })),
      event('l', 'leaver', '2026-11-20T17:00:00Z', anna({})),
      event('r', 'joiner', '2026-12-01T08:00:00Z', anna({ departmentId: 'DEPT002', site: site[tenantId].RTM })),
    );
  }
  return lines;
}

const running: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
});

async function twoTenants(eventLines?: string[]) {
  const inputs = await loadSandboxInputs({ tenant: data('contoso.json'), extraTenants: [data('fabrikam.json')], events: data('hr-events.ndjson'), policy: data('voice-policy.yaml'), numbers: data('numbers.json') });
  const sandbox = await Sandbox.start(eventLines ? { ...inputs, eventLines } : inputs, { storage: 'memory' });
  running.push(sandbox);
  await sandbox.enqueueEvents(eventLines ?? inputs.eventLines);
  await sandbox.runUntilQuiet();
  return { sandbox, report: await sandbox.report() };
}

describe('two tenants side by side in one deployment', () => {
  it('plays joiner, mover, leaver and rehire of the same employee id in both tenants without any crossing', async () => {
    const { sandbox, report } = await twoTenants(lifecycle());
    const [teamsA, teamsB] = sandbox.teams!.tenants;
    for (const [tenantId, teams, other] of [[CONTOSO, teamsA!, teamsB!], [FABRIKAM, teamsB!, teamsA!]] as const) {
      const anna = ANNA[tenantId];
      // The rehire within quarantine has the same number back, from this tenant's own Rotterdam pool.
      const held = report.numbers.filter((n) => n.userId === anna);
      expect(held.map((n) => n.pool).every((p) => poolsOf[tenantId].includes(p)), JSON.stringify(held)).toBe(true);
      const rtm = held.find((n) => n.pool === poolsOf[tenantId][1]);
      expect(rtm?.state).toBe('assigned');
      expect(held.find((n) => n.pool === poolsOf[tenantId][0])?.state).toBe('quarantined');
      expect(teams.user(anna)).toMatchObject({ enterpriseVoiceEnabled: true, lineUri: `tel:${rtm?.number}`, policies: { CallingLineIdentity: 'CLI-Support' } });
      // The other tenant's Teams never heard of this person.
      expect(other.user(anna)).toBeUndefined();
      expect(report.users.find((u) => u.id === anna)).toMatchObject({ tenantId, userPrincipalName: `anna.devries@${domain[tenantId]}` });
      for (const n of held) expect(n.tenantId).toBe(tenantId);
      const record = await sandbox.records.get(anna);
      expect(record?.tenantId).toBe(tenantId);
      expect(record?.history.filter((h) => h.stage === 'plan' && h.outcome === 'command').map((h) => h.eventId)).toEqual(['j', 'm', 'l', 'r'].map((e) => `${tenantId.slice(0, 8)}-${e}`));
    }
    // Every message about a person names that person's tenant, in its body and its session id.
    const tenantOf = (userId: string) => (userId === ANNA[CONTOSO] ? CONTOSO : userId === ANNA[FABRIKAM] ? FABRIKAM : 'unknown');
    const about = sandbox.sent.filter((s) => s.queue === 'user-changes' || s.queue === 'voice-commands');
    expect(about.length).toBeGreaterThanOrEqual(16);
    for (const { message } of about) {
      const body = message.body as UserChange | VoiceCommand;
      expect(body.tenantId).toBe(tenantOf(body.userId));
      expect(message.sessionId).toBe(`${tenantOf(body.userId)}:${body.userId}`);
    }
    expect(report.deadLetters).toEqual([]);
  }, 180_000);

  it('plays the bundled two-tenant sample: each tenant ends as the one-tenant sample does, and its dead letters name it', async () => {
    const { report } = await twoTenants();
    expect(report.users.map((u) => [u.tenantId, u.userPrincipalName, u.teams.lineUri !== null])).toEqual([
      [CONTOSO, 'anna.devries@contoso.example', true],
      [CONTOSO, 'bram.jansen@contoso.example', false],
      [FABRIKAM, 'anna.devries@fabrikam.example', true],
      [FABRIKAM, 'bram.jansen@fabrikam.example', false],
    ]);
    expect(report.deadLetters.map((d) => `${d.reason} ${String(d.tenantId)}`).sort()).toEqual([`NotLicensed ${CONTOSO}`, `NotLicensed ${FABRIKAM}`].sort());
    // Each tenant connects once per day its commands run on (2, 20 and 30 Nov): in between its warm
    // session idles past production's 10-minute idle timeout, on the sandbox clock.
    expect(report.metrics.connects).toBe(6);
  }, 180_000);
});

describe('each tenant is its own Graph', () => {
  let sim: GraphSimulator | undefined;
  afterEach(async () => sim?.close());

  it('refuses a token issued for another tenant, or one naming none, and serves its own', async () => {
    const tenant = parseSandboxTenantFile({ tenantId: FABRIKAM, users: [{ id: ANNA[FABRIKAM], userPrincipalName: 'anna.devries@fabrikam.example' }] });
    sim = await startGraphSimulator({ tenant, tokenTenant: FABRIKAM, clock: new SimClock('2026-11-02T08:00:00Z') });
    const get = (token: string) => fetch(`${sim!.baseUrl}/users/${ANNA[FABRIKAM]}`, { headers: { authorization: `Bearer ${token}` } });
    expect((await get(sandboxGraphToken(CONTOSO))).status).toBe(401);
    expect((await get('sandbox-token')).status).toBe(401);
    const own = await get(sandboxGraphToken(FABRIKAM));
    expect(own.status).toBe(200);
    expect(((await own.json()) as { userPrincipalName: string }).userPrincipalName).toBe('anna.devries@fabrikam.example');
  });
});

describe('the inputs of several tenants', () => {
  it('refuses the same Entra object id in two tenant files, naming both files', async () => {
    await expect(
      loadSandboxInputs({ tenant: data('contoso.json'), extraTenants: [data('contoso.json')], events: data('hr-events.ndjson'), policy: data('voice-policy.yaml') }),
    ).rejects.toThrow(SandboxInputError);
    await expect(
      loadSandboxInputs({ tenant: data('contoso.json'), extraTenants: [data('contoso.json')], events: data('hr-events.ndjson'), policy: data('voice-policy.yaml') }),
    ).rejects.toThrow(/tenantId: .* is also the tenant of .*contoso\.json/);
  });

  it('dead-letters an HR event that names no tenant when several are loaded, saying what to add', async () => {
    const line = JSON.stringify({ eventId: 'no-tenant', type: 'joiner', occurredAt: '2026-11-02T08:00:00Z', person: { employeeId: 'E1001', userPrincipalName: 'anna.devries@contoso.example' } });
    const { report } = await twoTenants([line]);
    expect(report.deadLetters).toEqual([expect.objectContaining({ queue: 'hr-events', reason: 'InvalidMessage', tenantId: null, description: expect.stringContaining('add "tenantId" to the event') })]);
  }, 120_000);
});
