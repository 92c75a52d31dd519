import { describe, expect, it } from 'vitest';
import { MemoryBus } from '../../sandbox/bus/memory-bus.js';
import { SimClock } from '../../sandbox/clock.js';

function setup(maxDeliveryCount = 3) {
  const clock = new SimClock('2026-11-02T08:00:00Z');
  const bus = new MemoryBus(clock, [
    { name: 'plain', requiresSession: false, maxDeliveryCount, lockDurationMs: 30_000 },
    { name: 'sessions', requiresSession: true, maxDeliveryCount, lockDurationMs: 30_000 },
  ]);
  return { clock, bus };
}

describe('MemoryBus peek-lock', () => {
  it('hides a received message until it is settled', async () => {
    const { bus } = setup();
    await bus.createSender('plain').sendMessages({ body: { a: 1 }, messageId: 'm1' });
    const receiver = bus.createReceiver('plain');
    const [first] = await receiver.receiveMessages(10);
    expect(first?.body).toEqual({ a: 1 });
    expect(await receiver.receiveMessages(10)).toEqual([]);
    await receiver.completeMessage(first!);
    expect(bus.availableCount()).toBe(0);
    expect(bus.inFlightCount()).toBe(0);
  });

  it('counts deliveries and redelivers an abandoned message', async () => {
    const { bus } = setup();
    await bus.createSender('plain').sendMessages({ body: 'x', messageId: 'm1' });
    const receiver = bus.createReceiver('plain');
    const [first] = await receiver.receiveMessages(1);
    await receiver.abandonMessage(first!);
    const [second] = await receiver.receiveMessages(1);
    expect([first?.deliveryCount, second?.deliveryCount]).toEqual([1, 2]);
  });

  it('dead-letters with MaxDeliveryCountExceeded after the last allowed delivery', async () => {
    const { bus } = setup(2);
    await bus.createSender('plain').sendMessages({ body: 'x', messageId: 'm1' });
    const receiver = bus.createReceiver('plain');
    for (let i = 0; i < 2; i++) {
      const [m] = await receiver.receiveMessages(1);
      await receiver.abandonMessage(m!);
    }
    const [dead] = bus.deadLetterMessages('plain');
    expect(dead?.deadLetterReason).toBe('MaxDeliveryCountExceeded');
    expect(dead?.deadLetterErrorDescription).toBe('Message could not be consumed after 2 delivery attempts.');
  });

  it('releases a message whose lock expired on the simulated clock', async () => {
    const { bus, clock } = setup();
    await bus.createSender('plain').sendMessages({ body: 'x', messageId: 'm1' });
    const receiver = bus.createReceiver('plain');
    const [m] = await receiver.receiveMessages(1);
    clock.advance(30_001);
    const [again] = await receiver.receiveMessages(1);
    expect(again?.deliveryCount).toBe(2);
    await expect(receiver.completeMessage(m!)).rejects.toMatchObject({ code: 'MessageLockLost' });
  });

  it('keeps the application dead-letter reason and description', async () => {
    const { bus } = setup();
    await bus.createSender('plain').sendMessages({ body: 'x', messageId: 'm1' });
    const receiver = bus.createReceiver('plain');
    const [m] = await receiver.receiveMessages(1);
    await receiver.deadLetterMessage(m!, { deadLetterReason: 'InvalidMessage', deadLetterErrorDescription: 'person.employeeId: required' });
    const dlq = bus.createReceiver('plain', { subQueueType: 'deadLetter' });
    const [dead] = await dlq.receiveMessages(1);
    expect([dead?.deadLetterReason, dead?.deadLetterErrorDescription]).toEqual(['InvalidMessage', 'person.employeeId: required']);
  });
});

describe('MemoryBus scheduling and duplicate detection', () => {
  it('makes a scheduled message available only when the clock reaches it', async () => {
    const { bus, clock } = setup();
    await bus.createSender('plain').scheduleMessages({ body: 'later', messageId: 's1' }, new Date(clock.nowMs() + 60_000));
    expect(bus.availableCount()).toBe(0);
    expect(bus.nextDueAt()).toBe(clock.nowMs() + 60_000);
    clock.advance(60_000);
    expect(bus.availableCount()).toBe(1);
  });

  it('drops a message whose id was seen within the window', async () => {
    const { bus } = setup();
    const sender = bus.createSender('plain');
    await sender.sendMessages({ body: 1, messageId: 'dup' });
    await sender.sendMessages({ body: 2, messageId: 'dup' });
    expect(bus.availableCount()).toBe(1);
  });

  it('accepts the same id again once the window has passed', async () => {
    const { bus, clock } = setup();
    const sender = bus.createSender('plain');
    await sender.sendMessages({ body: 1, messageId: 'dup' });
    clock.advance(10 * 60_000);
    await sender.sendMessages({ body: 2, messageId: 'dup' });
    expect(bus.availableCount()).toBe(2);
  });

  it('dead-letters an expired message with TTLExpiredException', async () => {
    const { bus, clock } = setup();
    await bus.createSender('plain').sendMessages({ body: 1, messageId: 't', timeToLive: 1000 });
    clock.advance(1000);
    expect(await bus.createReceiver('plain').receiveMessages(1)).toEqual([]);
    expect(bus.deadLetterMessages('plain')[0]?.deadLetterReason).toBe('TTLExpiredException');
  });
});

describe('MemoryBus sessions', () => {
  it('refuses a message without a session id on a session queue', async () => {
    const { bus } = setup();
    await expect(bus.createSender('sessions').sendMessages({ body: 1 })).rejects.toThrow(
      "Queue 'sessions' is session-enabled: the message must carry a sessionId.",
    );
  });

  it('gives one session to one receiver at a time, in FIFO order', async () => {
    const { bus } = setup();
    const sender = bus.createSender('sessions');
    await sender.sendMessages([
      { body: 1, messageId: 'a1', sessionId: 'A' },
      { body: 2, messageId: 'a2', sessionId: 'A' },
      { body: 3, messageId: 'b1', sessionId: 'B' },
    ]);
    const first = await bus.acceptNextSession('sessions');
    const second = await bus.acceptNextSession('sessions');
    expect([first.sessionId, second.sessionId]).toEqual(['A', 'B']);
    await expect(bus.acceptNextSession('sessions')).rejects.toMatchObject({ code: 'ServiceTimeout' });
    const messages = await first.receiveMessages(10);
    expect(messages.map((m) => m.body)).toEqual([1, 2]);
  });

  it('returns unsettled messages when the session closes', async () => {
    const { bus } = setup();
    await bus.createSender('sessions').sendMessages({ body: 1, messageId: 'a1', sessionId: 'A' });
    const session = await bus.acceptNextSession('sessions');
    await session.receiveMessages(1);
    await session.close();
    const again = await bus.acceptNextSession('sessions');
    const [m] = await again.receiveMessages(1);
    expect(m?.deliveryCount).toBe(2);
  });

  it('reads the dead letters of a session queue with a plain receiver', async () => {
    const { bus } = setup();
    await bus.createSender('sessions').sendMessages({ body: 1, messageId: 'a1', sessionId: 'A' });
    const session = await bus.acceptNextSession('sessions');
    const [m] = await session.receiveMessages(1);
    await session.deadLetterMessage(m!, { deadLetterReason: 'UserAmbiguous', deadLetterErrorDescription: 'two users' });
    const [dead] = await bus.createReceiver('sessions', { subQueueType: 'deadLetter' }).receiveMessages(1);
    expect([dead?.sessionId, dead?.deadLetterReason]).toEqual(['A', 'UserAmbiguous']);
  });
});
