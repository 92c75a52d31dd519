import { SpanKind } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attributeNames, metricNames, spanNames } from '../../shared/telemetry/names.js';
import { traceIdForCorrelation } from '../../shared/telemetry/trace-context.js';
import { ANNA, inputs, played } from '../integration/sandbox-fixtures.js';
import type { SandboxReport } from '../../sandbox/host/report.js';
import { otelHarness, total } from './otel-harness.js';

const harness = otelHarness();
let report: SandboxReport;

beforeAll(async () => {
  ({ report } = await played(inputs(), { telemetry: harness.telemetry }));
  await harness.collect();
});

afterAll(() => harness.shutdown());

const spansOf = (userCorrelation: string) => harness.spans().filter((s) => s.attributes[attributeNames.correlationId] === userCorrelation);

describe('one trace per person, from the HR event through every queue into the worker and back', () => {
  it('every span of one correlation id has the one trace id `dialtone status` prints, and each hop is a child of the previous one', () => {
    const applied = harness.spans().filter((s) => s.name === spanNames.record && s.attributes[attributeNames.result] === 'applied');
    expect(applied.length).toBeGreaterThan(0);
    const ids = new Map(harness.spans().map((s) => [s.spanContext().spanId, s]));
    for (const record of applied) {
      const correlationId = String(record.attributes[attributeNames.correlationId]);
      const spans = spansOf(correlationId);
      expect(new Set(spans.map((s) => s.spanContext().traceId)), correlationId).toEqual(new Set([traceIdForCorrelation(correlationId)]));
      // Walk from the record span up to the HR event: record ← apply ← plan ← correlate.
      const chain: string[] = [];
      let current: typeof record | undefined = record;
      while (current) {
        chain.unshift(current.name);
        const parentId: string | undefined = current.parentSpanContext?.spanId;
        current = parentId ? ids.get(parentId) : undefined;
      }
      expect(chain.filter((n, i) => n !== chain[i - 1]), correlationId).toEqual([spanNames.correlate, spanNames.plan, spanNames.apply, spanNames.record]);
    }
  });

  it('Anna\'s joiner and mover are each one end-to-end transaction of consumer spans', () => {
    const anna = harness.spans().filter((s) => s.name === spanNames.apply && s.attributes[attributeNames.userId] === ANNA);
    expect(anna.length).toBeGreaterThanOrEqual(2);
    const traces = new Set(anna.map((s) => s.spanContext().traceId));
    expect(traces.size).toBe(anna.length);
    for (const s of harness.spans()) expect(s.kind).toBe(SpanKind.CONSUMER);
  });

  it('marks the dead-lettered span failed with its reason', () => {
    const failed = harness.spans().filter((s) => s.attributes[attributeNames.settlement] === 'deadletter');
    expect(failed).toHaveLength(1);
    expect(failed[0]?.attributes[attributeNames.code]).toBe('NotLicensed');
    expect(failed[0]?.status.message).toMatch(/^NotLicensed: bram\.jansen@contoso\.example has no enabled Teams Phone/);
    expect(report.deadLetters).toHaveLength(1);
  });
});

describe('the metrics the workbook reads', () => {
  it('counts events in, commands and results, as many as the sandbox saw', () => {
    expect(total(harness.metric(metricNames.stageMessages), { [attributeNames.stage]: 'correlate', [attributeNames.settlement]: 'complete' })).toBe(report.metrics.eventsIn);
    const commands = total(harness.metric(metricNames.messagesSent), { [attributeNames.queue]: 'voice-commands' });
    const results = total(harness.metric(metricNames.messagesSent), { [attributeNames.queue]: 'voice-results', [attributeNames.stage]: 'worker' });
    expect(commands).toBeGreaterThan(0);
    expect(results).toBe(commands);
    expect(total(harness.metric(metricNames.workerCommands))).toBe(commands);
  });

  it('counts dead letters per queue and reason, and NotLicensed among the stage outcomes', () => {
    expect(total(harness.metric(metricNames.deadLetters), { [attributeNames.queue]: 'user-changes', [attributeNames.reason]: 'NotLicensed' })).toBe(1);
    expect(total(harness.metric(metricNames.deadLetters))).toBe(1);
    expect(total(harness.metric(metricNames.stageMessages), { [attributeNames.code]: 'NotLicensed', [attributeNames.settlement]: 'reschedule' })).toBeGreaterThan(0);
  });

  it('reports the worker heartbeat, its warm sessions and the certificate days left', () => {
    expect(total(harness.metric(metricNames.workerHeartbeat))).toBeGreaterThanOrEqual(1);
    const days = harness.metric(metricNames.certificateDaysRemaining).map((p) => Number(p.value));
    expect(days.length).toBe(1);
    expect(days[0]).toBeGreaterThan(3640);
    expect(harness.metric(metricNames.workerSessions)).toHaveLength(1);
  });
});
