import '@azure/functions-extensions-servicebus';
import { app, type InvocationContext } from '@azure/functions';
import { productionStages, type SdkBindingContext } from '../shared/composition/production.js';

/** hr-events → user-changes. Settles every message explicitly. */
export async function correlate(context: SdkBindingContext, _invocation: InvocationContext): Promise<void> {
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
