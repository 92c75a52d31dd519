import { describe, expect, it } from 'vitest';
import { planReplay } from '../../shared/domain/replay.js';
import { listDeadLetters, settleDeadLetters } from '../../shared/usecases/dead-letters.js';
import { MemoryBus } from '../../sandbox/bus/memory-bus.js';
import { SimClock } from '../../sandbox/clock.js';
import { BusError } from '../../sandbox/bus/bus-error.js';
import type { BusClient } from '../../shared/ports/bus.js';

/** A sleeper that waits for nothing and remembers what it was asked to wait. */
function recordingSleeper() {
  const waits: number[] = [];
  return { waits, sleeper: { sleep: async (ms: number) => void waits.push(ms) } };
}

async function busWithDeadLetters(count = 2) {
  const clock = new SimClock('2026-11-02T08:00:00Z');
  // As infra/queues.json deploys it: sessions and duplicate detection.
  const bus = new MemoryBus(clock, [{ name: 'user-changes', requiresSession: true, requiresDuplicateDetection: true }]);
  const sender = bus.createSender('user-changes');
  for (let i = 1; i <= count; i++) {
    await sender.sendMessages({
      body: { userId: `u${i}`, eventId: `e${i}` },
      messageId: `m${i}`,
      sessionId: `u${i}`,
      correlationId: `evt-${i}`,
      applicationProperties: { 'dialtone-attempt': 3, 'dialtone-first-attempt-at': 1, custom: 'kept' },
    });
    const session = await bus.acceptNextSession('user-changes');
    const [m] = await session.receiveMessages(1);
    await session.deadLetterMessage(m!, {
      deadLetterReason: i === 1 ? 'PoolExhausted' : 'UserAmbiguous',
      deadLetterErrorDescription: `reason ${i}`,
    });
    await session.close();
  }
  return { bus, clock };
}

describe('dead letters', () => {
  it('lists dead letters with reason and description, filtered by reason', async () => {
    const { bus } = await busWithDeadLetters();
    const views = await listDeadLetters(bus, ['user-changes'], { reason: 'PoolExhausted' });
    expect(views.map((v) => [v.messageId, v.reason, v.description, v.sessionId])).toEqual([['m1', 'PoolExhausted', 'reason 1', 'u1']]);
  });

  it('filters by user through the session id or the body', async () => {
    const { bus } = await busWithDeadLetters();
    const views = await listDeadLetters(bus, ['user-changes'], { user: 'u2' });
    expect(views.map((v) => v.messageId)).toEqual(['m2']);
  });

  it('replays a copy that keeps body, session, correlation and properties, restarts the retry window and counts the replay', async () => {
    const { bus } = await busWithDeadLetters();
    const report = await settleDeadLetters(bus, ['user-changes'], { reason: 'PoolExhausted' }, 'replay');
    expect(report).toEqual([{ queue: 'user-changes', messageId: 'm1', action: 'replayed', detail: 'as m1#replay1' }]);
    const session = await bus.acceptNextSession('user-changes');
    const [copy] = await session.receiveMessages(1);
    expect(copy).toMatchObject({
      messageId: 'm1#replay1',
      sessionId: 'u1',
      correlationId: 'evt-1',
      body: { userId: 'u1', eventId: 'e1' },
      applicationProperties: { custom: 'kept', 'dialtone-replay-count': 1 },
    });
    expect(copy?.applicationProperties?.['dialtone-attempt']).toBeUndefined();
    expect((await listDeadLetters(bus, ['user-changes'], {})).map((v) => v.messageId)).toEqual(['m2']);
  });

  it('does nothing on a dry run', async () => {
    const { bus } = await busWithDeadLetters();
    const report = await settleDeadLetters(bus, ['user-changes'], {}, 'replay', { dryRun: true });
    expect(report.map((r) => r.action)).toEqual(['would-replay', 'would-replay']);
    expect(await listDeadLetters(bus, ['user-changes'], {})).toHaveLength(2);
  });

  it('refuses to replay past the limit', () => {
    const plan = planReplay(
      { body: {}, messageId: 'm1#replay5', deadLetterReason: 'NotLicensed', applicationProperties: { 'dialtone-replay-count': 5 } },
      5,
    );
    expect(plan).toEqual({
      ok: false,
      reason: 'already replayed 5 times (limit 5); fix the cause (NotLicensed) or purge it',
    });
  });

  it('purges only what matches', async () => {
    const { bus } = await busWithDeadLetters();
    const report = await settleDeadLetters(bus, ['user-changes'], { messageId: 'm2' }, 'purge');
    expect(report.map((r) => [r.messageId, r.action])).toEqual([['m2', 'purged']]);
    expect((await listDeadLetters(bus, ['user-changes'], {})).map((v) => v.messageId)).toEqual(['m1']);
  });
});

describe('dead letters while Service Bus is busy', () => {
  it('lists through two ServiceBusy peeks, backing off before each new try', async () => {
    const { bus } = await busWithDeadLetters();
    bus.setFaults({ rules: [{ code: 'ServiceBusy', operations: ['peek'], times: 2 }] });
    const { waits, sleeper } = recordingSleeper();
    const views = await listDeadLetters(bus, ['user-changes'], {}, 1000, { sleeper });
    expect(views.map((v) => v.messageId)).toEqual(['m1', 'm2']);
    expect(waits).toEqual([1000, 2000]);
    expect(bus.faultCounts()).toEqual({ 'ServiceBusy:peek': 2 });
  });

  it('gives up after four peeks refused ServiceBusy with one clear, transient error', async () => {
    const { bus } = await busWithDeadLetters();
    bus.setFaults({ rules: [{ code: 'ServiceBusy', operations: ['peek'] }] });
    const { waits, sleeper } = recordingSleeper();
    const failure = await listDeadLetters(bus, ['user-changes'], {}, 1000, { sleeper }).catch((e: unknown) => e);
    expect(failure).toMatchObject({
      name: 'DialtoneError',
      code: 'ServiceUnavailable',
      transient: true,
      message: 'Service Bus answered ServiceBusy to 4 peeks of the dead letters of user-changes over 7 s; nothing was read or changed. Run the command again in a minute.',
    });
    expect(waits).toEqual([1000, 2000, 4000]);
    expect(bus.faultCounts()).toEqual({ 'ServiceBusy:peek': 4 });
  });

  it('retries the peeks of a dry run the same way', async () => {
    const { bus } = await busWithDeadLetters();
    bus.setFaults({ rules: [{ code: 'ServiceBusy', operations: ['peek'], times: 1 }] });
    const { waits, sleeper } = recordingSleeper();
    const report = await settleDeadLetters(bus, ['user-changes'], {}, 'purge', { dryRun: true, sleeper });
    expect(report.map((r) => r.action)).toEqual(['would-purge', 'would-purge']);
    expect(waits).toEqual([1000]);
  });

  it('does not retry a peek refused for good', async () => {
    const { bus } = await busWithDeadLetters();
    let peeks = 0;
    const refusing: BusClient = {
      ...bus,
      createSender: (q) => bus.createSender(q),
      acceptNextSession: (q, o) => bus.acceptNextSession(q, o),
      close: () => bus.close(),
      createReceiver: (q, o) => ({
        ...bus.createReceiver(q, o),
        peekMessages: async () => {
          peeks += 1;
          throw new BusError('InvalidOperation', 'not allowed');
        },
      }),
    };
    const { waits, sleeper } = recordingSleeper();
    await expect(listDeadLetters(refusing, ['user-changes'], {}, 1000, { sleeper })).rejects.toMatchObject({ code: 'InvalidOperation' });
    expect([peeks, waits]).toEqual([1, []]);
  });

  it('replays through ServiceBusy on the receive, the send and the complete, backing off before each new try, each dead letter once', async () => {
    const { bus } = await busWithDeadLetters();
    bus.setFaults({
      rules: [
        { code: 'ServiceBusy', operations: ['receive'], times: 1 },
        { code: 'ServiceBusy', operations: ['send'], times: 1 },
        { code: 'ServiceBusy', operations: ['complete'], times: 1 },
      ],
    });
    const { waits, sleeper } = recordingSleeper();
    const report = await settleDeadLetters(bus, ['user-changes'], {}, 'replay', { sleeper });
    expect(report.map((r) => [r.messageId, r.action])).toEqual([
      ['m1', 'replayed'],
      ['m2', 'replayed'],
    ]);
    expect(bus.faultCounts()).toEqual({ 'ServiceBusy:receive': 1, 'ServiceBusy:send': 1, 'ServiceBusy:complete': 1 });
    expect(waits).toEqual([1000, 1000, 1000]);
    expect(await listDeadLetters(bus, ['user-changes'], {})).toEqual([]);
    expect(await drainedIds(bus, 2)).toEqual(['m1#replay1', 'm2#replay1']);
  });

  it('purges through a ServiceBusy complete', async () => {
    const { bus } = await busWithDeadLetters();
    bus.setFaults({ rules: [{ code: 'ServiceBusy', operations: ['complete'], times: 2 }] });
    const { waits, sleeper } = recordingSleeper();
    const report = await settleDeadLetters(bus, ['user-changes'], {}, 'purge', { sleeper });
    expect(report.map((r) => r.action)).toEqual(['purged', 'purged']);
    expect(waits).toEqual([1000, 2000]);
    expect(await listDeadLetters(bus, ['user-changes'], {})).toEqual([]);
  });

  it('gives up on a Service Bus that stays busy with one error that says what was done and that running it again continues, and running it again sends no second copy', async () => {
    const { bus } = await busWithDeadLetters();
    // The send of m1's copy goes through; every complete is refused.
    bus.setFaults({ rules: [{ code: 'ServiceBusy', operations: ['complete'] }] });
    const { waits, sleeper } = recordingSleeper();
    const failure = await settleDeadLetters(bus, ['user-changes'], {}, 'replay', { sleeper }).catch((e: unknown) => e);
    expect(failure).toMatchObject({
      code: 'ServiceUnavailable',
      transient: true,
      message:
        'Service Bus answered ServiceBusy to 4 tries to complete the dead letter m1 of user-changes over 7 s. Done before it: 0 replayed. ' +
        'Its copy m1#replay1 was sent, so the dead letter is still there: run the same command again in a minute to continue (duplicate detection drops a copy sent twice).',
    });
    expect(waits).toEqual([1000, 2000, 4000]);
    bus.setFaults(undefined);
    const again = await settleDeadLetters(bus, ['user-changes'], {}, 'replay', { sleeper });
    expect(again.map((r) => [r.messageId, r.action, r.detail])).toEqual([
      ['m1', 'replayed', 'as m1#replay1'],
      ['m2', 'replayed', 'as m2#replay1'],
    ]);
    expect(await drainedIds(bus, 2)).toEqual(['m1#replay1', 'm2#replay1']);
  });
});

/** Takes every message from the next `sessions` user-changes sessions: the ids, sorted. */
async function drainedIds(bus: Awaited<ReturnType<typeof busWithDeadLetters>>['bus'], sessions: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < sessions; i++) {
    const session = await bus.acceptNextSession('user-changes');
    for (const m of await session.receiveMessages(5)) {
      ids.push(String(m.messageId));
      await session.completeMessage(m);
    }
    await session.close();
  }
  return ids.sort();
}
