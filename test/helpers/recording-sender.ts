import { checkArrayFitsOneBatch, checkOutgoingMessage, createMemoryBatch, isBatch } from '../../sandbox/bus/memory-bus.js';
import type { BusSender, OutgoingMessage } from '../../shared/ports/bus.js';

/**
 * A sender that records what it sends and refuses what Service Bus refuses, as the in-memory bus
 * does: an array over one 256 KB batch (MessageSizeExceeded), ids over 128 characters, oversize
 * messages. `sent` holds what was sent, `scheduled` what was scheduled, and `sendCalls()` counts
 * the sendMessages calls, so a test can see how many batches went out.
 */
export function recordingSender(options: { requiresSession?: boolean; name?: string } = {}) {
  const queue = { name: options.name ?? 'test-queue', requiresSession: options.requiresSession ?? false };
  const sent: OutgoingMessage[] = [];
  const scheduled: { message: OutgoingMessage; at: Date }[] = [];
  let sendCalls = 0;
  const sender: BusSender = {
    sendMessages: async (messages) => {
      const list = isBatch(messages) ? [...messages.messages()] : Array.isArray(messages) ? messages : [messages as OutgoingMessage];
      const sizes = list.map((m) => checkOutgoingMessage(m, queue));
      if (!isBatch(messages)) checkArrayFitsOneBatch(sizes);
      sendCalls += 1;
      sent.push(...list);
    },
    createMessageBatch: async (batchOptions) => createMemoryBatch(queue, batchOptions),
    scheduleMessages: async (messages, at) => {
      const list = Array.isArray(messages) ? messages : [messages];
      for (const m of list) checkOutgoingMessage(m, queue);
      for (const message of list) scheduled.push({ message, at });
      return list.map(() => 0);
    },
    close: async () => undefined,
  };
  return { sender, sent, scheduled, sendCalls: () => sendCalls };
}
