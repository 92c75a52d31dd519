import { afterEach, describe, expect, it, vi } from 'vitest';
import { BusError } from '../../sandbox/bus/bus-error.js';
import { MemoryBus } from '../../sandbox/bus/memory-bus.js';
import { SimClock } from '../../sandbox/clock.js';
import { queueNames, type VoiceResult } from '../../shared/contracts/messages.js';
import { createMemoryLogger } from '../../shared/logging/logger.js';
import type { BusClient } from '../../shared/ports/bus.js';
import { VoiceCommandConsumer } from '../../worker/consumer.js';
import { command, resultFor, startHarness, type SimHarness } from './helpers/sim.js';

// Issue 8 defect 6: a lost lock must stop PowerShell writes (the running cmdlet, its process) and
// the aborted attempt's result must not be published.
let harness: SimHarness | undefined;
const consumers: VoiceCommandConsumer[] = [];
afterEach(async () => {
  for (const c of consumers.splice(0)) await c.stop(1_000);
  await harness?.close();
  harness = undefined;
});

describe('a lost message lock', () => {
  it('stops the running cmdlet by retiring its pwsh process, and runs no further write', async () => {
    // The cmdlet timeout is far beyond the test's, so only the lost lock can end the hung call.
    harness = await startHarness({ cmdletTimeoutMs: 600_000 });
    harness.sim.setFaults([{ kind: 'hang', cmdlet: 'Set-CsPhoneNumberAssignment' }]);
    const lock = new AbortController();
    const applying = harness.apply(command(1), { signal: lock.signal });
    await vi.waitFor(() => expect(harness?.sim.metrics().byCmdlet['Set-CsPhoneNumberAssignment']).toBe(1), { timeout: 60_000 });
    lock.abort();
    const result = await Promise.race([applying, new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), 60_000))]);
    expect(result).not.toBe('still running');
    expect((result as VoiceResult).status).toBe('failed');
    await vi.waitFor(() => expect([harness?.pool.stats().live, harness?.sim.liveProcesses()]).toEqual([0, 0]), { timeout: 30_000 });
    const ran = harness.sim.metrics().byCmdlet;
    expect(Object.keys(ran).filter((c) => c.startsWith('Grant-'))).toEqual([]);
    expect(ran['Set-CsPhoneNumberAssignment']).toBe(1);
  }, 240_000);

  it('keeps the aborted attempt\'s result off voice-results', async () => {
    const clock = new SimClock();
    const bus = new MemoryBus(clock, [
      { name: queueNames.voiceCommands, requiresSession: true, maxDeliveryCount: 5 },
      { name: queueNames.voiceResults, requiresSession: false },
    ]);
    const lockLost: BusClient = {
      createSender: (q) => bus.createSender(q),
      createReceiver: (q, o) => bus.createReceiver(q, o),
      acceptNextSession: async (q, o) => {
        const receiver = await bus.acceptNextSession(q, o);
        return Object.assign(Object.create(receiver) as typeof receiver, {
          renewSessionLock: () => Promise.reject(new BusError('SessionLockLost', 'The session lock has expired on the session.')),
        });
      },
      close: () => bus.close(),
    };
    let sawAbort = false;
    const consumer = new VoiceCommandConsumer({
      bus: lockLost,
      logger: createMemoryLogger(),
      concurrentSessions: 1,
      maxDeliveryCount: 5,
      lockRenewalIntervalMs: 10,
      idleWaitMs: 10,
      idleWait: (ms) => bus.waitForActivity(ms),
      apply: async (cmd, signal) => {
        await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
        sawAbort = true;
        // What an aborted attempt saw: it must not become the record's truth.
        return resultFor(cmd, { status: 'applied' });
      },
    });
    consumers.push(consumer);
    const cmd = command(1);
    await bus.createSender(queueNames.voiceCommands).sendMessages({ body: cmd, sessionId: cmd.userId, messageId: 'm1' });
    consumer.start();
    await vi.waitFor(() => expect(sawAbort).toBe(true), { timeout: 30_000 });
    await consumer.stop(1_000);
    expect(bus.availableCount(queueNames.voiceResults)).toBe(0);
    expect(consumer.stats().results).toBe(0);
  });

  it('a renewal answered only after the lock expired: the attempt that ended meanwhile publishes nothing, settles nothing, and the redelivery is applied once', async () => {
    const clock = new SimClock();
    const bus = new MemoryBus(clock, [
      { name: queueNames.voiceCommands, requiresSession: true, maxDeliveryCount: 5, lockDurationMs: 30_000 },
      { name: queueNames.voiceResults, requiresSession: false },
    ]);
    // The first renewal reaches the broker only after the session lock expired there.
    bus.setFaults({ rules: [], lateRenewals: { times: 1 } });
    const logger = createMemoryLogger();
    const attempts: number[] = [];
    const consumer = new VoiceCommandConsumer({
      bus,
      logger,
      // A second loop takes the session once the broker has dropped the first one's lock.
      concurrentSessions: 2,
      maxDeliveryCount: 5,
      lockRenewalIntervalMs: 10,
      idleWaitMs: 10,
      idleWait: (ms) => bus.waitForActivity(ms),
      apply: async (cmd) => {
        const attempt = attempts.push(attempts.length + 1);
        if (attempt === 1) {
          // PowerShell runs while the renewal is on its way, and the lock's 30 s run out.
          await vi.waitFor(() => expect(bus.faultCounts()['LateRenewal:renewLock']).toBe(1), { timeout: 30_000 });
          clock.advance(31_000);
        }
        return resultFor(cmd, { status: attempt === 1 ? 'applied' : 'noop', finishedAt: attempt === 1 ? '2026-11-02T08:00:00.000Z' : '2026-11-02T08:01:00.000Z' });
      },
    });
    consumers.push(consumer);
    const cmd = command(1);
    await bus.createSender(queueNames.voiceCommands).sendMessages({ body: cmd, sessionId: cmd.userId, messageId: 'm1' });
    consumer.start();
    await vi.waitFor(() => expect(consumer.stats().results).toBe(1), { timeout: 30_000 });
    await vi.waitFor(() => expect([bus.availableCount(queueNames.voiceCommands), bus.inFlightCount(queueNames.voiceCommands)]).toEqual([0, 0]), { timeout: 30_000 });
    await consumer.stop(1_000);
    expect(attempts).toEqual([1, 2]);
    // The one result is the redelivery's: the first attempt did not publish as if it held the lock.
    const results = await bus.createReceiver(queueNames.voiceResults).receiveMessages(10);
    expect(results.map((m) => (m.body as VoiceResult).finishedAt)).toEqual(['2026-11-02T08:01:00.000Z']);
    expect(logger.lines.filter((l) => l.includes('"voice command attempt aborted after its lock was lost; its result is not published"'))).toHaveLength(1);
    expect(logger.lines.filter((l) => l.includes('could not be settled'))).toEqual([]);
    expect(bus.deadLetterMessages()).toEqual([]);
  });
});

