/**
 * The in-memory bus refuses what Azure Service Bus (Standard tier, @azure/service-bus v7) refuses.
 * One documented behaviour per test; see docs/SANDBOX.md "The in-memory Service Bus".
 */
import Long from 'long';
import { describe, expect, it } from 'vitest';
import { MinHeap } from '../../sandbox/bus/heap.js';
import { MemoryBus, type MemoryQueueOptions } from '../../sandbox/bus/memory-bus.js';
import { deployedQueues } from '../../sandbox/bus/queues.js';
import { SimClock } from '../../sandbox/clock.js';
import { queueDefinitions } from '../../shared/contracts/queues.js';
import type { OutgoingMessage } from '../../shared/ports/bus.js';

const KB = 1024;
const LOCK = 30_000;

function setup(extra: Partial<MemoryQueueOptions> = {}) {
  const clock = new SimClock('2026-11-02T08:00:00Z');
  const bus = new MemoryBus(clock, [
    { name: 'plain', requiresSession: false, lockDurationMs: LOCK, ...extra },
    { name: 'sessions', requiresSession: true, lockDurationMs: LOCK, ...extra },
  ]);
  return { clock, bus };
}

const small = (i: number, extra: Partial<OutgoingMessage> = {}): OutgoingMessage => ({
  body: { userId: `user-${i}`, eventId: `event-${i}`, source: 'resync', changeType: 'updated', occurredAt: '2026-11-02T08:00:00.000Z' },
  messageId: `message-${String(i).padStart(6, '0')}-${'x'.repeat(60)}`,
  sessionId: `3b7d1c9e-0d2a-4c55-8d0e-${String(i).padStart(12, '0')}`,
  correlationId: `correlation-${i}-${'y'.repeat(60)}`,
  contentType: 'application/json',
  subject: 'resync',
  ...extra,
});

describe('message and batch size (256 KB on the Standard tier)', () => {
  it('refuses one message over 256 KB with MessageSizeExceeded', async () => {
    const { bus } = setup();
    await expect(bus.createSender('plain').sendMessages({ body: 'x'.repeat(257 * KB), messageId: 'big' })).rejects.toMatchObject({
      name: 'ServiceBusError',
      code: 'MessageSizeExceeded',
    });
    expect(bus.availableCount('plain')).toBe(0);
  });

  it('accepts a message just under 256 KB', async () => {
    const { bus } = setup();
    await bus.createSender('plain').sendMessages({ body: 'x'.repeat(255 * KB), messageId: 'fits' });
    expect(bus.availableCount('plain')).toBe(1);
  });

  it('refuses an array that does not fit one batch, and enqueues none of it', async () => {
    const { bus } = setup();
    const messages = Array.from({ length: 1000 }, (_, i) => small(i));
    await expect(bus.createSender('sessions').sendMessages(messages)).rejects.toMatchObject({ code: 'MessageSizeExceeded' });
    expect(bus.availableCount('sessions')).toBe(0);
  });

  it('refuses an application property over 32 KB', async () => {
    const { bus } = setup();
    await expect(
      bus.createSender('plain').sendMessages({ body: 1, messageId: 'p', applicationProperties: { note: 'n'.repeat(33 * KB) } }),
    ).rejects.toMatchObject({ code: 'MessageSizeExceeded', message: expect.stringContaining("'note'") });
  });

  it('refuses headers over 64 KB in total', async () => {
    const { bus } = setup();
    const applicationProperties = Object.fromEntries(Array.from({ length: 3 }, (_, i) => [`p${i}`, 'v'.repeat(30 * KB)]));
    await expect(bus.createSender('plain').sendMessages({ body: 1, messageId: 'h', applicationProperties })).rejects.toMatchObject({
      code: 'MessageSizeExceeded',
    });
  });
});

describe('createMessageBatch / tryAddMessage', () => {
  it('fills a batch until the next message would pass 256 KB, then answers false', async () => {
    const { bus } = setup();
    const batch = await bus.createSender('sessions').createMessageBatch();
    expect(batch.maxSizeInBytes).toBe(256 * KB);
    let added = 0;
    while (batch.tryAddMessage(small(added))) added += 1;
    expect(added).toBeGreaterThan(100);
    expect(added).toBeLessThan(1000);
    expect(batch.count).toBe(added);
    expect(batch.sizeInBytes).toBeLessThanOrEqual(batch.maxSizeInBytes);
  });

  it('sends every message of a batch, in order', async () => {
    const { bus } = setup();
    const sender = bus.createSender('plain');
    const batch = await sender.createMessageBatch();
    for (let i = 0; i < 3; i++) expect(batch.tryAddMessage({ body: i, messageId: `b${i}` })).toBe(true);
    await sender.sendMessages(batch);
    const received = await bus.createReceiver('plain').receiveMessages(10);
    expect(received.map((m) => m.body)).toEqual([0, 1, 2]);
  });

  it('answers false for a message larger than an empty batch', async () => {
    const { bus } = setup();
    const batch = await bus.createSender('plain').createMessageBatch();
    expect(batch.tryAddMessage({ body: 'x'.repeat(300 * KB), messageId: 'huge' })).toBe(false);
    expect(batch.count).toBe(0);
  });

  it('honours a smaller maxSizeInBytes and refuses one above the link maximum', async () => {
    const { bus } = setup();
    const sender = bus.createSender('plain');
    const batch = await sender.createMessageBatch({ maxSizeInBytes: 1000 });
    expect(batch.tryAddMessage({ body: 'x'.repeat(2000), messageId: 'a' })).toBe(false);
    await expect(sender.createMessageBatch({ maxSizeInBytes: 1024 * KB })).rejects.toThrow(
      'Max message size (1048576 bytes) is greater than maximum message size (262144 bytes) on the AMQP sender link.',
    );
  });

  it('checks the ids of a message when it is added, as the SDK does', async () => {
    const { bus } = setup();
    const batch = await bus.createSender('sessions').createMessageBatch();
    expect(() => batch.tryAddMessage({ body: 1, messageId: 'm', sessionId: 's'.repeat(129) })).toThrow(
      "Length of 'sessionId' property on the message cannot be greater than 128 characters.",
    );
  });
});

describe('ids of at most 128 characters', () => {
  it('refuses a 10 KB session id', async () => {
    const { bus } = setup();
    await expect(bus.createSender('sessions').sendMessages({ body: 1, messageId: 'm', sessionId: 's'.repeat(10 * KB) })).rejects.toThrow(
      "Length of 'sessionId' property on the message cannot be greater than 128 characters.",
    );
  });

  it('refuses a 129-character message id', async () => {
    const { bus } = setup();
    await expect(bus.createSender('plain').sendMessages({ body: 1, messageId: 'm'.repeat(129) })).rejects.toThrow(
      "Length of 'messageId' property on the message cannot be greater than 128 characters.",
    );
  });

  it('refuses a 129-character correlation id', async () => {
    const { bus } = setup();
    await expect(bus.createSender('plain').sendMessages({ body: 1, messageId: 'm', correlationId: 'c'.repeat(129) })).rejects.toThrow(
      "Length of 'correlationId' property on the message cannot be greater than 128 characters.",
    );
  });

  it('accepts 128 characters for each id', async () => {
    const { bus } = setup();
    const id = 'i'.repeat(128);
    await bus.createSender('sessions').sendMessages({ body: 1, messageId: id, sessionId: id, correlationId: id });
    expect(bus.availableCount('sessions')).toBe(1);
  });

  it('refuses a too long id in scheduleMessages too', async () => {
    const { bus, clock } = setup();
    await expect(
      bus.createSender('plain').scheduleMessages({ body: 1, messageId: 'm'.repeat(129) }, new Date(clock.nowMs() + 1000)),
    ).rejects.toThrow("Length of 'messageId'");
  });
});

describe('lock expiry is enforced when settling (MessageLockLost)', () => {
  async function lockedThenExpired() {
    const s = setup();
    await s.bus.createSender('plain').sendMessages({ body: 'x', messageId: 'm1' });
    const receiver = s.bus.createReceiver('plain');
    const [m] = await receiver.receiveMessages(1);
    // The case: nothing else touches the queue, the worker settles 60 s after the lock ran out.
    s.clock.advance(LOCK + 60_000);
    return { ...s, receiver, m: m! };
  }

  it('refuses complete after the lock expired', async () => {
    const { receiver, m } = await lockedThenExpired();
    await expect(receiver.completeMessage(m)).rejects.toMatchObject({ name: 'ServiceBusError', code: 'MessageLockLost' });
  });

  it('refuses abandon after the lock expired', async () => {
    const { receiver, m } = await lockedThenExpired();
    await expect(receiver.abandonMessage(m)).rejects.toMatchObject({ code: 'MessageLockLost' });
  });

  it('refuses dead-letter after the lock expired', async () => {
    const { receiver, m, bus } = await lockedThenExpired();
    await expect(receiver.deadLetterMessage(m, { deadLetterReason: 'X', deadLetterErrorDescription: 'y' })).rejects.toMatchObject({
      code: 'MessageLockLost',
    });
    expect(bus.deadLetterMessages('plain')).toEqual([]);
  });

  it('refuses renew after the lock expired', async () => {
    const { receiver, m } = await lockedThenExpired();
    await expect(receiver.renewMessageLock(m)).rejects.toMatchObject({ code: 'MessageLockLost' });
  });

  it('redelivers the message whose lock expired, with the delivery count raised', async () => {
    const { bus } = await lockedThenExpired();
    const [again] = await bus.createReceiver('plain').receiveMessages(1);
    expect(again?.deliveryCount).toBe(2);
  });

  it('keeps a renewed lock', async () => {
    const { bus, clock } = setup();
    await bus.createSender('plain').sendMessages({ body: 'x', messageId: 'm1' });
    const receiver = bus.createReceiver('plain');
    const [m] = await receiver.receiveMessages(1);
    clock.advance(LOCK - 1000);
    await receiver.renewMessageLock(m!);
    clock.advance(LOCK - 1000);
    await receiver.completeMessage(m!);
    expect(bus.availableCount('plain') + bus.inFlightCount('plain')).toBe(0);
  });

  it('expires the lock of a message received from a dead-letter subqueue', async () => {
    const { bus, clock } = setup();
    await bus.createSender('plain').sendMessages({ body: 'x', messageId: 'm1' });
    const receiver = bus.createReceiver('plain');
    const [m] = await receiver.receiveMessages(1);
    await receiver.deadLetterMessage(m!, { deadLetterReason: 'R', deadLetterErrorDescription: 'd' });
    const dlq = bus.createReceiver('plain', { subQueueType: 'deadLetter' });
    const [dead] = await dlq.receiveMessages(1);
    expect(await dlq.receiveMessages(1)).toEqual([]);
    clock.advance(LOCK);
    await expect(dlq.completeMessage(dead!)).rejects.toMatchObject({ code: 'MessageLockLost' });
    expect((await dlq.receiveMessages(1)).map((x) => x.messageId)).toEqual(['m1']);
  });
});

describe('session lock expiry (SessionLockLost)', () => {
  async function sessionThenExpired() {
    const s = setup();
    await s.bus.createSender('sessions').sendMessages({ body: 'x', messageId: 'a1', sessionId: 'A' });
    const session = await s.bus.acceptNextSession('sessions');
    const [m] = await session.receiveMessages(1);
    s.clock.advance(LOCK + 1);
    return { ...s, session, m: m! };
  }

  it('refuses complete after the session lock expired', async () => {
    const { session, m } = await sessionThenExpired();
    await expect(session.completeMessage(m)).rejects.toMatchObject({ name: 'ServiceBusError', code: 'SessionLockLost' });
  });

  it('refuses abandon and dead-letter after the session lock expired', async () => {
    const { session, m } = await sessionThenExpired();
    await expect(session.abandonMessage(m)).rejects.toMatchObject({ code: 'SessionLockLost' });
    await expect(session.deadLetterMessage(m, { deadLetterReason: 'X', deadLetterErrorDescription: 'y' })).rejects.toMatchObject({
      code: 'SessionLockLost',
    });
  });

  it('refuses renewSessionLock after the session lock expired', async () => {
    const { session } = await sessionThenExpired();
    await expect(session.renewSessionLock()).rejects.toMatchObject({ code: 'SessionLockLost' });
  });

  it('lets another receiver take the session, and its message, once the lock expired', async () => {
    const { bus } = await sessionThenExpired();
    const next = await bus.acceptNextSession('sessions');
    const [m] = await next.receiveMessages(1);
    expect([next.sessionId, m?.deliveryCount]).toEqual(['A', 2]);
  });

  it('keeps the session while its lock is renewed', async () => {
    const { bus, clock } = setup();
    await bus.createSender('sessions').sendMessages({ body: 'x', messageId: 'a1', sessionId: 'A' });
    const session = await bus.acceptNextSession('sessions');
    const [m] = await session.receiveMessages(1);
    for (let i = 0; i < 4; i++) {
      clock.advance(LOCK - 1000);
      await session.renewSessionLock();
    }
    await session.completeMessage(m!);
    expect(bus.availableCount('sessions') + bus.inFlightCount('sessions')).toBe(0);
  });
});

describe('time to live and dead-lettering on expiry, per queue', () => {
  it('gives a message the queue default time to live of infra/queues.json and dead-letters it on expiry', async () => {
    const clock = new SimClock('2026-11-02T08:00:00Z');
    const bus = new MemoryBus(clock, deployedQueues);
    const ttl = queueDefinitions.userChanges.defaultMessageTimeToLiveMs;
    await bus.createSender('user-changes').sendMessages({ body: 1, messageId: 'm', sessionId: 'A' });
    clock.advance(ttl - 1);
    expect(bus.availableCount('user-changes')).toBe(1);
    clock.advance(1);
    expect(bus.availableCount('user-changes')).toBe(0);
    const [dead] = bus.deadLetterMessages('user-changes');
    expect(dead).toMatchObject({
      deadLetterReason: 'TTLExpiredException',
      deadLetterErrorDescription: 'The message expired and was dead lettered.',
    });
  });

  it('drops an expired message when the queue does not dead-letter on expiry', async () => {
    const { bus, clock } = setup({ deadLetteringOnMessageExpiration: false, defaultMessageTimeToLiveMs: 60_000 });
    await bus.createSender('plain').sendMessages({ body: 1, messageId: 'm' });
    clock.advance(60_000);
    expect(await bus.createReceiver('plain').receiveMessages(1)).toEqual([]);
    expect(bus.deadLetterMessages('plain')).toEqual([]);
  });

  it('uses the message time to live when it is shorter than the queue default, never a longer one', async () => {
    const { bus, clock } = setup({ defaultMessageTimeToLiveMs: 60_000 });
    const sender = bus.createSender('plain');
    await sender.sendMessages([
      { body: 'short', messageId: 'short', timeToLive: 10_000 },
      { body: 'long', messageId: 'long', timeToLive: 600_000 },
    ]);
    clock.advance(10_000);
    expect(bus.deadLetterMessages('plain').map((m) => m.messageId)).toEqual(['short']);
    clock.advance(50_000);
    expect(bus.deadLetterMessages('plain').map((m) => m.messageId)).toEqual(['short', 'long']);
  });

  it('counts the time to live of a scheduled message from its scheduled time', async () => {
    const { bus, clock } = setup({ defaultMessageTimeToLiveMs: 60_000 });
    await bus.createSender('plain').scheduleMessages({ body: 1, messageId: 's' }, new Date(clock.nowMs() + 120_000));
    clock.advance(150_000);
    expect((await bus.createReceiver('plain').receiveMessages(1)).map((m) => m.messageId)).toEqual(['s']);
  });

  it('does not expire a locked message under its receiver, but dead-letters it when the lock is released late', async () => {
    const { bus, clock } = setup({ defaultMessageTimeToLiveMs: 20_000 });
    await bus.createSender('plain').sendMessages({ body: 1, messageId: 'm' });
    const receiver = bus.createReceiver('plain');
    const [m] = await receiver.receiveMessages(1);
    clock.advance(25_000);
    await receiver.abandonMessage(m!);
    expect(bus.deadLetterMessages('plain')[0]?.deadLetterReason).toBe('TTLExpiredException');
  });
});

describe('dead-letter reason and description are application properties, as Service Bus writes them', () => {
  it('copies an application dead-letter reason, description and extra properties', async () => {
    const { bus } = setup();
    await bus.createSender('plain').sendMessages({ body: 'x', messageId: 'm1', applicationProperties: { custom: 'kept' } });
    const receiver = bus.createReceiver('plain');
    const [m] = await receiver.receiveMessages(1);
    await receiver.deadLetterMessage(m!, { deadLetterReason: 'InvalidMessage', deadLetterErrorDescription: 'person.employeeId: required', extra: 7 });
    const [dead] = await bus.createReceiver('plain', { subQueueType: 'deadLetter' }).peekMessages(1);
    expect(dead?.applicationProperties).toEqual({
      custom: 'kept',
      extra: 7,
      DeadLetterReason: 'InvalidMessage',
      DeadLetterErrorDescription: 'person.employeeId: required',
    });
    expect([dead?.deadLetterReason, dead?.deadLetterErrorDescription]).toEqual(['InvalidMessage', 'person.employeeId: required']);
  });

  it('writes MaxDeliveryCountExceeded into the properties too', async () => {
    const { bus } = setup({ maxDeliveryCount: 1 });
    await bus.createSender('plain').sendMessages({ body: 'x', messageId: 'm1' });
    const receiver = bus.createReceiver('plain');
    const [m] = await receiver.receiveMessages(1);
    await receiver.abandonMessage(m!);
    const [dead] = bus.deadLetterMessages('plain');
    expect(dead?.applicationProperties).toMatchObject({
      DeadLetterReason: 'MaxDeliveryCountExceeded',
      DeadLetterErrorDescription: 'Message could not be consumed after 1 delivery attempts.',
    });
  });

  it('keeps the sequence number, session id and body of a dead-lettered message', async () => {
    const { bus } = setup();
    await bus.createSender('sessions').sendMessages({ body: { a: 1 }, messageId: 'a1', sessionId: 'A' });
    const session = await bus.acceptNextSession('sessions');
    const [m] = await session.receiveMessages(1);
    await session.deadLetterMessage(m!, { deadLetterReason: 'R', deadLetterErrorDescription: 'd' });
    const [dead] = bus.deadLetterMessages('sessions');
    expect([dead?.sequenceNumber, dead?.sessionId, dead?.body]).toEqual([m?.sequenceNumber, 'A', { a: 1 }]);
  });
});

describe('peek continues from the last peeked sequence number', () => {
  async function tenMessages() {
    const s = setup();
    await s.bus.createSender('plain').sendMessages(Array.from({ length: 10 }, (_, i) => ({ body: i, messageId: `m${i}` })));
    return s;
  }

  it('returns the next messages on each call instead of starting again', async () => {
    const { bus } = await tenMessages();
    const receiver = bus.createReceiver('plain');
    const first = await receiver.peekMessages(4);
    const second = await receiver.peekMessages(4);
    const third = await receiver.peekMessages(4);
    expect([first, second, third].map((page) => page.map((m) => m.body))).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
    expect(await receiver.peekMessages(4)).toEqual([]);
  });

  it('continues across receivers of the same client, as the SDK management link does', async () => {
    const { bus } = await tenMessages();
    await bus.createReceiver('plain').peekMessages(5);
    expect((await bus.createReceiver('plain').peekMessages(2)).map((m) => m.body)).toEqual([5, 6]);
  });

  it('starts at fromSequenceNumber when given (inclusive), as a Long or a number', async () => {
    const { bus } = await tenMessages();
    const receiver = bus.createReceiver('plain');
    const all = await receiver.peekMessages(10, { fromSequenceNumber: Long.fromNumber(0) });
    const fourth = Number(all[3]?.sequenceNumber);
    expect((await receiver.peekMessages(2, { fromSequenceNumber: Long.fromNumber(fourth) })).map((m) => m.body)).toEqual([3, 4]);
    expect((await receiver.peekMessages(2)).map((m) => m.body)).toEqual([5, 6]);
  });

  it('peeks one session only on a session receiver', async () => {
    const { bus } = setup();
    await bus.createSender('sessions').sendMessages([
      { body: 'a1', messageId: 'a1', sessionId: 'A' },
      { body: 'b1', messageId: 'b1', sessionId: 'B' },
      { body: 'a2', messageId: 'a2', sessionId: 'A' },
    ]);
    const session = await bus.acceptNextSession('sessions');
    expect((await session.peekMessages(10, { fromSequenceNumber: 0 })).map((m) => m.body)).toEqual(['a1', 'a2']);
  });
});

describe('cost per operation grows with log n, not n', () => {
  async function comparisonsPerMessage(queued: number): Promise<number> {
    const { bus } = setup({ lockDurationMs: 300_000 });
    const sender = bus.createSender('plain');
    for (let i = 0; i < queued; i += 500) {
      const batch = await sender.createMessageBatch();
      for (let j = i; j < Math.min(i + 500, queued); j++) batch.tryAddMessage({ body: j, messageId: `m${j}` });
      await sender.sendMessages(batch);
    }
    const receiver = bus.createReceiver('plain');
    const before = MinHeap.comparisons;
    for (let round = 0; round < 50; round++) {
      const [m] = await receiver.receiveMessages(1);
      await receiver.completeMessage(m!);
      bus.availableCount('plain');
      bus.nextDueAt();
    }
    return (MinHeap.comparisons - before) / 50;
  }

  it('receives and completes from 64,000 queued messages with a few comparisons more than from 1,000', async () => {
    const small = await comparisonsPerMessage(1_000);
    const large = await comparisonsPerMessage(64_000);
    // log2 grows from 10 to 16; a scan would grow 64 times.
    expect(large / small).toBeLessThan(3);
  });
});
