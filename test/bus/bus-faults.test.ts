/**
 * Service Bus throttling injected into the in-memory bus, raised as @azure/service-bus raises it
 * (a ServiceBusError with the SDK's code and `retryable`), and changing nothing on the broker.
 */
import { describe, expect, it } from 'vitest';
import { BusError } from '../../sandbox/bus/bus-error.js';
import { MemoryBus } from '../../sandbox/bus/memory-bus.js';
import { SimClock } from '../../sandbox/clock.js';
import type { BusFaults } from '../../sandbox/bus/bus-faults.js';

function setup(faults?: BusFaults) {
  const clock = new SimClock('2026-11-02T08:00:00Z');
  const bus = new MemoryBus(
    clock,
    [
      { name: 'plain', requiresSession: false, lockDurationMs: 30_000 },
      { name: 'sessions', requiresSession: true, lockDurationMs: 30_000 },
    ],
    faults ? { faults } : {},
  );
  return { clock, bus };
}

describe('Service Bus errors keep the SDK retryable semantics', () => {
  it('marks ServiceBusy and ServiceTimeout retryable, and QuotaExceeded, the lock errors and SessionCannotBeLocked not', () => {
    expect(new BusError('ServiceBusy', 'x').retryable).toBe(true);
    expect(new BusError('ServiceTimeout', 'x').retryable).toBe(true);
    for (const code of ['QuotaExceeded', 'MessageLockLost', 'SessionLockLost', 'SessionCannotBeLocked', 'MessageSizeExceeded'] as const) {
      expect(new BusError(code, 'x').retryable).toBe(false);
    }
  });
});

describe('injected ServiceBusy and QuotaExceeded', () => {
  it('a throttled send raises ServiceBusy (retryable) and enqueues nothing', async () => {
    const { bus } = setup({ rules: [{ code: 'ServiceBusy', operations: ['send'], times: 1 }] });
    const sender = bus.createSender('plain');
    await expect(sender.sendMessages({ body: 'a', messageId: 'a' })).rejects.toMatchObject({ name: 'ServiceBusError', code: 'ServiceBusy', retryable: true });
    expect(bus.availableCount('plain')).toBe(0);
    await sender.sendMessages({ body: 'a', messageId: 'a' });
    // The throttled attempt was not applied, so duplicate detection did not see its id.
    expect(bus.availableCount('plain')).toBe(1);
    expect(bus.faultCounts()).toEqual({ 'ServiceBusy:send': 1 });
  });

  it('QuotaExceeded (not retryable) is raised on sends and scheduled sends only', async () => {
    const { bus, clock } = setup({ rules: [{ code: 'QuotaExceeded' }] });
    const sender = bus.createSender('plain');
    await expect(sender.sendMessages({ body: 'a' })).rejects.toMatchObject({ code: 'QuotaExceeded', retryable: false });
    await expect(sender.scheduleMessages({ body: 'a' }, new Date(clock.nowMs() + 1000))).rejects.toMatchObject({ code: 'QuotaExceeded' });
    // Receiving still works: the broker refuses what would grow the entity, not what drains it.
    await expect(bus.createReceiver('plain').receiveMessages(1)).resolves.toEqual([]);
    expect(bus.faultCounts()).toEqual({ 'QuotaExceeded:schedule': 1, 'QuotaExceeded:send': 1 });
  });

  it('a throttled complete leaves the message locked, and completing again succeeds', async () => {
    const { bus } = setup();
    await bus.createSender('plain').sendMessages({ body: 'a', messageId: 'a' });
    const receiver = bus.createReceiver('plain');
    const [m] = await receiver.receiveMessages(1);
    bus.setFaults({ rules: [{ code: 'ServiceBusy', operations: ['complete'], times: 1 }] });
    await expect(receiver.completeMessage(m!)).rejects.toMatchObject({ code: 'ServiceBusy' });
    expect(bus.inFlightCount('plain')).toBe(1);
    await receiver.completeMessage(m!);
    expect(bus.inFlightCount('plain')).toBe(0);
    expect(bus.availableCount('plain')).toBe(0);
  });

  it('a throttled session accept or session receive raises ServiceBusy and locks nothing', async () => {
    const { bus } = setup();
    await bus.createSender('sessions').sendMessages({ body: 'a', sessionId: 's1' });
    bus.setFaults({ rules: [{ code: 'ServiceBusy', operations: ['acceptSession'], times: 1 }] });
    await expect(bus.acceptNextSession('sessions')).rejects.toMatchObject({ code: 'ServiceBusy' });
    expect(bus.hasAcceptableSession('sessions')).toBe(true);
    bus.setFaults({ rules: [{ code: 'ServiceBusy', operations: ['receive'], times: 1 }] });
    const session = await bus.acceptNextSession('sessions');
    await expect(session.receiveMessages(1)).rejects.toMatchObject({ code: 'ServiceBusy' });
    expect(await session.receiveMessages(1)).toHaveLength(1);
  });

  it('a throttled peek raises ServiceBusy (retryable), moves no peek cursor, and the next peek sees the messages', async () => {
    const { bus } = setup();
    await bus.createSender('plain').sendMessages([{ body: 'a', messageId: 'a' }, { body: 'b', messageId: 'b' }]);
    const receiver = bus.createReceiver('plain');
    bus.setFaults({ rules: [{ code: 'ServiceBusy', operations: ['peek'], times: 1 }] });
    await expect(receiver.peekMessages(10)).rejects.toMatchObject({ name: 'ServiceBusError', code: 'ServiceBusy', retryable: true });
    // Nothing changed on the broker, and the failed peek did not advance the cursor.
    expect((await receiver.peekMessages(10)).map((m) => m.body)).toEqual(['a', 'b']);
    expect(bus.availableCount('plain')).toBe(2);
    expect(bus.faultCounts()).toEqual({ 'ServiceBusy:peek': 1 });
  });

  it('throttles peeks of a dead-letter subqueue and of a session, and QuotaExceeded never hits a peek', async () => {
    const { bus } = setup({ rules: [{ code: 'QuotaExceeded' }] });
    await expect(bus.createReceiver('plain', { subQueueType: 'deadLetter' }).peekMessages(1)).resolves.toEqual([]);
    bus.setFaults(undefined);
    await bus.createSender('sessions').sendMessages({ body: 'a', sessionId: 's1' });
    const session = await bus.acceptNextSession('sessions');
    bus.setFaults({ rules: [{ code: 'ServiceBusy', operations: ['peek'] }] });
    await expect(bus.createReceiver('plain', { subQueueType: 'deadLetter' }).peekMessages(1)).rejects.toMatchObject({ code: 'ServiceBusy' });
    await expect(session.peekMessages(1)).rejects.toMatchObject({ code: 'ServiceBusy' });
    expect(bus.faultCounts()).toEqual({ 'ServiceBusy:peek': 2 });
  });

  it('a ServiceBusy rule without operations throttles peeks too', async () => {
    const { bus } = setup({ rules: [{ code: 'ServiceBusy', times: 1 }] });
    await expect(bus.createReceiver('plain').peekMessages(1)).rejects.toMatchObject({ code: 'ServiceBusy' });
  });

  it('rules can target one queue, and the same seed throttles the same operations', async () => {
    const run = async (seed: number) => {
      const { bus } = setup({ seed, rules: [{ code: 'ServiceBusy', queue: 'plain', probability: 0.3 }] });
      const outcomes: boolean[] = [];
      for (let i = 0; i < 40; i++) {
        outcomes.push(await bus.createSender('plain').sendMessages({ body: i, messageId: `m${i}` }).then(() => true, () => false));
        await bus.createSender('sessions').sendMessages({ body: i, sessionId: 's' });
      }
      return { outcomes, counts: bus.faultCounts() };
    };
    const a = await run(5);
    expect(a).toEqual(await run(5));
    expect(a.outcomes.filter((ok) => !ok).length).toBeGreaterThan(0);
    expect(a.outcomes.filter((ok) => ok).length).toBeGreaterThan(0);
    expect(Object.keys(a.counts)).toEqual(['ServiceBusy:send']);
  });

  it('refuses a rule it does not understand', () => {
    expect(() => setup({ rules: [{ code: 'Nope' as 'ServiceBusy' }] })).toThrow();
  });
});

describe('a lock renewal that reaches the broker late', () => {
  /** Lets the bus's pending promises run. */
  const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

  it('is answered SessionLockLost only once the session lock has expired on the broker, and the session goes to the next receiver', async () => {
    const { bus, clock } = setup();
    await bus.createSender('sessions').sendMessages({ body: 'a', sessionId: 's1', messageId: 'a' });
    const session = await bus.acceptNextSession('sessions');
    const [m] = await session.receiveMessages(1);
    bus.setFaults({ rules: [], lateRenewals: { times: 1 } });
    let answer: unknown;
    const renewing = session.renewSessionLock().then(
      (until) => (answer = until),
      (error: unknown) => (answer = error),
    );
    await flush();
    clock.advance(29_000);
    expect(bus.hasAcceptableSession('sessions')).toBe(false);
    await flush();
    // Still on its way: the lock has not expired, so the holder does not know yet.
    expect(answer).toBeUndefined();
    clock.advance(2_000);
    // The broker drops the lock at its expiry: the session is free for the next receiver ...
    expect(bus.hasAcceptableSession('sessions')).toBe(true);
    await renewing;
    // ... and the late renewal is then answered as Service Bus answers it.
    expect(answer).toMatchObject({ name: 'ServiceBusError', code: 'SessionLockLost', retryable: false });
    await expect(session.completeMessage(m!)).rejects.toMatchObject({ code: 'SessionLockLost' });
    const next = await bus.acceptNextSession('sessions');
    expect((await next.receiveMessages(1)).map((x) => [x.body, x.deliveryCount])).toEqual([['a', 2]]);
    expect(bus.faultCounts()).toEqual({ 'LateRenewal:renewLock': 1 });
  });

  it('is answered MessageLockLost for a plain queue once the message lock expired, and the message is delivered again', async () => {
    const { bus, clock } = setup({ rules: [], lateRenewals: { queue: 'plain' } });
    await bus.createSender('plain').sendMessages({ body: 'a', messageId: 'a' });
    const receiver = bus.createReceiver('plain');
    const [m] = await receiver.receiveMessages(1);
    const renewing = receiver.renewMessageLock(m!).catch((error: unknown) => error);
    clock.advance(31_000);
    expect(bus.availableCount('plain')).toBe(1);
    expect(await renewing).toMatchObject({ code: 'MessageLockLost' });
    expect((await receiver.receiveMessages(1)).map((x) => x.deliveryCount)).toEqual([2]);
  });

  it('hits only the renewals of the queue its rule names, drawn from the seed', async () => {
    const { bus } = setup({ rules: [], lateRenewals: { queue: 'plain' } });
    await bus.createSender('sessions').sendMessages({ body: 'a', sessionId: 's1' });
    const session = await bus.acceptNextSession('sessions');
    await session.receiveMessages(1);
    await expect(session.renewSessionLock()).resolves.toBeInstanceOf(Date);
    expect(bus.faultCounts()).toEqual({});
  });
});

