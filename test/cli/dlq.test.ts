import { describe, expect, it } from 'vitest';
import { dialtone } from '../helpers/cli.js';
import { parseMoment } from '../../cli/commands/dlq.js';
import { MemoryBus } from '../../sandbox/bus/memory-bus.js';
import { SimClock } from '../../sandbox/clock.js';

async function busWithOneDeadLetter() {
  const bus = new MemoryBus(new SimClock('2026-11-02T08:00:00Z'), [
    { name: 'hr-events', requiresSession: false },
    { name: 'user-changes', requiresSession: true },
    { name: 'voice-commands', requiresSession: true },
    { name: 'voice-results', requiresSession: false },
  ]);
  await bus.createSender('hr-events').sendMessages({ body: { eventId: 'e1', person: { employeeId: 'E7' } }, messageId: 'e1' });
  const receiver = bus.createReceiver('hr-events');
  const [m] = await receiver.receiveMessages(1);
  await receiver.deadLetterMessage(m!, { deadLetterReason: 'UserAmbiguous', deadLetterErrorDescription: '2 Entra ID users have employeeId E7' });
  return bus;
}

describe('dialtone dlq', () => {
  it('lists dead letters as JSON with reason and who they are about', async () => {
    const bus = await busWithOneDeadLetter();
    const c = await dialtone(['dlq', 'list', '--json'], { bus: async () => bus });
    expect(JSON.parse(c.out)).toMatchObject([{ queue: 'hr-events', messageId: 'e1', reason: 'UserAmbiguous', subject: 'E7' }]);
  });

  it('refuses to replay everything without a filter or --all', async () => {
    const bus = await busWithOneDeadLetter();
    const c = await dialtone(['dlq', 'replay'], { bus: async () => bus });
    expect(c.code).toBe(2);
    expect(c.err).toBe('dialtone: dialtone dlq replay: give a filter (--reason, --user, --message-id, --tenant-id, --older-than, --newer-than) or --all.');
  });

  it('replays by reason', async () => {
    const bus = await busWithOneDeadLetter();
    const c = await dialtone(['dlq', 'replay', '--reason', 'UserAmbiguous'], { bus: async () => bus });
    expect(c.out.split('\n').at(-1)).toBe('1 messages handled.');
    expect(bus.availableCount('hr-events')).toBe(1);
  });

  it('reads ages as durations or dates', () => {
    const now = new Date('2026-11-23T12:00:00Z');
    expect(parseMoment('2h', now).toISOString()).toBe('2026-11-23T10:00:00.000Z');
    expect(parseMoment('2026-11-01', now).toISOString()).toBe('2026-11-01T00:00:00.000Z');
    expect(() => parseMoment('soon', now)).toThrow("expected an age (45s, 30m, 2h, 7d) or an ISO date, got 'soon'.");
  });
});

describe('dialtone dlq while Service Bus answers ServiceBusy', () => {
  const noWait = (waits: number[]) => ({ sleep: async (ms: number) => void waits.push(ms) });

  it('lists after a peek refused ServiceBusy, waiting before it tries again', async () => {
    const bus = await busWithOneDeadLetter();
    bus.setFaults({ rules: [{ code: 'ServiceBusy', operations: ['peek'], times: 1 }] });
    const waits: number[] = [];
    const c = await dialtone(['dlq', 'list', '--json'], { bus: async () => bus, sleeper: noWait(waits) });
    expect(c.code).toBe(0);
    expect(JSON.parse(c.out)).toMatchObject([{ queue: 'hr-events', messageId: 'e1', reason: 'UserAmbiguous' }]);
    expect(waits).toEqual([1000]);
  });

  it('fails with one line naming the answer, exit 1 and no stack trace, when every peek is refused', async () => {
    const bus = await busWithOneDeadLetter();
    bus.setFaults({ rules: [{ code: 'ServiceBusy', operations: ['peek'] }] });
    const waits: number[] = [];
    for (const args of [['dlq', 'list'], ['dlq', 'show', 'e1'], ['dlq', 'replay', '--all', '--dry-run']]) {
      const c = await dialtone(args, { bus: async () => bus, sleeper: noWait(waits) });
      expect(c.code).toBe(1);
      expect(c.out).toBe('');
      expect(c.err).toBe(
        'dialtone: ServiceUnavailable: Service Bus answered ServiceBusy to 4 peeks of the dead letters of hr-events over 7 s; nothing was read or changed. Run the command again in a minute.',
      );
    }
    expect(waits).toEqual([1000, 2000, 4000, 1000, 2000, 4000, 1000, 2000, 4000]);
  });

  it('replays and purges through ServiceBusy on the receive, the send and the complete', async () => {
    for (const args of [['dlq', 'replay', '--all'], ['dlq', 'purge', '--all', '--yes']]) {
      const bus = await busWithOneDeadLetter();
      bus.setFaults({ rules: (['receive', 'send', 'complete'] as const).map((op) => ({ code: 'ServiceBusy' as const, operations: [op], times: 1 })) });
      const waits: number[] = [];
      const c = await dialtone(args, { bus: async () => bus, sleeper: noWait(waits) });
      expect([c.code, c.err, c.out.split('\n').at(-1)]).toEqual([0, '', '1 messages handled.']);
      expect(bus.availableCount('hr-events')).toBe(args[1] === 'replay' ? 1 : 0);
      expect(waits.length).toBe(args[1] === 'replay' ? 3 : 2);
    }
  });

  it('fails a replay Service Bus keeps refusing with one line saying what was done and to run it again, exit 1', async () => {
    const bus = await busWithOneDeadLetter();
    bus.setFaults({ rules: [{ code: 'ServiceBusy', operations: ['send'] }] });
    const c = await dialtone(['dlq', 'replay', '--all'], { bus: async () => bus, sleeper: noWait([]) });
    expect([c.code, c.out]).toEqual([1, '']);
    expect(c.err).toBe(
      'dialtone: ServiceUnavailable: Service Bus answered ServiceBusy to 4 tries to send the copy e1#replay1 to hr-events over 7 s. Done before it: 0 replayed. Nothing else changed: run the same command again in a minute to continue.',
    );
  });
});
