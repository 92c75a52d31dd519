import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createStaticPolicyCatalog } from '../../shared/adapters/file-policy-catalog.js';
import { createMemoryNumberInventory } from '../../shared/adapters/memory-number-inventory.js';
import { createMemoryProvisioningRecords } from '../../shared/adapters/memory-provisioning-records.js';
import { MCOEV_SERVICE_PLAN_ID, VoiceCommandSchema, type DirectoryUser, type UserChange, type VoiceCommand, type VoiceResult } from '../../shared/contracts/messages.js';
import { parseVoicePolicy } from '../../shared/domain/policy.js';
import { planVoice, type PlanDeps } from '../../shared/usecases/plan-voice.js';
import { recordResult } from '../../shared/usecases/record-result.js';
import { SimClock } from '../../sandbox/clock.js';
import { samplePools } from '../integration/sandbox-fixtures.js';

const U1 = '00000000-0000-4000-8000-0000000000c4';
const policy = parseVoicePolicy(readFileSync(fileURLToPath(new URL('../../sandbox/data/voice-policy.yaml', import.meta.url)), 'utf8'), 'yaml', 'voice-policy.yaml');
const directoryUser: DirectoryUser = {
  id: U1,
  userPrincipalName: 'carla@contoso.example',
  accountEnabled: true,
  officeLocation: 'AMS',
  assignedPlans: [{ servicePlanId: MCOEV_SERVICE_PLAN_ID, capabilityStatus: 'Enabled' }],
};

async function pipeline() {
  const clock = new SimClock('2026-11-02T08:00:00Z');
  const records = createMemoryProvisioningRecords();
  const inventory = createMemoryNumberInventory();
  await inventory.importPools(samplePools(), { now: clock.now(), correlationId: 'import' });
  const deps: PlanDeps = {
    directory: { findUsers: async () => [directoryUser], getUser: async () => directoryUser },
    records,
    inventory,
    catalog: createStaticPolicyCatalog([
      { identity: 'Tag:CLI-Sales', description: 'DEPT001' },
      { identity: 'Tag:CLI-Support', description: 'DEPT002' },
    ]),
    policy,
    clock,
    snapshotMaxAgeMs: 300_000,
    reservationTtlMs: 86_400_000,
  };
  const plan = async (eventId: string, changeType: 'joiner' | 'mover' | 'leaver', site: string): Promise<VoiceCommand> => {
    clock.advance(60_000);
    const change: UserChange = { userId: U1, source: 'hr', changeType, eventId, correlationId: eventId, occurredAt: clock.now().toISOString(), person: { employeeId: 'E1', site, departmentId: 'DEPT001' } };
    const out = await planVoice(change, deps);
    const body = out.send?.[0]?.messages[0]?.body;
    return VoiceCommandSchema.parse(body);
  };
  /** What the worker publishes after applying a command with writes (as it would reach `record`). */
  const applied = (command: VoiceCommand): VoiceResult => ({
    ...command,
    finishedAt: clock.now().toISOString(),
    status: 'applied',
    steps: [{ cmdlet: 'Set-CsPhoneNumberAssignment', parameters: {}, write: true, ok: true }],
    actual: null,
    attempts: 1,
  });
  return { clock, records, inventory, plan, applied, record: (r: VoiceResult) => recordResult(r, { records, inventory, clock }) };
}

describe('results recorded out of order (reschedules, several record instances)', () => {
  it('ignores a mover\'s result that arrives after the leaver\'s result, so voice stays off and no number stays assigned', async () => {
    const p = await pipeline();
    const joiner = await p.plan('j1', 'joiner', 'AMS');
    await p.record(p.applied(joiner));
    const mover = await p.plan('m1', 'mover', 'RTM');
    const leaver = await p.plan('l1', 'leaver', 'RTM');
    // The worker applied mover then leaver in order; the mover's result was rescheduled behind the leaver's.
    await p.record(p.applied(leaver));
    const late = await p.record(p.applied(mover));

    const record = await p.records.get(U1);
    expect(record?.lastApplied).toMatchObject({ enterpriseVoiceEnabled: false, phoneNumber: null });
    const held = (await p.inventory.list({ userId: U1 })).filter((n) => n.state === 'assigned' || n.state === 'reserved');
    expect(held).toEqual([]);
    expect(record?.history.at(-1)).toMatchObject({ stage: 'record', outcome: 'superseded', commandId: mover.commandId });
    // It changed Teams, so the person is re-planned from the newest truth rather than trusted blindly.
    expect(late.send?.[0]?.messages[0]?.body).toMatchObject({ userId: U1, reapply: true });
  });

  it('records results that arrive in order as before', async () => {
    const p = await pipeline();
    const joiner = await p.plan('j1', 'joiner', 'AMS');
    await p.record(p.applied(joiner));
    const mover = await p.plan('m1', 'mover', 'RTM');
    await p.record(p.applied(mover));
    const record = await p.records.get(U1);
    expect(record?.lastApplied?.phoneNumber).toBe('+31101234500');
    expect(record?.appliedVersion).toBe(2);
    const states = Object.fromEntries((await p.inventory.list({ userId: U1 })).map((n) => [n.number, n.state]));
    expect(states).toEqual({ '+31101234500': 'assigned', '+31201234000': 'quarantined' });
  });
});

describe('a failed result and the number it was given', () => {
  const failed = (command: VoiceCommand, errorClass: 'transient' | 'permanent', teamsNumber: string | null, clockNow: string): VoiceResult => ({
    ...command,
    finishedAt: clockNow,
    status: 'failed',
    steps: [],
    actual: { enterpriseVoiceEnabled: teamsNumber !== null, phoneNumber: teamsNumber, phoneSystemLicensed: true, policies: {} },
    attempts: 3,
    error: { class: errorClass, code: errorClass === 'transient' ? 'ServiceUnavailable' : 'PolicyNotFound', message: 'Teams said no' },
  });

  it('confirms the number of a transient failure when Teams already took it (the session died after the write), so the inventory agrees with Teams', async () => {
    const p = await pipeline();
    const joiner = await p.plan('j1', 'joiner', 'AMS');
    const number = joiner.allocation!.number;
    const out = await p.record(failed(joiner, 'transient', number, p.clock.now().toISOString()));
    expect(out.outcome).toMatchObject({ kind: 'permanent', code: 'ServiceUnavailable' });
    expect((await p.inventory.list({ userId: U1 })).map((n) => [n.number, n.state])).toEqual([[number, 'assigned']]);
  });

  it('keeps the reservation of a transient failure Teams did not take, for the replay; a permanent one gives it back', async () => {
    const p = await pipeline();
    const joiner = await p.plan('j1', 'joiner', 'AMS');
    const number = joiner.allocation!.number;
    await p.record(failed(joiner, 'transient', null, p.clock.now().toISOString()));
    expect((await p.inventory.list({ userId: U1 })).map((n) => [n.number, n.state])).toEqual([[number, 'reserved']]);
    await p.record(failed(joiner, 'permanent', null, p.clock.now().toISOString()));
    expect((await p.inventory.list({ userId: U1 })).filter((n) => n.state === 'reserved' || n.state === 'assigned')).toEqual([]);
  });

  it('re-plans the person, and records no failure, when an operator replays a failed result', async () => {
    const p = await pipeline();
    const joiner = await p.plan('j1', 'joiner', 'AMS');
    const out = await recordResult(failed(joiner, 'transient', null, p.clock.now().toISOString()), { records: p.records, inventory: p.inventory, clock: p.clock }, { replayCount: 1 });
    expect(out.outcome).toMatchObject({ kind: 'done' });
    expect(out.send?.[0]).toMatchObject({ queue: 'user-changes', messages: [{ body: { userId: U1, source: 'resync', changeType: 'updated', eventId: 'j1~replay1' }, subject: 'replan' }] });
    expect((await p.records.get(U1))?.history.at(-1)).toMatchObject({ stage: 'record', outcome: 'replayed', commandId: joiner.commandId });
  });
});
