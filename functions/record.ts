import '@azure/functions-extensions-servicebus';
import { app, type InvocationContext } from '@azure/functions';
import { productionStages, type SdkBindingContext } from '../shared/composition/production.js';

/** voice-results → provisioning record and inventory. Settles every message explicitly. */
export async function record(context: SdkBindingContext, _invocation: InvocationContext): Promise<void> {
  const stages = await productionStages();
  await stages.record(context.messages, context.actions);
}

app.serviceBusQueue('record', {
  connection: 'ServiceBusConnection',
  queueName: 'voice-results',

  sdkBinding: true,
  autoCompleteMessages: false,
  cardinality: 'many',
  handler: record,
});
