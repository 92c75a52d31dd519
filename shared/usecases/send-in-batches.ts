import { DialtoneError } from '../domain/errors.js';
import type { BusSender, OutgoingMessage } from '../ports/bus.js';

/**
 * Sends a list of any length: Service Bus refuses a `sendMessages(array)` that does not fit one
 * batch (MessageSizeExceeded past 256 KB, about 600 small Dialtone messages), so the list is
 * packed into as many `createMessageBatch()` batches as it needs, in order. Returns the number of
 * batches sent. A single message larger than an empty batch can never be sent: that is refused
 * as InvalidMessage naming the message, before anything of the list goes out after it.
 */
export async function sendInBatches(sender: BusSender, messages: readonly OutgoingMessage[]): Promise<number> {
  if (messages.length === 0) return 0;
  let batches = 0;
  let batch = await sender.createMessageBatch();
  for (const message of messages) {
    if (batch.tryAddMessage(message)) continue;
    if (batch.count > 0) {
      await sender.sendMessages(batch);
      batches += 1;
      batch = await sender.createMessageBatch();
      if (batch.tryAddMessage(message)) continue;
    }
    throw new DialtoneError(
      'InvalidMessage',
      `message '${message.messageId ?? '(no id)'}' does not fit one Service Bus batch of ${batch.maxSizeInBytes} bytes`,
      { details: { messageId: message.messageId, sessionId: message.sessionId } },
    );
  }
  if (batch.count > 0) {
    await sender.sendMessages(batch);
    batches += 1;
  }
  return batches;
}
