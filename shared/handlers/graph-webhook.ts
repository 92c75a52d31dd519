import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { acceptGraphNotifications, type WebhookDeps } from '../usecases/accept-graph-notifications.js';

/** The HTTP adapter: read the query and the raw body, call the use case, answer. */
export function createGraphWebhookHandler(deps: () => Promise<WebhookDeps>) {
  return async function graphWebhook(request: HttpRequest): Promise<HttpResponseInit> {
    const validationToken = request.query.get('validationToken');
    const bodyText = validationToken === null ? await request.text() : '';
    const result = await acceptGraphNotifications({ validationToken, bodyText }, deps);
    return {
      status: result.status,
      ...(result.body !== undefined ? { body: result.body } : {}),
      ...(result.contentType ? { headers: { 'content-type': result.contentType } } : {}),
    };
  };
}
