import { queueNames, type UserChange } from '../contracts/messages.js';
import {
  ChangeNotificationSchema,
  type ChangeNotification,
  clientStateMatches,
  NotificationCollectionSchema,
  userIdOf,
} from '../domain/graph-notifications.js';
import { isDialtoneError } from '../domain/errors.js';
import { deterministicId, personSessionId } from '../domain/ids.js';
import type { EffectiveTenant } from '../domain/tenants.js';
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
  /**
   * The tenants in force (cached): a notification's `tenantId` naming a registered tenant puts
   * that tenant on the user change (and its tenant-scoped session id); one naming a tenant this
   * deployment does not serve is refused alone. Absent: notifications are the default tenant's.
   */
  tenants?: (() => Promise<readonly EffectiveTenant[]>) | undefined;
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
 * The tenant a notification's change is put under: a registered tenant it names, or none (the
 * default tenant's: no registry, the implicit tenant, or a notification without tenantId).
 */
function notificationTenant(tenantId: string | undefined, inForce: readonly EffectiveTenant[] | undefined): { ok: true; tenantId: string | undefined } | { ok: false; reason: string } {
  if (tenantId === undefined || inForce === undefined) return { ok: true, tenantId: undefined };
  const id = tenantId.toLowerCase();
  const tenant = inForce.find((t) => t.tenantId === id);
  if (tenant?.source === 'registry') return { ok: true, tenantId: id };
  if (tenant || inForce.every((t) => t.source === 'implicit')) return { ok: true, tenantId: undefined };
  return { ok: false, reason: `tenant ${id} is not a tenant of this deployment` };
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
  const inForce = deps.tenants ? await deps.tenants() : undefined;
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
    const tenant = notificationTenant(n.tenantId, inForce);
    if (!tenant.ok) {
      rejected += 1;
      deps.logger.warn('graph notification rejected', { field: 'tenantId', reason: tenant.reason, subscriptionId: n.subscriptionId });
      continue;
    }
    const tenantId = tenant.tenantId;
    const eventId = deterministicId('graph', n.subscriptionId, userId, n.changeType, changeIdentity(n, now));
    const change: UserChange = {
      userId,
      ...(tenantId !== undefined ? { tenantId } : {}),
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
      sessionId: personSessionId(userId, tenantId),
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
