import { queueNames, type UserChange } from '../contracts/messages.js';
import {
  ChangeNotificationSchema,
  type ChangeNotification,
  clientStateMatches,
  NotificationCollectionSchema,
  userIdOf,
} from '../domain/graph-notifications.js';
import { isDialtoneError } from '../domain/errors.js';
import { deterministicId } from '../domain/ids.js';
import type { BusSender } from '../ports/bus.js';
import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { Telemetry, TelemetrySpan } from '../ports/telemetry.js';
import { attributeNames as a, metricNames, spanNames } from '../telemetry/names.js';
import { noopTelemetry } from '../telemetry/noop.js';
import { traceContextProperties, traceparentOf } from '../telemetry/trace-context.js';
import { sendInBatches } from './send-in-batches.js';

/** The stage name the webhook's sends are counted under (`dialtone.messages.sent`). */
export const WEBHOOK_STAGE = 'webhook';

export interface WebhookRequest {
  validationToken: string | null;
  bodyText: string;
  /**
   * The trace context of the HTTP call (its `traceparent` header, else the Functions host's own
   * invocation context): linked from each person's span, whose trace is that person's own.
   */
  traceparent?: string | undefined;
}

export interface WebhookResponse {
  status: number;
  body?: string;
  contentType?: string;
}

export interface WebhookDeps {
  clientState: string | undefined;
  sender: BusSender;
  clock: Clock;
  logger: Logger;
  /** Spans and metrics (shared/telemetry); none when absent. */
  telemetry?: Telemetry | undefined;
}

/**
 * The identity of one change: Graph's own notification id (a redelivery of the same notification
 * repeats it, so duplicate detection drops it). Without an id the delivery itself is the identity:
 * a duplicate then costs one re-plan that sends nothing, where a time bucket would lose a real
 * second change made seconds after the first.
 */
function changeIdentity(notification: ChangeNotification, deliveredAt: Date): string {
  return notification.id ? `id:${notification.id}` : `delivery:${deliveredAt.toISOString()}`;
}

/**
 * The Graph webhook: echo the validation token, or turn each authentic user notification into
 * a user-change for `plan`. It never calls Graph (Graph wants an answer within 3 s) and only
 * enqueues; duplicates, which Graph sends, get the same message id and are dropped by the broker.
 */
export async function acceptGraphNotifications(request: WebhookRequest, getDeps: () => Promise<WebhookDeps>): Promise<WebhookResponse> {
  // Graph validates the URL before it creates the subscription: answer at once, build nothing.
  if (request.validationToken !== null) {
    return { status: 200, body: request.validationToken, contentType: 'text/plain' };
  }
  const deps = await getDeps();
  if (!deps.clientState) {
    deps.logger.error('graph notification refused: DIALTONE_GRAPH_CLIENT_STATE is not set');
    return { status: 503, body: 'not configured' };
  }
  let json: unknown;
  try {
    json = JSON.parse(request.bodyText);
  } catch {
    return { status: 400, body: 'body is not JSON' };
  }
  const collection = NotificationCollectionSchema.safeParse(json);
  if (!collection.success) return { status: 400, body: 'expected { "value": [ notifications ] }' };

  const now = deps.clock.now();
  const telemetry = deps.telemetry ?? noopTelemetry;
  const caller = traceparentOf({ traceparent: request.traceparent });
  const messages = [];
  const spans: TelemetrySpan[] = [];
  let rejected = 0;
  for (const raw of collection.data.value) {
    const parsed = ChangeNotificationSchema.safeParse(raw);
    if (!parsed.success) {
      deps.logger.warn('graph notification ignored: unexpected shape', { issues: parsed.error.issues.map((i) => i.path.join('.')) });
      continue;
    }
    const n = parsed.data;
    if (!clientStateMatches(n.clientState, deps.clientState)) {
      deps.logger.warn('graph notification ignored: clientState does not match', { subscriptionId: n.subscriptionId });
      continue;
    }
    if (n.lifecycleEvent) {
      deps.logger.warn('graph lifecycle event received', { subscriptionId: n.subscriptionId, lifecycleEvent: n.lifecycleEvent });
      continue;
    }
    const user = userIdOf(n);
    if (!user.ok) {
      // Refused alone: the rest of the POST is still accepted, so Graph does not retry it all.
      rejected += 1;
      deps.logger.warn('graph notification rejected', { field: user.field, reason: user.reason, subscriptionId: n.subscriptionId });
      continue;
    }
    const userId = user.userId;
    const eventId = deterministicId('graph', n.subscriptionId, userId, n.changeType, changeIdentity(n, now));
    const change: UserChange = {
      userId,
      source: 'graph',
      changeType: n.changeType === 'deleted' ? 'deleted' : 'updated',
      eventId,
      correlationId: eventId,
      occurredAt: now.toISOString(),
    };
    // This person's trace starts here: its id is derived from the correlation id (as correlate's is
    // for an HR event), so `dialtone status` prints it; one POST carries many people, so the
    // HTTP call's own trace is a link, not the parent.
    const span = telemetry.startSpan(spanNames.graphNotification, {
      kind: 'server',
      correlationId: eventId,
      links: caller ? [caller] : [],
      attributes: {
        'messaging.destination.name': queueNames.userChanges,
        'messaging.message.id': eventId,
        [a.stage]: WEBHOOK_STAGE,
        [a.queue]: queueNames.userChanges,
        [a.correlationId]: eventId,
        [a.userId]: userId,
      },
    });
    spans.push(span);
    const trace = traceContextProperties(span.traceparent);
    messages.push({
      body: change,
      messageId: eventId,
      sessionId: userId,
      correlationId: eventId,
      contentType: 'application/json',
      subject: 'graph',
      ...(Object.keys(trace).length > 0 ? { applicationProperties: trace } : {}),
    });
  }
  // Up to 1,000 notifications per POST: more than one 256 KB batch, so as many batches as needed.
  let batches: number;
  try {
    batches = await sendInBatches(deps.sender, messages);
  } catch (error) {
    // Graph retries a POST not answered 2xx; the spans say why this one was not.
    const message = error instanceof Error ? error.message : String(error);
    const code = isDialtoneError(error) ? error.code : 'Unexpected';
    for (const span of spans) {
      span.fail(code, `sending to ${queueNames.userChanges} failed: ${message}`);
      span.end();
    }
    throw error;
  }
  for (const span of spans) span.end();
  if (messages.length > 0) telemetry.count(metricNames.messagesSent, messages.length, { [a.stage]: WEBHOOK_STAGE, [a.queue]: queueNames.userChanges });
  deps.logger.info('graph notifications accepted', {
    received: collection.data.value.length,
    enqueued: messages.length,
    rejected,
    batches,
    queue: queueNames.userChanges,
  });
  return { status: 202 };
}
