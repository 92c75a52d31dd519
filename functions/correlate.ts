import '@azure/functions-extensions-servicebus';
import { app, type InvocationContext } from '@azure/functions';
import type { ServiceBusMessageContext } from '@azure/functions-extensions-servicebus';
import { productionStages } from '../shared/composition/production.js';

/** hr-events → user-changes. Settles every message explicitly. */
export async function correlate(context: ServiceBusMessageContext, _invocation: InvocationContext): Promise<void> {
  const stages = await productionStages();
  await stages.correlate(context.messages, context.actions);
}

app.serviceBusQueue('correlate', {
  connection: 'ServiceBusConnection',
  queueName: 'hr-events',

  sdkBinding: true,
  autoCompleteMessages: false,
  cardinality: 'many',
  handler: correlate,
});
