import { describe, expect, it } from 'vitest';
import { MemoryBus } from '../../sandbox/bus/memory-bus.js';
import { SimClock } from '../../sandbox/clock.js';
import type { OutgoingMessage } from '../../shared/ports/bus.js';
import { sendInBatches } from '../../shared/usecases/send-in-batches.js';

function bus() {
  return new MemoryBus(new SimClock('2026-11-02T08:00:00Z'), [{ name: 'user-changes', requiresSession: true }]);
}

const change = (i: number): OutgoingMessage => ({
  body: { userId: `u-${i}`, eventId: `resync-${'e'.repeat(32)}-${i}`, source: 'resync', changeType: 'updated', occurredAt: '2026-11-02T08:00:00.000Z' },
  messageId: `resync-${'e'.repeat(32)}-${i}`,
  sessionId: `3b7d1c9e-0d2a-4c55-8d0e-${String(i).padStart(12, '0')}`,
  correlationId: `resync-${'e'.repeat(32)}-${i}`,
  contentType: 'application/json',
  subject: 'resync',
});

describe('sending a list in batches', () => {
  it('sends 2,000 messages that one sendMessages(array) would refuse, in order, in several batches', async () => {
    const b = bus();
    const messages = Array.from({ length: 2000 }, (_, i) => change(i));
    await expect(b.createSender('user-changes').sendMessages(messages)).rejects.toMatchObject({ code: 'MessageSizeExceeded' });
    const batches = await sendInBatches(b.createSender('user-changes'), messages);
    expect(batches).toBeGreaterThan(2);
    expect(b.availableCount('user-changes')).toBe(2000);
  });

  it('sends nothing and creates no batch for an empty list', async () => {
    expect(await sendInBatches(bus().createSender('user-changes'), [])).toBe(0);
  });

  it('refuses, as InvalidMessage naming it, a message that fits no batch', async () => {
    const b = bus();
    const huge = { ...change(1), body: 'x'.repeat(300 * 1024), messageId: 'huge' };
    await expect(sendInBatches(b.createSender('user-changes'), [change(0), huge])).rejects.toMatchObject({
      name: 'DialtoneError',
      code: 'InvalidMessage',
      message: "message 'huge' does not fit one Service Bus batch of 262144 bytes",
    });
  });
});
