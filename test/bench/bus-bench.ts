/**
 * The in-memory bus under load: send N messages in batches, then receive and complete them all,
 * on a plain queue and on a session queue (N sessions of one message, the resync shape). The
 * figure to watch is microseconds per message staying flat as N grows (O(log n) per operation).
 */
import Table from 'cli-table3';
import { MemoryBus } from '../../sandbox/bus/memory-bus.js';
import { SimClock } from '../../sandbox/clock.js';
import type { OutgoingMessage } from '../../shared/ports/bus.js';
import { sendInBatches } from '../../shared/usecases/send-in-batches.js';

const SIZES = (process.env.BENCH_BUS_SIZES ?? '1000,10000,50000').split(',').map(Number);

function message(i: number, session: boolean): OutgoingMessage {
  return {
    body: { userId: `u-${i}`, source: 'resync', changeType: 'updated', occurredAt: '2026-11-02T08:00:00.000Z' },
    messageId: `m-${i}`,
    ...(session ? { sessionId: `3b7d1c9e-0d2a-4c55-8d0e-${String(i).padStart(12, '0')}` } : {}),
  };
}

async function run(n: number, session: boolean): Promise<number> {
  const bus = new MemoryBus(new SimClock('2026-11-02T08:00:00Z'), [{ name: 'q', requiresSession: session, lockDurationMs: 300_000 }]);
  const started = process.hrtime.bigint();
  await sendInBatches(bus.createSender('q'), Array.from({ length: n }, (_, i) => message(i, session)));
  let done = 0;
  if (session) {
    while (bus.availableCount('q') > 0) {
      const receiver = await bus.acceptNextSession('q');
      for (const m of await receiver.receiveMessages(16)) {
        await receiver.completeMessage(m);
        done += 1;
      }
      await receiver.close();
    }
  } else {
    const receiver = bus.createReceiver('q');
    for (;;) {
      const messages = await receiver.receiveMessages(16);
      if (messages.length === 0) break;
      for (const m of messages) await receiver.completeMessage(m);
      done += messages.length;
    }
  }
  if (done !== n) throw new Error(`memory bus bench: ${done} of ${n} messages received`);
  return Number(process.hrtime.bigint() - started) / 1e3 / n;
}

export async function benchMemoryBus(): Promise<void> {
  const table = new Table({ head: ['messages', 'plain queue µs/message', 'session queue µs/message'] });
  for (const n of SIZES) table.push([n, (await run(n, false)).toFixed(1), (await run(n, true)).toFixed(1)]);
  console.log('memory bus: send in batches, receive and complete every message (this machine)');
  console.log(table.toString());
}
