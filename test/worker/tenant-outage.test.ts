/**
 * Issue 16, item 3: one tenant's throttling or broken certificate never stalls another. The worker
 * pauses a tenant that cannot be served and sets its commands aside on the bus (scheduled copies,
 * same session) instead of holding a shared receiver; the healthy tenant is served meanwhile, on the
 * same sandbox clock that never moved. Asserted on the sandbox clock and on order, never wall clock.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryBus } from '../../sandbox/bus/memory-bus.js';
import { SimClock } from '../../sandbox/clock.js';
import { startTeamsSimulator, type FaultRule, type TeamsSimulator } from '../../sandbox/teams-sim/index.js';
import type { BusClient } from '../../shared/ports/bus.js';
import { queueNames, VoiceResultSchema, type VoiceCommand, type VoiceResult } from '../../shared/contracts/messages.js';
import { DialtoneError } from '../../shared/domain/errors.js';
import { personSessionId } from '../../shared/domain/ids.js';
import { createMemoryLogger } from '../../shared/logging/logger.js';
import { inspectPfx, type CertificateSource } from '../../worker/certificate.js';
import { createWorker, type Worker, type WorkerTuning } from '../../worker/worker.js';
import { makeTestPfx } from './helpers/certificates.js';
import { APP_ID, command, desired, testTenant } from './helpers/sim.js';

const A = '11111111-1111-4111-8111-111111111111';
const B = '22222222-2222-4222-8222-222222222222';
const START = '2026-11-02T08:00:00Z';
const PFX = makeTestPfx({ commonName: 'tenant-outage' });
const MINUTE = 60_000;
/** Far more set-asides than any test here makes (a pause step per command, a few commands). */
const SCHEDULE_BOUND = 200;

function certificates(broken?: () => boolean): CertificateSource {
  return {
    description: 'the test certificate',
    load: async () => {
      if (broken?.()) throw new DialtoneError('CertificateInvalid', 'Key Vault refused the secret (Forbidden)');
      return { ...inspectPfx(PFX, null, 'test'), pfxBase64: PFX, password: null, version: 'v1' };
    },
  };
}

interface Setup {
  bus: MemoryBus;
  clock: SimClock;
  sim: TeamsSimulator;
  worker: Worker;
  send(cmd: VoiceCommand): Promise<void>;
  results(): VoiceResult[];
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The worker's own tenant is B (healthy); A is a registry tenant behind the same stand-in. */
async function setup(options: { faults?: FaultRule[]; brokenA?: () => boolean; tuning?: Partial<WorkerTuning>; workerClockSkewMs?: number } = {}): Promise<Setup> {
  const clock = new SimClock(START);
  const bus = new MemoryBus(clock, [
    { name: queueNames.voiceCommands, requiresSession: true, requiresDuplicateDetection: true, maxDeliveryCount: 10, lockDurationMs: 300_000 },
    { name: queueNames.voiceResults, requiresSession: false },
  ]);
  const sim = await startTeamsSimulator({ tenant: { ...testTenant(6), tenantId: B }, extraTenants: [{ ...testTenant(6), tenantId: A }], clock, ...(options.faults ? { faults: options.faults } : {}) });
  cleanups.push(async () => {
    await sim.close();
    await bus.close();
  });
  // The worker's view of the bus counts the copies it schedules. A runaway (a copy due at once,
  // set aside again at the same instant) is all in-memory promises and would starve the event
  // loop, so past a bound the view refuses to schedule and the test fails instead of hanging.
  let scheduled = 0;
  const workerBus: BusClient = {
    createSender: (queue) => {
      const sender = bus.createSender(queue);
      return {
        sendMessages: (m) => sender.sendMessages(m),
        createMessageBatch: (o) => sender.createMessageBatch(o),
        scheduleMessages: async (m, at) => {
          if (++scheduled > SCHEDULE_BOUND) throw new Error(`runaway: more than ${SCHEDULE_BOUND} copies scheduled`);
          return sender.scheduleMessages(m, at);
        },
        close: () => sender.close(),
      };
    },
    createReceiver: (queue, o) => bus.createReceiver(queue, o),
    acceptNextSession: (queue, o) => bus.acceptNextSession(queue, o),
    close: () => bus.close(),
  };
  const worker = await createWorker({
    bus: workerBus,
    certificates: certificates(),
    tenants: [{ tenantId: A, applicationId: APP_ID, certificates: certificates(options.brokenA) }],
    pwsh: sim.pwshCommand,
    settings: {
      tenantId: B,
      applicationId: APP_ID,
      concurrentSessions: 2,
      maxSessions: 4,
      maxSessionsPerTenant: 2,
      cmdletTimeoutMs: 20_000,
      shutdownGraceMs: 5_000,
      certificateReloadMs: 0,
      backoffMs: [5],
      tenantDeferral: { firstDelayMs: MINUTE, maxDelayMs: 10 * MINUTE, windowMs: 4 * 60 * MINUTE },
      ...options.tuning,
    },
    // The worker host's own clock, off the broker's by workerClockSkewMs.
    clock: options.workerClockSkewMs ? { now: () => new Date(clock.nowMs() + options.workerClockSkewMs!) } : clock,
    logger: createMemoryLogger('warn'),
    idleWait: (ms, signal) => (signal.aborted ? Promise.resolve() : bus.waitForActivity(Math.min(ms, 50))),
  });
  cleanups.push(() => worker.stop());
  const resultsReceiver = bus.createReceiver(queueNames.voiceResults, { receiveMode: 'receiveAndDelete' });
  const received: VoiceResult[] = [];
  let receiving = false;
  return {
    bus,
    clock,
    sim,
    worker,
    send: (cmd) =>
      bus.createSender(queueNames.voiceCommands).sendMessages({ body: cmd, messageId: cmd.commandId, sessionId: personSessionId(cmd.userId, cmd.tenantId), correlationId: cmd.correlationId }),
    results: () => {
      if (!receiving) {
        receiving = true;
        void resultsReceiver
          .receiveMessages(100, { maxWaitTimeInMs: 0 })
          .then((messages) => {
            for (const m of messages) received.push(VoiceResultSchema.parse(m.body));
          })
          .finally(() => {
            receiving = false;
          });
      }
      return received;
    },
  };
}

const forTenant = (tenantId: string, n: number, extra: Partial<VoiceCommand> = {}): VoiceCommand => ({ ...command(n), commandId: `${tenantId.slice(0, 1)}-cmd-${n}`, tenantId, version: 1, ...extra });
const ofTenant = (results: VoiceResult[], tenantId: string) => results.filter((r) => r.tenantId === tenantId);

/** Moves the sandbox clock to the bus's next scheduled message until `done`, as the sandbox's event loop does. */
async function playUntil(s: Setup, done: () => boolean, limitMs = 24 * 60 * MINUTE): Promise<void> {
  for (;;) {
    // Everything runnable now runs before the clock moves on.
    await vi.waitFor(() => expect(s.worker.busy() || s.bus.hasAcceptableSession(queueNames.voiceCommands)).toBe(false), { timeout: 60_000, interval: 20 });
    if (done()) return;
    const next = s.bus.nextDueAt();
    if (next === undefined || next - s.clock.startedAt > limitMs) return;
    s.clock.advanceTo(next);
  }
}

describe('a throttled tenant beside a healthy one', () => {
  it("serves the healthy tenant without waiting while the throttled tenant's commands wait on the bus, then applies those once it is back", async () => {
    const throttledFor = 30 * MINUTE;
    const s = await setup({ faults: [{ kind: 'busy', tenantId: A, untilMs: throttledFor }] });
    // A's commands are the oldest sessions on the queue: the broker offers them first.
    for (let n = 1; n <= 6; n++) await s.send(forTenant(A, n));
    for (let n = 1; n <= 3; n++) await s.send(forTenant(B, n));
    s.worker.start();

    await vi.waitFor(() => expect(ofTenant(s.results(), B)).toHaveLength(3), { timeout: 120_000, interval: 50 });
    // B is done at the very start of sandbox time: nothing of A's made it wait for the clock.
    expect(s.clock.elapsedMs()).toBe(0);
    expect(ofTenant(s.results(), B).map((r) => r.status)).toEqual(['applied', 'applied', 'applied']);
    for (let n = 1; n <= 3; n++) expect(s.sim.tenants[0]!.user(command(n).userId)?.lineUri).toBe(`tel:${desired(n).phoneNumber}`);
    // A: nothing lost, nothing dead-lettered, nothing published yet; every command waits on the bus.
    await vi.waitFor(() => expect(s.worker.stats().consumer.deferred).toBeGreaterThanOrEqual(6), { timeout: 60_000, interval: 50 });
    expect(ofTenant(s.results(), A)).toEqual([]);
    expect(s.bus.deadLetterMessages()).toEqual([]);
    // Once paused, no command of A reached Teams: only those already running (two receivers, three
    // attempts each) met the fault.
    expect(s.sim.metrics().faultsInjected).toBeLessThanOrEqual(2 * 3);

    await playUntil(s, () => ofTenant(s.results(), A).length === 6);
    const resultsA = ofTenant(s.results(), A);
    expect(resultsA.map((r) => r.status)).toEqual(Array(6).fill('applied'));
    // They ran once A was back, not before.
    for (const r of resultsA) expect(Date.parse(r.finishedAt) - Date.parse(START)).toBeGreaterThanOrEqual(throttledFor);
    for (let n = 1; n <= 6; n++) expect(s.sim.tenants[1]!.user(command(n).userId)?.lineUri).toBe(`tel:${desired(n).phoneNumber}`);
    expect(s.bus.deadLetterMessages()).toEqual([]);
  }, 240_000);

  it('sets a command aside once per pause step on a worker host whose clock is 5 minutes behind the broker, not again and again as the broker delivers it "early"', async () => {
    const throttledFor = 30 * MINUTE;
    const s = await setup({ faults: [{ kind: 'busy', tenantId: A, untilMs: throttledFor }], workerClockSkewMs: -5 * MINUTE });
    for (let n = 1; n <= 3; n++) await s.send(forTenant(A, n));
    s.worker.start();
    await playUntil(s, () => ofTenant(s.results(), A).length === 3);
    expect(ofTenant(s.results(), A).map((r) => r.status)).toEqual(['applied', 'applied', 'applied']);
    // The pause doubles from 1 minute to its 10-minute cap: six set-asides per command cover the 30
    // minutes (18 here, as on a host with the broker's time). A copy scheduled on the slow host's
    // clock was due at once on the broker's, came straight back and was set aside again at the same
    // instant, without end (the bounded bus view above stops it, and nothing was applied).
    expect(s.worker.stats().consumer.deferred).toBeLessThanOrEqual(3 * 7);
    expect(s.bus.deadLetterMessages()).toEqual([]);
  }, 240_000);

  it("gives a command up after the documented window with a result that says why and what to do, not before", async () => {
    const windowMs = 60 * MINUTE;
    const s = await setup({ faults: [{ kind: 'throttle', tenantId: A }], tuning: { tenantDeferral: { firstDelayMs: MINUTE, maxDelayMs: 10 * MINUTE, windowMs } } });
    await s.send(forTenant(A, 1));
    await s.send(forTenant(B, 1));
    s.worker.start();
    await vi.waitFor(() => expect(ofTenant(s.results(), B)).toHaveLength(1), { timeout: 120_000, interval: 50 });
    await playUntil(s, () => ofTenant(s.results(), A).length === 1);
    const [given] = ofTenant(s.results(), A);
    expect(given).toMatchObject({
      status: 'failed',
      tenantId: A,
      error: { class: 'transient', code: 'Throttled', message: expect.stringMatching(new RegExp(`tenant ${A} could not be served for 60 min .*It was not run while the tenant was paused.*dialtone dlq replay --tenant-id ${A}`)) },
    });
    expect(Date.parse(given!.finishedAt) - Date.parse(START)).toBeGreaterThanOrEqual(windowMs);
  }, 240_000);

  it('keeps the newest truth per person: a later command set aside with an earlier one is never undone by it', async () => {
    const s = await setup({ faults: [{ kind: 'throttle', tenantId: A, untilMs: 20 * MINUTE }] });
    const first = forTenant(A, 1, { commandId: 'a-first', version: 1, desired: desired(1, { phoneNumber: '+31201234201' }), allocation: { pool: 'ams', number: '+31201234201' } });
    const second = forTenant(A, 1, { commandId: 'a-second', version: 2, desired: desired(1, { phoneNumber: '+31201234202' }), allocation: { pool: 'ams', number: '+31201234202' } });
    await s.send(first);
    s.worker.start();
    await vi.waitFor(() => expect(s.worker.stats().consumer.deferred).toBe(1), { timeout: 60_000, interval: 50 });
    // The newer plan arrives while the tenant is paused.
    s.clock.advance(5 * MINUTE);
    await s.send(second);
    await playUntil(s, () => ofTenant(s.results(), A).length === 2);
    const results = ofTenant(s.results(), A);
    expect(results).toHaveLength(2);
    // Whatever the order the two came back in, the person ends with the newer plan, and the older
    // command ran (if at all) only before it.
    expect(s.sim.tenants[1]!.user(command(1).userId)?.lineUri).toBe('tel:+31201234202');
    const secondAt = results.findIndex((r) => r.commandId === 'a-second');
    expect(results[secondAt]?.status).toBe('applied');
    const firstResult = results.find((r) => r.commandId === 'a-first');
    if (results.indexOf(firstResult!) > secondAt) expect(firstResult?.status).toBe('superseded');
  }, 240_000);

  it('skips a command older than the version the session state says another worker applied', async () => {
    const s = await setup();
    const session = personSessionId(command(1).userId, A);
    await s.send(forTenant(A, 1, { commandId: 'a-old', version: 3 }));
    const held = await s.bus.acceptNextSession(queueNames.voiceCommands);
    expect(held.sessionId).toBe(session);
    await held.setSessionState({ newestAppliedVersion: 4 });
    await held.close();
    s.worker.start();
    await vi.waitFor(() => expect(ofTenant(s.results(), A)).toHaveLength(1), { timeout: 60_000, interval: 50 });
    expect(ofTenant(s.results(), A)[0]).toMatchObject({ commandId: 'a-old', status: 'superseded', version: 3 });
    expect(s.sim.tenants[1]!.user(command(1).userId)?.lineUri ?? null).toBeNull();
  }, 120_000);
});

describe("a tenant whose certificate cannot be loaded beside a healthy one", () => {
  it("serves the healthy tenant at once and applies the broken tenant's commands once its certificate loads again, none dead-lettered", async () => {
    let broken = true;
    const s = await setup({ brokenA: () => broken });
    for (let n = 1; n <= 4; n++) await s.send(forTenant(A, n));
    for (let n = 1; n <= 2; n++) await s.send(forTenant(B, n));
    s.worker.start();
    await vi.waitFor(() => expect(ofTenant(s.results(), B)).toHaveLength(2), { timeout: 120_000, interval: 50 });
    expect(s.clock.elapsedMs()).toBe(0);
    await vi.waitFor(() => expect(s.worker.stats().consumer.deferred).toBeGreaterThanOrEqual(4), { timeout: 60_000, interval: 50 });
    expect(ofTenant(s.results(), A)).toEqual([]);
    // The operator fixes the certificate 20 sandbox minutes later; the worker loads it again by itself.
    await playUntil(s, () => s.clock.elapsedMs() >= 20 * MINUTE);
    broken = false;
    const fixedAt = s.clock.elapsedMs();
    await playUntil(s, () => ofTenant(s.results(), A).length === 4);
    const resultsA = ofTenant(s.results(), A);
    expect(resultsA.map((r) => r.status)).toEqual(Array(4).fill('applied'));
    for (const r of resultsA) expect(Date.parse(r.finishedAt) - Date.parse(START)).toBeGreaterThanOrEqual(fixedAt);
    expect(s.bus.deadLetterMessages()).toEqual([]);
  }, 240_000);
});
