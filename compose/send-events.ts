/**
 * Sends HR events (NDJSON, one event a line, as `dialtone sandbox run --events` reads them) to
 * the hr-events queue of the Service Bus named by DIALTONE_SERVICEBUS_CONNECTION_STRING (the
 * emulator of compose.yaml) or DIALTONE_SERVICEBUS_NAMESPACE (Azure, signed in), each with its
 * eventId as message id and correlation id, as an HR connector would.
 *
 *   tsx compose/send-events.ts sandbox/data/hr-events.ndjson
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DefaultAzureCredential } from '@azure/identity';
import { createServiceBusClient } from '../shared/adapters/service-bus-client.js';
import { loadOperatorSettings, required } from '../shared/config/settings.js';
import { queueNames } from '../shared/contracts/messages.js';
import { sendInBatches } from '../shared/usecases/send-in-batches.js';

/** One message per line; a line that is not an event object with an eventId is refused, naming its line. */
export function eventMessages(text: string) {
  return text
    .split('\n')
    .map((line, index) => ({ line: line.trim(), number: index + 1 }))
    .filter(({ line }) => line !== '')
    .map(({ line, number }) => {
      let event: unknown;
      try {
        event = JSON.parse(line);
      } catch {
        throw new Error(`line ${number}: not JSON`);
      }
      const eventId = (event as { eventId?: unknown } | null)?.eventId;
      if (typeof eventId !== 'string' || eventId.trim() === '' || eventId.length > 128) throw new Error(`line ${number}: eventId must be a string of 1 to 128 characters`);
      return { body: event, messageId: eventId, correlationId: eventId, contentType: 'application/json' };
    });
}

async function main(): Promise<void> {
  const file = process.argv[2];
  if (!file) throw new Error('usage: tsx compose/send-events.ts <events.ndjson>');
  const messages = eventMessages(readFileSync(file, 'utf8'));
  const target = required(loadOperatorSettings().serviceBus, 'DIALTONE_SERVICEBUS_CONNECTION_STRING', 'send-events');
  const client = createServiceBusClient(target, new DefaultAzureCredential());
  try {
    const sender = client.createSender(queueNames.hrEvents);
    const batches = await sendInBatches(sender, messages);
    await sender.close();
    process.stdout.write(`sent ${messages.length} events to ${queueNames.hrEvents} in ${batches} batch(es)\n`);
  } finally {
    await client.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  void main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
