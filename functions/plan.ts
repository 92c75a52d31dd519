import '@azure/functions-extensions-servicebus';
import { app, type InvocationContext } from '@azure/functions';
import { productionStages, type SdkBindingContext } from '../shared/composition/production.js';

/** user-changes → voice-commands. Settles every message explicitly. */
export async function plan(context: SdkBindingContext, _invocation: InvocationContext): Promise<void> {
  const stages = await productionStages();
  await stages.plan(context.messages, context.actions);
}

app.serviceBusQueue('plan', {
  connection: 'ServiceBusConnection',
  queueName: 'user-changes',
  isSessionsEnabled: true,
  sdkBinding: true,
  autoCompleteMessages: false,
  cardinality: 'many',
  handler: plan,
});
