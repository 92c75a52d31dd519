import { HttpRequest } from '@azure/functions';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { createGraphWebhookHandler } from '../../shared/handlers/graph-webhook.js';
import { createMemoryLogger } from '../../shared/logging/logger.js';
import type { BusSender } from '../../shared/ports/bus.js';
import { attributeNames, metricNames, spanNames } from '../../shared/telemetry/names.js';
import { parseTraceparent, traceIdForCorrelation } from '../../shared/telemetry/trace-context.js';
import { SimClock } from '../../sandbox/clock.js';
import { recordingSender } from '../helpers/recording-sender.js';
import { hrEvent, inputs, played, tenantWith, user } from '../integration/sandbox-fixtures.js';
import { otelHarness, total } from './otel-harness.js';

const SECRET = 'a-client-state-of-32-characters!';
const U1 = '00000000-0000-4000-8000-000000000001';
const U2 = '00000000-0000-4000-8000-000000000002';
const CALLER = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

const notification = (userId: string, extra: Record<string, unknown> = {}) => ({
  id: `n-${userId}`,
  subscriptionId: 'sub-1',
  clientState: SECRET,
  changeType: 'updated',
  resource: `Users/${userId}`,
  resourceData: { '@odata.type': '#Microsoft.Graph.User', id: userId },
  tenantId: 't',
  ...extra,
});

const post = (body: unknown, headers: Record<string, string> = {}) =>
  new HttpRequest({ method: 'POST', url: 'http://localhost/api/graph/notifications', headers, body: { string: JSON.stringify(body) } });

let harness = otelHarness();
afterEach(async () => {
  await harness.shutdown();
  harness = otelHarness();
});

function webhook(sender: BusSender) {
  return createGraphWebhookHandler(async () => ({
    clientState: SECRET,
    sender,
    clock: new SimClock('2026-11-23T12:00:00Z'),
    logger: createMemoryLogger(),
    telemetry: harness.telemetry,
  }));
}

describe('the Graph webhook starts the trace of each person it enqueues', () => {
  it('opens one server span per accepted notification, in the trace of its correlation id, linked to the caller\'s traceparent', async () => {
    const recording = recordingSender({ name: 'user-changes', requiresSession: true });
    const response = await webhook(recording.sender)(
      post({ value: [notification(U1), notification(U2), notification('not-a-guid'), notification(U1, { clientState: 'wrong-state-of-enough-length' })] }, { traceparent: CALLER }),
    );
    expect(response.status).toBe(202);
    expect(recording.sent).toHaveLength(2);
    const spans = harness.spans().filter((s) => s.name === spanNames.graphNotification);
    expect(spans).toHaveLength(2);
    for (const message of recording.sent) {
      const correlationId = String(message.correlationId);
      const span = spans.find((s) => s.attributes[attributeNames.correlationId] === correlationId);
      expect(span, correlationId).toBeDefined();
      expect(span!.kind).toBe(SpanKind.SERVER);
      expect(span!.spanContext().traceId).toBe(traceIdForCorrelation(correlationId));
      expect(span!.attributes[attributeNames.userId]).toBe(message.sessionId);
      expect(span!.links.map((l) => l.context.traceId)).toEqual([parseTraceparent(CALLER)!.traceId]);
      // The user-change carries the span as its parent, so plan continues this trace.
      const carried = parseTraceparent(message.applicationProperties?.traceparent);
      expect(carried).toMatchObject({ traceId: span!.spanContext().traceId, spanId: span!.spanContext().spanId });
      expect(message.applicationProperties?.['Diagnostic-Id']).toBe(message.applicationProperties?.traceparent);
      expect(span!.status.code).not.toBe(SpanStatusCode.ERROR);
    }
    await harness.collect();
    expect(total(harness.metric(metricNames.messagesSent), { [attributeNames.stage]: 'webhook', [attributeNames.queue]: 'user-changes' })).toBe(2);
  });

  it('without a caller traceparent the span has no link and still roots the derived trace', async () => {
    const recording = recordingSender({ name: 'user-changes', requiresSession: true });
    await webhook(recording.sender)(post({ value: [notification(U1)] }));
    const [span] = harness.spans();
    expect(span?.links).toEqual([]);
    expect(span?.spanContext().traceId).toBe(traceIdForCorrelation(String(recording.sent[0]?.correlationId)));
  });

  it('marks the spans failed when the send fails, and Graph gets an error to retry', async () => {
    const recording = recordingSender({ name: 'user-changes', requiresSession: true });
    const failing: BusSender = {
      ...recording.sender,
      sendMessages: async () => {
        throw Object.assign(new Error('the namespace is unreachable'), { code: 'ServiceUnavailable' });
      },
    };
    await expect(webhook(failing)(post({ value: [notification(U1)] }))).rejects.toThrow('unreachable');
    const [span] = harness.spans();
    expect(span?.name).toBe(spanNames.graphNotification);
    expect(span?.status.code).toBe(SpanStatusCode.ERROR);
    await harness.collect();
    expect(total(harness.metric(metricNames.messagesSent), { [attributeNames.stage]: 'webhook' })).toBe(0);
  });

  it('a validation handshake opens no span', async () => {
    const recording = recordingSender({ name: 'user-changes', requiresSession: true });
    const request = new HttpRequest({ method: 'POST', url: 'http://localhost/api/graph/notifications', query: { validationToken: 'abc' } });
    await webhook(recording.sender)(request);
    expect(harness.spans()).toEqual([]);
  });
});

describe('a notified change is one end-to-end transaction, webhook → plan → apply → record (sandbox)', () => {
  it('every span of the notification\'s correlation id is in its derived trace, each hop the child of the previous', { timeout: 240_000 }, async () => {
    const tenant = tenantWith([user(U1, 'carla@contoso.example', 'E1')], {
      directoryChanges: [{ atMs: 2 * 24 * 3_600_000, userId: U1, set: { servicePlans: ['TEAMS1'] }, notify: true }],
    });
    const joiner = hrEvent('e1', 'joiner', '2026-11-02T08:00:00Z', { employeeId: 'E1', userPrincipalName: 'carla@contoso.example', site: 'AMS', departmentId: 'DEPT001' });
    await played(inputs({ tenant, eventLines: [joiner] }), { telemetry: harness.telemetry });
    const webhookSpans = harness.spans().filter((s) => s.name === spanNames.graphNotification);
    expect(webhookSpans).toHaveLength(1);
    const correlationId = String(webhookSpans[0]!.attributes[attributeNames.correlationId]);
    const spans = harness.spans().filter((s) => s.attributes[attributeNames.correlationId] === correlationId);
    expect(new Set(spans.map((s) => s.spanContext().traceId))).toEqual(new Set([traceIdForCorrelation(correlationId)]));
    const ids = new Map(harness.spans().map((s) => [s.spanContext().spanId, s]));
    const record = spans.find((s) => s.name === spanNames.record && s.attributes[attributeNames.result] === 'applied');
    expect(record).toBeDefined();
    const chain: string[] = [];
    for (let current: typeof record = record; current; current = ids.get(current.parentSpanContext?.spanId ?? '')) chain.unshift(current.name);
    expect(chain.filter((n, i) => n !== chain[i - 1])).toEqual([spanNames.graphNotification, spanNames.plan, spanNames.apply, spanNames.record]);
  });
});
