import { describe, expect, it } from 'vitest';
import { createStageHandler } from '../../shared/handlers/stage-runner.js';
import { poolFill } from '../../shared/domain/pool-fill.js';
import { reportPoolFill } from '../../shared/usecases/report-pool-fill.js';
import { metricNames, spanNames } from '../../shared/telemetry/names.js';
import { parseTraceparent, traceContextProperties, traceIdForCorrelation, traceparentOf } from '../../shared/telemetry/trace-context.js';
import { z } from 'zod';
import { otelHarness, total } from './otel-harness.js';
import { recordingSender } from '../helpers/recording-sender.js';
import { defaultRetryPolicy } from '../../shared/domain/settlement.js';
import { createMemoryLogger } from '../../shared/logging/logger.js';

const PRODUCER = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe('W3C trace context on Service Bus application properties', () => {
  it('reads traceparent, else a W3C Diagnostic-Id, and refuses anything malformed or all-zero', () => {
    expect(traceparentOf({ traceparent: PRODUCER })).toBe(PRODUCER);
    expect(traceparentOf({ 'Diagnostic-Id': PRODUCER })).toBe(PRODUCER);
    expect(traceparentOf({ 'Diagnostic-Id': '|abc.1.' })).toBeUndefined();
    expect(parseTraceparent('00-00000000000000000000000000000000-b7ad6b7169203331-01')).toBeUndefined();
    expect(parseTraceparent('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331')).toBeUndefined();
    expect(traceContextProperties('')).toEqual({});
    expect(traceContextProperties(PRODUCER)).toEqual({ traceparent: PRODUCER, 'Diagnostic-Id': PRODUCER });
  });

  it('derives a stable 32-hex trace id per correlation id', () => {
    expect(traceIdForCorrelation('evt-1')).toMatch(/^[0-9a-f]{32}$/);
    expect(traceIdForCorrelation('evt-1')).toBe(traceIdForCorrelation('evt-1'));
    expect(traceIdForCorrelation('evt-1')).not.toBe(traceIdForCorrelation('evt-2'));
  });
});

describe('the stage runner', () => {
  function runner(startsTrace: boolean) {
    const harness = otelHarness();
    const { sender, sent } = recordingSender({ name: 'user-changes', requiresSession: false });
    const handler = createStageHandler(
      {
        stage: 'correlate',
        queue: 'hr-events',
        schema: z.object({ id: z.string() }),
        correlationOf: (input) => input.id,
        startsTrace,
        run: async () => ({ outcome: { kind: 'done', summary: 'ok' }, send: [{ queue: 'user-changes', messages: [{ body: {}, messageId: 'm2' }] }] }),
      },
      {
        clock: { now: () => new Date('2026-11-02T08:00:00Z') },
        logger: createMemoryLogger(),
        retryPolicy: defaultRetryPolicy,
        telemetry: harness.telemetry,
        sender: () => sender,
      },
    );
    const actions = { complete: async () => undefined, abandon: async () => undefined, deadletter: async () => undefined };
    return { harness, sent, run: () => handler({ body: { id: 'evt-7' }, messageId: 'm1', applicationProperties: { traceparent: PRODUCER } }, actions as never) };
  }

  it('starts the HR event\'s trace from its correlation id, links the producer\'s context, and stamps what it sends', async () => {
    const { harness, sent, run } = runner(true);
    await run();
    const [span] = harness.spans();
    expect(span?.name).toBe(spanNames.correlate);
    expect(span?.spanContext().traceId).toBe(traceIdForCorrelation('evt-7'));
    expect(span?.links.map((l) => l.context.traceId)).toEqual(['0af7651916cd43dd8448eb211c80319c']);
    const stamped = sent[0]?.applicationProperties ?? {};
    expect(parseTraceparent(stamped.traceparent)?.spanId).toBe(span?.spanContext().spanId);
    expect(stamped['Diagnostic-Id']).toBe(stamped.traceparent);
    await harness.collect();
    expect(total(harness.metric(metricNames.messagesSent), { 'dialtone.queue': 'user-changes' })).toBe(1);
  });

  it('continues the context a message carries in a later stage', async () => {
    const { harness, run } = runner(false);
    await run();
    const [span] = harness.spans();
    expect(span?.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(span?.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
  });
});

describe('pool fill', () => {
  const summary = (free: number, total: number) => ({ pool: 'AMS', quarantineDays: 30, total, counts: { free, reserved: 0, assigned: total - free, quarantined: 0, blocked: 0 } });

  it('is the share of numbers that are not free; an empty pool is full', () => {
    expect(poolFill(summary(1, 10)).usedRatio).toBe(0.9);
    expect(poolFill(summary(10, 10)).usedRatio).toBe(0);
    expect(poolFill(summary(0, 0)).usedRatio).toBe(1);
  });

  it('is reported per pool as a gauge', async () => {
    const harness = otelHarness();
    await reportPoolFill({ inventory: { pools: async () => [summary(1, 20), { ...summary(5, 5), pool: 'RTM' }] }, telemetry: harness.telemetry });
    await harness.collect();
    const points = harness.metric(metricNames.poolUsedRatio).map((p) => [p.attributes['dialtone.pool'], p.value]);
    expect(points.sort()).toEqual([['AMS', 0.95], ['RTM', 0]]);
  });
});
