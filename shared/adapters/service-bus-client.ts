import type { AccessToken, TokenCredential } from '@azure/identity';
import { ServiceBusClient, type ServiceBusClientOptions } from '@azure/service-bus';
import type { ServiceBusTarget } from '../config/settings.js';

/**
 * The Service Bus client for a target: the namespace with the managed identity (Azure), or the
 * local emulator with its connection string (compose.yaml). Settings accept a connection string
 * only when it is the emulator's, so Azure is never reached with a SAS key. `options` (the retry
 * policy) apply to every operation of the client.
 */
export function createServiceBusClient(target: ServiceBusTarget, credential: TokenCredential, options: ServiceBusClientOptions = {}): ServiceBusClient {
  return target.kind === 'emulator' ? new ServiceBusClient(target.connectionString, options) : new ServiceBusClient(target.namespace, credential, options);
}

/**
 * The credential for the Graph simulator of compose.yaml: a fixed placeholder bearer token (the
 * simulator refuses a request without one, as Graph does). Settings allow it only with an http://
 * Graph URL, so it never reaches Microsoft Graph, and no Entra token ever goes over plain HTTP.
 */
export const graphSimulatorCredential: TokenCredential = {
  getToken: async (): Promise<AccessToken> => ({ token: 'dialtone-graph-simulator', expiresOnTimestamp: Date.now() + 3_600_000 }),
};
