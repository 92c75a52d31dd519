import { afterEach, describe, expect, it, vi } from 'vitest';
import { BusError } from '../../sandbox/bus/bus-error.js';
import { MemoryBus } from '../../sandbox/bus/memory-bus.js';
import { SimClock } from '../../sandbox/clock.js';
import { queueNames, type VoiceResult } from '../../shared/contracts/messages.js';
import { createMemoryLogger } from '../../shared/logging/logger.js';
import type { BusClient } from '../../shared/ports/bus.js';
import { busErrorAction } from '../../worker/bus-errors.js';
import { VoiceCommandConsumer, type ConsumerOptions } from '../../worker/consumer.js';
import { command, resultFor } from './helpers/sim.js';

const consumers: VoiceCommandConsumer[] = [];
afterEach(async () => {
  for (const c of consumers.splice(0)) await c.stop(1_000);
});

function setup(wrap: (bus: MemoryBus) => BusClient = (bus) => bus, overrides: Partial<ConsumerOptions> = {}) {
  const clock = new SimClock();
  const bus = new MemoryBus(clock, [
    { name: queueNames.voiceCommands, requiresSession: true, maxDeliveryCount: 5 },
    { name: queueNames.voiceResults, requiresSession: false },
  ]);
  const logger = createMemoryLogger();
  const applied: string[] = [];
  const consumer = new VoiceCommandConsumer({
    bus: wrap(bus),
    logger,
    concurrentSessions: 1,
    maxDeliveryCount: 5,
    idleWaitMs: 10,
    busyBackoffMs: 5,
    idleWait: (ms) => bus.waitForActivity(ms),
    apply: async (cmd) => {
      applied.push(cmd.commandId);
      return resultFor(cmd);
    },
    ...overrides,
  });
  consumers.push(consumer);
  return { bus, consumer, logger, applied };
}

describe('busErrorAction', () => {
  it('waits when no session can be locked', () => {
    expect(busErrorAction(new BusError('SessionCannotBeLocked', 'x'))).toBe('noSession');
  });

  it('backs off when the namespace is busy', () => {
    expect(busErrorAction(Object.assign(new Error('busy'), { name: 'ServiceBusError', code: 'ServiceBusy' }))).toBe('busy');
  });

  it('does not mistake a plain error for a Service Bus one', () => {
    expect(busErrorAction(Object.assign(new Error('x'), { code: 'ServiceBusy' }))).toBe('other');
  });
});

describe('VoiceCommandConsumer', () => {
  it('decodes a command sent as JSON text', async () => {
    const { bus, consumer, applied } = setup();
    const cmd = command(1);
    await bus.createSender(queueNames.voiceCommands).sendMessages({ body: JSON.stringify(cmd), sessionId: cmd.userId, messageId: 'm1' });
    consumer.start();
    await vi.waitFor(() => expect(applied).toEqual(['cmd-1']), { timeout: 30_000 });
  });

  it('does not run a command older than one it already applied for the person, and says so in a superseded result', async () => {
    const { bus, consumer, applied } = setup();
    const joiner = { ...command(1, undefined, 'cmd-joiner'), version: 1 };
    const leaver = { ...command(1, undefined, 'cmd-leaver'), version: 2 };
    const sender = bus.createSender(queueNames.voiceCommands);
    await sender.sendMessages({ body: joiner, sessionId: joiner.userId, messageId: 'j' });
    await sender.sendMessages({ body: leaver, sessionId: leaver.userId, messageId: 'l' });
    // The joiner's command again, as `dlq replay` or a resubmission from the portal would send it.
    await sender.sendMessages({ body: joiner, sessionId: joiner.userId, messageId: 'j#replay1', applicationProperties: { 'dialtone-replay-count': 1 } });
    consumer.start();
    const results = bus.createReceiver(queueNames.voiceResults);
    const seen: VoiceResult[] = [];
    await vi.waitFor(async () => {
      for (const m of await results.receiveMessages(10, { maxWaitTimeInMs: 5 })) seen.push(m.body as VoiceResult);
      expect(seen).toHaveLength(3);
    }, { timeout: 30_000 });
    expect(applied).toEqual(['cmd-joiner', 'cmd-leaver']);
    expect(seen.map((r) => [r.commandId, r.status, r.version])).toEqual([
      ['cmd-joiner', 'noop', 1],
      ['cmd-leaver', 'noop', 2],
      ['cmd-joiner', 'superseded', 1],
    ]);
  });

  it('survives ServiceBusy and unexpected errors from acceptNextSession', async () => {
    let failures = 0;
    const { bus, consumer, applied, logger } = setup((inner) => ({
      createSender: (q) => inner.createSender(q),
      createReceiver: (q, o) => inner.createReceiver(q, o),
      acceptNextSession: async (q, o) => {
        failures += 1;
        if (failures === 1) throw Object.assign(new Error('The namespace is busy'), { name: 'ServiceBusError', code: 'ServiceBusy' });
        if (failures === 2) throw new Error('socket hang up');
        return inner.acceptNextSession(q, o);
      },
      close: () => inner.close(),
    }));
    const cmd = command(1);
    await bus.createSender(queueNames.voiceCommands).sendMessages({ body: cmd, sessionId: cmd.userId, messageId: 'm1' });
    consumer.start();
    await vi.waitFor(() => expect(applied).toEqual(['cmd-1']), { timeout: 30_000 });
    expect(logger.lines.filter((l) => l.includes('accepting a voice-commands session failed'))).toHaveLength(2);
  });

  it('leaves the command for redelivery when the result cannot be published', async () => {
    const { bus, consumer, applied } = setup((inner) => ({
      createSender: (q) =>
        q === queueNames.voiceResults
          ? { ...inner.createSender(q), sendMessages: async () => Promise.reject(new Error('link detached')) }
          : inner.createSender(q),
      createReceiver: (q, o) => inner.createReceiver(q, o),
      acceptNextSession: (q, o) => inner.acceptNextSession(q, o),
      close: () => inner.close(),
    }));
    const cmd = command(1);
    await bus.createSender(queueNames.voiceCommands).sendMessages({ body: cmd, sessionId: cmd.userId, messageId: 'm1' });
    consumer.start();
    await vi.waitFor(() => expect(applied.length).toBeGreaterThanOrEqual(2), { timeout: 30_000 });
    await consumer.stop(1_000);
    expect(bus.availableCount(queueNames.voiceCommands) + bus.deadLetterMessages(queueNames.voiceCommands).length).toBe(1);
  });

  it('handles several users at once up to its session concurrency', async () => {
    let running = 0;
    let peak = 0;
    const release: (() => void)[] = [];
    const { bus, consumer } = setup(undefined, {
      concurrentSessions: 2,
      apply: async (cmd) => {
        running += 1;
        peak = Math.max(peak, running);
        await new Promise<void>((resolve) => release.push(resolve));
        running -= 1;
        return resultFor(cmd);
      },
    });
    for (const n of [1, 2, 3]) {
      const cmd = command(n);
      await bus.createSender(queueNames.voiceCommands).sendMessages({ body: cmd, sessionId: cmd.userId, messageId: `m${n}` });
    }
    consumer.start();
    await vi.waitFor(() => expect(release).toHaveLength(2), { timeout: 30_000 });
    release.splice(0).forEach((r) => r());
    await vi.waitFor(() => expect(release).toHaveLength(1), { timeout: 30_000 });
    release.splice(0).forEach((r) => r());
    await vi.waitFor(() => expect(consumer.stats().results).toBe(3), { timeout: 30_000 });
    expect(peak).toBe(2);
  });
});
