import { describe, expect, it } from 'vitest';
import { planReplay } from '../../shared/domain/replay.js';
import { listDeadLetters, settleDeadLetters } from '../../shared/usecases/dead-letters.js';
import { MemoryBus } from '../../sandbox/bus/memory-bus.js';
import { SimClock } from '../../sandbox/clock.js';

async function busWithDeadLetters(count = 2) {
  const clock = new SimClock('2026-11-02T08:00:00Z');
  const bus = new MemoryBus(clock, [{ name: 'user-changes', requiresSession: true }]);
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
