import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DialtoneError } from '../../shared/domain/errors.js';
import { defaultRetryPolicy } from '../../shared/domain/settlement.js';
import { createStageHandler, type UseCaseResult } from '../../shared/handlers/stage-runner.js';
import { silentLogger } from '../../shared/logging/logger.js';
import type { BusSender, OutgoingMessage } from '../../shared/ports/bus.js';
import { SimClock } from '../../sandbox/clock.js';
import { recordingActions } from '../helpers/fake-actions.js';
import { recordingSender } from '../helpers/recording-sender.js';

function harness(run: (input: { n: number }) => Promise<UseCaseResult>) {
  const clock = new SimClock('2026-11-02T08:00:00Z');
  const sent: { queue: string; message: OutgoingMessage; at?: Date }[] = [];
  const senders = new Map<string, ReturnType<typeof recordingSender>>();
  const sender = (queue: string): BusSender => {
    let s = senders.get(queue);
    if (!s) {
      const recording = recordingSender({ name: queue });
      const inner = recording.sender;
      // Record in the order sent, across queues, with the queue's name.
      s = {
        ...recording,
        sender: {
          ...inner,
          sendMessages: async (m) => {
            const before = recording.sent.length;
            await inner.sendMessages(m);
            for (const message of recording.sent.slice(before)) sent.push({ queue, message });
          },
          scheduleMessages: async (m, at) => {
            const before = recording.scheduled.length;
            const ids = await inner.scheduleMessages(m, at);
            for (const r of recording.scheduled.slice(before)) sent.push({ queue, message: r.message, at });
            return ids;
          },
        },
      };
      senders.set(queue, s);
    }
    return s.sender;
  };
  const handler = createStageHandler(
    { stage: 'test', queue: 'q', schema: z.object({ n: z.number() }), correlationOf: () => 'c', run: (input) => run(input) },
    { clock, logger: silentLogger, retryPolicy: defaultRetryPolicy, sender },
  );
  return { clock, sent, handler };
}

describe('the stage handler', () => {
  it('dead-letters a message that fails validation as InvalidMessage naming the field', async () => {
    const { handler } = harness(async () => ({ outcome: { kind: 'done', summary: '' } }));
    const { actions, settled } = recordingActions();
    await handler([{ body: { n: 'one' }, messageId: 'm' }], actions);
    expect(settled[0]).toMatchObject({
      action: 'deadletter',
      reason: 'InvalidMessage',
      description: 'Invalid q message: n: Invalid input: expected number, received string',
    });
  });

  it('parses a JSON string body', async () => {
    const { handler } = harness(async (input) => ({ outcome: { kind: 'done', summary: String(input.n) } }));
    const { actions, settled } = recordingActions();
    await handler([{ body: '{"n":1}', messageId: 'm' }], actions);
    expect(settled[0]?.action).toBe('complete');
  });

  it('sends the use case output before completing', async () => {
    const { handler, sent } = harness(async () => ({
      outcome: { kind: 'done', summary: '' },
      send: [{ queue: 'next', messages: [{ body: 'x', messageId: 'out' }] }],
    }));
    const { actions, settled } = recordingActions();
    await handler([{ body: { n: 1 }, messageId: 'm' }], actions);
    expect(sent.map((s) => s.message.messageId)).toEqual(['out']);
    expect(settled[0]?.action).toBe('complete');
  });

  it('sends a use case output larger than one 256 KB batch in several batches, then completes', async () => {
    const messages = Array.from({ length: 1500 }, (_, i) => ({ body: { i, pad: 'p'.repeat(300) }, messageId: `out-${i}` }));
    const { handler, sent } = harness(async () => ({ outcome: { kind: 'done', summary: '' }, send: [{ queue: 'next', messages }] }));
    const { actions, settled } = recordingActions();
    await handler([{ body: { n: 1 }, messageId: 'm' }], actions);
    expect(sent.map((s) => s.message.messageId)).toEqual(messages.map((m) => m.messageId));
    expect(settled[0]?.action).toBe('complete');
  });

  it('reschedules a wait as a copy with a deterministic id, session and attempt, then completes the original', async () => {
    const { handler, sent, clock } = harness(async () => ({ outcome: { kind: 'wait', code: 'UserNotFound', message: 'not yet' } }));
    const { actions, settled } = recordingActions();
    await handler([{ body: { n: 1 }, messageId: 'm', sessionId: 'user-1', correlationId: 'evt-1' }], actions);
    expect(sent[0]).toMatchObject({
      queue: 'q',
      at: new Date(clock.nowMs() + 30_000),
      message: {
        messageId: 'm#r1',
        sessionId: 'user-1',
        correlationId: 'evt-1',
        applicationProperties: { 'dialtone-attempt': 1, 'dialtone-original-id': 'm' },
      },
    });
    expect(settled[0]?.action).toBe('complete');
  });

  it('numbers later copies from the original id, not the copy', async () => {
    const { handler, sent } = harness(async () => ({ outcome: { kind: 'wait', code: 'NotLicensed', message: 'no' } }));
    const { actions } = recordingActions();
    await handler(
      [{ body: { n: 1 }, messageId: 'm#r1', applicationProperties: { 'dialtone-attempt': 1, 'dialtone-original-id': 'm', 'dialtone-first-attempt-at': Date.parse('2026-11-02T08:00:00Z') } }],
      actions,
    );
    expect(sent[0]?.message.messageId).toBe('m#r2');
  });

  it('turns a transient DialtoneError into a retry that honours Retry-After', async () => {
    const { handler, sent, clock } = harness(async () => {
      throw new DialtoneError('Throttled', 'Graph said 429', { transient: true, retryAfterMs: 90_000 });
    });
    const { actions } = recordingActions();
    await handler([{ body: { n: 1 }, messageId: 'm' }], actions);
    expect(sent[0]?.at).toEqual(new Date(clock.nowMs() + 90_000));
  });

  it("schedules a retry on the broker's time when this instance's clock is behind it (a copy asked for 30 s ahead on a clock 5 minutes slow would be due at once, and the backoff lost)", async () => {
    const { handler, sent, clock } = harness(async () => {
      throw new DialtoneError('ServiceUnavailable', 'Graph said 503', { transient: true });
    });
    const { actions } = recordingActions();
    // The broker enqueued the message at what this instance's clock calls 5 minutes from now.
    await handler([{ body: { n: 1 }, messageId: 'm', enqueuedTimeUtc: new Date(clock.nowMs() + 5 * 60_000) }], actions);
    expect(sent[0]?.at).toEqual(new Date(clock.nowMs() + 5 * 60_000 + 30_000));
    // On time, or the message waited on the queue: the backoff from this instance's now.
    const waited = harness(async () => {
      throw new DialtoneError('ServiceUnavailable', 'Graph said 503', { transient: true });
    });
    await waited.handler([{ body: { n: 1 }, messageId: 'm', enqueuedTimeUtc: new Date(waited.clock.nowMs() - 60_000) }], recordingActions().actions);
    expect(waited.sent[0]?.at).toEqual(new Date(waited.clock.nowMs() + 30_000));
  });

  it('dead-letters a permanent DialtoneError with its code', async () => {
    const { handler } = harness(async () => {
      throw new DialtoneError('PolicyInvalid', 'rules[0].when: bad');
    });
    const { actions, settled } = recordingActions();
    await handler([{ body: { n: 1 }, messageId: 'm' }], actions);
    expect(settled[0]).toMatchObject({ action: 'deadletter', reason: 'PolicyInvalid', description: 'rules[0].when: bad' });
  });

  it('keeps handling the batch after a bad message', async () => {
    const { handler } = harness(async () => ({ outcome: { kind: 'done', summary: '' } }));
    const { actions, settled } = recordingActions();
    await handler([{ body: 'not json', messageId: 'a' }, { body: { n: 2 }, messageId: 'b' }], actions);
    expect(settled.map((s) => s.action)).toEqual(['deadletter', 'complete']);
  });
});

describe('the transient budget is carried apart from the licensing wait', () => {
  it('reads the transient count from the copy, and counts every attempt of a copy written before it existed', async () => {
    const { readRetryState } = await import('../../shared/handlers/stage-runner.js');
    const at = Date.parse('2026-11-02T08:00:00Z');
    const props = (p: Record<string, number>) => ({ body: {}, applicationProperties: p }) as never;
    expect(readRetryState(props({ 'dialtone-attempt': 11, 'dialtone-first-attempt-at': at, 'dialtone-transient-attempts': 1 }), at)).toEqual({
      attempt: 11,
      firstAttemptAt: at,
      transientAttempts: 1,
    });
    expect(readRetryState(props({ 'dialtone-attempt': 5, 'dialtone-first-attempt-at': at }), at).transientAttempts).toBe(5);
    expect(readRetryState(props({}), at)).toEqual({ attempt: 0, firstAttemptAt: at, transientAttempts: 0 });
  });
});

describe('the transient budget counts transient failures in a row', () => {
  /** Delivers `message`, then each copy the handler schedules, until it is completed or dead-lettered. */
  async function deliverUntilSettled(outcomes: UseCaseResult['outcome'][]) {
    let next = 0;
    const { clock, sent, handler } = harness(async () => ({ outcome: outcomes[next++] ?? { kind: 'done', summary: 'licensed at last' } }));
    const { actions, settled } = recordingActions();
    let message: Parameters<typeof handler>[0] = { body: { n: 1 }, messageId: 'uc-joiner' };
    for (;;) {
      const before = sent.length;
      await handler([message as never], actions);
      const last = settled.at(-1);
      if (last?.action !== 'complete' || sent.length === before) return { settled, attempts: next };
      const copy = sent.at(-1)!;
      clock.advanceTo(copy.at!);
      message = { ...copy.message, deliveryCount: 1 } as never;
    }
  }

  it('does not dead-letter a message waiting a day for its licence for nine isolated 429s among its waits (the services answered in between)', async () => {
    // What chaos seed 1 at 100 people met: a joiner waiting for Teams Phone for 24 hours, retried
    // hourly, met a Graph 429 or a Table 503 on 9 of its 34 attempts, never twice in a row, and was
    // dead-lettered 'Gave up after 9 transient failures (34 attempts in all)' instead of going on waiting.
    const wait = { kind: 'wait', code: 'NotLicensed', message: 'no MCOEV yet' } as const;
    const throttled = { kind: 'transient', code: 'Throttled', message: 'Graph said 429' } as const;
    const outcomes = Array.from({ length: 18 }, (_, i) => (i % 2 === 0 ? wait : throttled));
    const { settled, attempts } = await deliverUntilSettled(outcomes);
    expect(settled.filter((s) => s.action === 'deadletter')).toEqual([]);
    expect(attempts).toBe(19);
  });

  it('still dead-letters nine transient failures in a row after a wait', async () => {
    const wait = { kind: 'wait', code: 'NotLicensed', message: 'no MCOEV yet' } as const;
    const down = { kind: 'transient', code: 'ServiceUnavailable', message: 'Graph said 503.' } as const;
    const { settled } = await deliverUntilSettled([wait, wait, ...Array.from({ length: 9 }, () => down)]);
    expect(settled.at(-1)).toMatchObject({
      action: 'deadletter',
      reason: 'ServiceUnavailable',
      description: 'Graph said 503. Gave up after 9 transient failures (11 attempts in all); replay when the service recovers.',
    });
  });
});
