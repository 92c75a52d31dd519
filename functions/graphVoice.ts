import '@azure/functions-extensions-servicebus';
import { app, type InvocationContext } from '@azure/functions';
import { productionStages, type SdkBindingContext } from '../shared/composition/production.js';
import { teamsBackendSetting } from '../shared/config/settings.js';
import { DialtoneError } from '../shared/domain/errors.js';

/**
 * voice-commands → Teams through Microsoft Graph, for DIALTONE_TEAMS_BACKEND=graph (no hybrid
 * worker needed). Registered only in that mode, so the worker and this function never compete
 * for the same sessions. Settles every message explicitly.
 */
export async function graphVoice(context: SdkBindingContext, _invocation: InvocationContext): Promise<void> {
  const stages = await productionStages();
  if (!stages.graphVoice) throw new DialtoneError('ConfigInvalid', 'graphVoice runs only with DIALTONE_TEAMS_BACKEND=graph');
  await stages.graphVoice(context.messages, context.actions);
}

if (teamsBackendSetting() === 'graph') {
  app.serviceBusQueue('graphVoice', {
    connection: 'ServiceBusConnection',
    queueName: 'voice-commands',
    isSessionsEnabled: true,
    sdkBinding: true,
    autoCompleteMessages: false,
    cardinality: 'many',
    handler: graphVoice,
  });
}
