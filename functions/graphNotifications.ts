import { app } from '@azure/functions';
import { productionWebhook } from '../shared/composition/production.js';
import { createGraphWebhookHandler } from '../shared/handlers/graph-webhook.js';

/**
 * Microsoft Graph change notifications for users → user-changes. Graph calls the URL with the
 * function key (`?code=`) as the subscription's notificationUrl; clientState is checked on every
 * notification.
 */
export const graphNotifications = createGraphWebhookHandler(productionWebhook);

app.http('graphNotifications', {
  route: 'graph/notifications',
  methods: ['POST'],
  authLevel: 'function',
  handler: graphNotifications,
});
