/**
 * Issue 16, item 2: the tenant on every message and record. Events carry tenantId or are routed
 * by UPN domain; the tenant goes onto the user change, the command, its result, the record and the
 * tenant-scoped session id; a person belongs to one tenant, so a misrouted message touches nothing.
 * Messages without tenantId keep working exactly as before.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createStaticPolicyCatalog } from '../../shared/adapters/file-policy-catalog.js';
import { createMemoryNumberInventory } from '../../shared/adapters/memory-number-inventory.js';
import { createMemoryProvisioningRecords } from '../../shared/adapters/memory-provisioning-records.js';
import { HrEventSchema, MCOEV_SERVICE_PLAN_ID, UserChangeSchema, VoiceCommandSchema, type DirectoryUser, type HrEvent, type UserChange, type VoiceCommand, type VoiceResult } from '../../shared/contracts/messages.js';
import { parseVoicePolicy } from '../../shared/domain/policy.js';
import { effectiveTenants, implicitTenant } from '../../shared/domain/tenants.js';
import { correlateEvent } from '../../shared/usecases/correlate-event.js';
import { planVoice, type PlanDeps } from '../../shared/usecases/plan-voice.js';
import { recordResult } from '../../shared/usecases/record-result.js';
import { voiceResultFields } from '../../shared/domain/voice-result.js';
import { SimClock } from '../../sandbox/clock.js';
import { samplePools } from '../integration/sandbox-fixtures.js';
import { registeredTenant } from './fixtures.js';

const A = '11111111-1111-4111-8111-111111111111';
const B = '22222222-2222-4222-8222-222222222222';
const APP = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const USER_A = '00000000-0000-4000-8000-0000000000a1';
const USER_B = '00000000-0000-4000-8000-0000000000b1';
const registered = (tenantId: string, name: string, domain: string) =>
  registeredTenant(tenantId, name, { applicationId: APP, upnDomains: [domain], teamsBackend: 'powershell' });
const tenants = effectiveTenants([registered(A, 'Contoso', 'contoso.example'), registered(B, 'Fabrikam', 'fabrikam.example')], implicitTenant({ tenantId: undefined }));
const clock = new SimClock('2026-11-02T08:00:00Z');
const user = (id: string, upn: string): DirectoryUser => ({ id, userPrincipalName: upn, accountEnabled: true, officeLocation: 'AMS', assignedPlans: [{ servicePlanId: MCOEV_SERVICE_PLAN_ID, capabilityStatus: 'Enabled' }] });
const people: Record<string, DirectoryUser> = { 'anna@contoso.example': user(USER_A, 'anna@contoso.example'), 'anna@fabrikam.example': user(USER_B, 'anna@fabrikam.example') };
const directory = { findUsers: async (_s: string, value: string) => (people[value] ? [people[value]] : []), getUser: async (id: string) => Object.values(people).find((u) => u.id === id) };
const event = (person: HrEvent['person'], tenantId?: string): HrEvent => HrEventSchema.parse({ eventId: 'e1', type: 'joiner', occurredAt: '2026-11-02T08:00:00Z', person, ...(tenantId ? { tenantId } : {}) });
const strategies = ['userPrincipalName' as const];

describe('correlate puts the tenant on the user change', () => {
  it('takes the tenantId the event names and scopes the session id by it', async () => {
    const out = await correlateEvent(event({ employeeId: 'E1', userPrincipalName: 'anna@fabrikam.example' }, B.toUpperCase()), 'c1', { directory, clock, strategies, tenants });
    const message = out.send?.[0]?.messages[0];
    expect(message).toMatchObject({ sessionId: `${B}:${USER_B}`, body: { userId: USER_B, tenantId: B } });
    expect(UserChangeSchema.parse(message?.body).tenantId).toBe(B);
  });

  it('routes an event without tenantId by its UPN domain', async () => {
    const out = await correlateEvent(event({ employeeId: 'E1', userPrincipalName: 'anna@contoso.example' }), 'c1', { directory, clock, strategies, tenants });
    expect(out.send?.[0]?.messages[0]).toMatchObject({ sessionId: `${A}:${USER_A}`, body: { tenantId: A } });
  });

  it('dead-letters an event it cannot place, saying what to add', async () => {
    const out = await correlateEvent(event({ employeeId: 'E1', userPrincipalName: 'anna@elsewhere.example' }), 'c1', { directory, clock, strategies, tenants });
    expect(out.outcome).toMatchObject({ kind: 'permanent', code: 'InvalidMessage', message: expect.stringMatching(/^tenantId: the event names no tenantId/) });
    expect(out.send).toBeUndefined();
  });

  it('refuses a tenantId that names no tenant of the deployment', async () => {
    const out = await correlateEvent(event({ employeeId: 'E1', userPrincipalName: 'anna@contoso.example' }, '33333333-3333-4333-8333-333333333333'), 'c1', { directory, clock, strategies, tenants });
    expect(out.outcome).toMatchObject({ kind: 'permanent', code: 'InvalidMessage', message: expect.stringContaining('is not a tenant of this deployment') });
  });

  it('leaves a single-tenant deployment\'s messages as they were: no tenantId, the object id as session', async () => {
    for (const t of [undefined, [implicitTenant({ tenantId: A })]]) {
      const out = await correlateEvent(event({ employeeId: 'E1', userPrincipalName: 'anna@contoso.example' }), 'c1', { directory, clock, strategies, ...(t ? { tenants: t } : {}) });
      const message = out.send?.[0]?.messages[0];
      expect(message?.sessionId).toBe(USER_A);
      expect(message?.body).not.toHaveProperty('tenantId');
    }
  });

  it('finds a deleted leaver only among the records of the event\'s own tenant (employee ids repeat across tenants)', async () => {
    const records = createMemoryProvisioningRecords();
    const empty = { userId: '', userPrincipalName: '', lastApplied: null, lastAppliedAt: null, lastCommandId: null, lastEventAt: null, lastEventId: null, history: [] };
    await records.update('gone-a', () => ({ ...empty, userId: 'gone-a', tenantId: A, userPrincipalName: 'piet@contoso.example', person: { employeeId: 'E7' } }));
    await records.update('gone-b', () => ({ ...empty, userId: 'gone-b', tenantId: B, userPrincipalName: 'piet@fabrikam.example', person: { employeeId: 'E7' } }));
    const leaver = { ...event({ employeeId: 'E7' }, B), type: 'leaver' as const };
    const out = await correlateEvent(leaver, 'c1', { directory, clock, strategies: ['employeeId'], tenants, records });
    expect(out.send?.[0]?.messages[0]).toMatchObject({ sessionId: `${B}:gone-b`, body: { userId: 'gone-b', tenantId: B } });
  });
});

const policy = parseVoicePolicy(readFileSync(fileURLToPath(new URL('../../sandbox/data/voice-policy.yaml', import.meta.url)), 'utf8'), 'yaml', 'voice-policy.yaml');

async function planner() {
  const records = createMemoryProvisioningRecords();
  // A is the deployment's own tenant (DIALTONE_TENANT_ID); both tenants have the sample's pool ids,
  // each in its own inventory, with ranges of their own (B's: +32 instead of +31).
  const inventory = createMemoryNumberInventory({ defaultTenantId: A });
  await inventory.forTenant(A).importPools(samplePools(), { now: clock.now(), correlationId: 'import' });
  const shifted = samplePools().map((pool) => ({ ...pool, ranges: pool.ranges.map((r) => ({ ...r, from: r.from.replace('+31', '+32'), to: r.to.replace('+31', '+32') })) }));
  await inventory.forTenant(B).importPools(shifted, { now: clock.now(), correlationId: 'import' });
  const deps: PlanDeps = {
    directory,
    records,
    inventory,
    catalog: createStaticPolicyCatalog([{ identity: 'Tag:CLI-Sales', description: 'DEPT001' }]),
    policy,
    clock,
    snapshotMaxAgeMs: 300_000,
    reservationTtlMs: 86_400_000,
  };
  const change = (tenantId: string | undefined, eventId = 'j1'): UserChange => ({
    userId: USER_A,
    ...(tenantId ? { tenantId } : {}),
    source: 'hr',
    changeType: 'joiner',
    eventId,
    correlationId: eventId,
    occurredAt: clock.now().toISOString(),
    person: { employeeId: 'E1', site: 'AMS', departmentId: 'DEPT001' },
  });
  return { records, inventory, deps, change };
}

describe('plan and record keep the tenant', () => {
  it('carries the tenant onto the command, its session and the record, and back on the result', async () => {
    const p = await planner();
    const out = await planVoice(p.change(A), p.deps);
    const message = out.send?.[0]?.messages[0];
    expect(message?.sessionId).toBe(`${A}:${USER_A}`);
    const command: VoiceCommand = VoiceCommandSchema.parse(message?.body);
    expect(command.tenantId).toBe(A);
    expect((await p.records.get(USER_A))?.tenantId).toBe(A);
    const result: VoiceResult = { ...voiceResultFields(command, clock.now(), [], null, 1), status: 'applied' };
    expect(result.tenantId).toBe(A);
    expect((await recordResult(result, { records: p.records, inventory: p.inventory, clock })).outcome.kind).toBe('done');
    expect((await p.records.get(USER_A))?.lastApplied?.phoneNumber).toBe(command.desired.phoneNumber);
  });

  it('refuses a change for a person of another tenant and plans nothing of it', async () => {
    const p = await planner();
    await planVoice(p.change(A), p.deps);
    const before = await p.records.get(USER_A);
    const out = await planVoice(p.change(B, 'j2'), p.deps);
    expect(out.outcome).toMatchObject({ kind: 'permanent', code: 'InvalidMessage', message: `tenantId: ${USER_A} belongs to tenant ${A}, not ${B}; nothing of it is planned` });
    expect(out.send).toBeUndefined();
    expect(await p.records.get(USER_A)).toEqual(before);
  });

  it('refuses a result naming another tenant than the person\'s, recording nothing', async () => {
    const p = await planner();
    const command = VoiceCommandSchema.parse((await planVoice(p.change(A), p.deps)).send?.[0]?.messages[0]?.body);
    const before = await p.records.get(USER_A);
    const forged: VoiceResult = { ...voiceResultFields({ ...command, tenantId: B }, clock.now(), [], null, 1), status: 'applied' };
    const out = await recordResult(forged, { records: p.records, inventory: p.inventory, clock });
    expect(out.outcome).toMatchObject({ kind: 'permanent', code: 'InvalidMessage', message: expect.stringContaining(`belongs to tenant ${A}, not ${B}`) });
    expect(await p.records.get(USER_A)).toEqual(before);
    const held = await p.inventory.list({ userId: USER_A });
    expect(held.map((n) => n.state)).toEqual(['reserved']);
  });

  it("sends a command for a change naming no tenant to the person's recorded tenant, not the home tenant", async () => {
    // A resync, replay or notification without tenantId for a person of registered tenant B: plan
    // reads B's directory and B's inventory (the record's tenant), so the command is B's too.
    const p = await planner();
    await planVoice(p.change(B), p.deps);
    const out = await planVoice({ ...p.change(undefined, 'j2'), source: 'graph', changeType: 'updated' }, p.deps);
    const message = out.send?.[0]?.messages[0];
    expect(message?.sessionId).toBe(`${B}:${USER_A}`);
    const command = VoiceCommandSchema.parse(message?.body);
    expect(command.tenantId).toBe(B);
    expect(command.desired.phoneNumber?.startsWith('+32')).toBe(true);
  });

  it('keeps working for messages without a tenant (the default tenant)', async () => {
    const p = await planner();
    const out = await planVoice(p.change(undefined), p.deps);
    const message = out.send?.[0]?.messages[0];
    expect(message?.sessionId).toBe(USER_A);
    expect(message?.body).not.toHaveProperty('tenantId');
    expect(await p.records.get(USER_A)).not.toHaveProperty('tenantId');
  });
});

describe('two tenants with the same employee ids, UPN local parts and department ids', () => {
  it('keep their people, records, commands and numbers apart', async () => {
    const p = await planner();
    const commands: VoiceCommand[] = [];
    for (const [tenantId, upn] of [[A, 'anna@contoso.example'], [B, 'anna@fabrikam.example']] as const) {
      const correlated = await correlateEvent(event({ employeeId: 'E1', userPrincipalName: upn, departmentId: 'DEPT001', site: 'AMS' }, tenantId), `c-${tenantId}`, { directory, clock, strategies, tenants });
      const change = UserChangeSchema.parse(correlated.send?.[0]?.messages[0]?.body);
      const planned = await planVoice(change, p.deps);
      commands.push(VoiceCommandSchema.parse(planned.send?.[0]?.messages[0]?.body));
    }
    expect(commands.map((c) => [c.tenantId, c.userId])).toEqual([
      [A, USER_A],
      [B, USER_B],
    ]);
    expect(commands[0]?.desired.phoneNumber).not.toBe(commands[1]?.desired.phoneNumber);
    expect((await p.records.get(USER_A))?.tenantId).toBe(A);
    expect((await p.records.get(USER_B))?.tenantId).toBe(B);
    for (const c of commands) {
      const result: VoiceResult = { ...voiceResultFields(c, clock.now(), [], null, 1), status: 'applied' };
      await recordResult(result, { records: p.records, inventory: p.inventory, clock });
    }
    const held = await Promise.all([[A, USER_A], [B, USER_B]].map(async ([t, u]) => (await p.inventory.forTenant(t).list({ userId: u })).map((n) => [n.number, n.state])));
    expect(held).toEqual([[[commands[0]?.desired.phoneNumber, 'assigned']], [[commands[1]?.desired.phoneNumber, 'assigned']]]);
    // Same pool id, each tenant's own range, and neither sees the other's person.
    expect(commands[0]?.desired.phoneNumber?.startsWith('+31')).toBe(true);
    expect(commands[1]?.desired.phoneNumber?.startsWith('+32')).toBe(true);
    expect(await p.inventory.forTenant(A).list({ userId: USER_B })).toEqual([]);
    expect(await p.inventory.forTenant(B).list({ userId: USER_A })).toEqual([]);
  });
});
