import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defaultRetryPolicy } from '../../shared/domain/settlement.js';
import { createStageHandler } from '../../shared/handlers/stage-runner.js';
import { silentLogger } from '../../shared/logging/logger.js';
import { attributeNames, metricNames } from '../../shared/telemetry/names.js';
import { recordCommand, startApplySpan } from '../../worker/consumer-telemetry.js';
import type { VoiceCommand, VoiceResult } from '../../shared/contracts/messages.js';
import { SimClock } from '../../sandbox/clock.js';
import { recordingActions } from '../helpers/fake-actions.js';
import { recordingSender } from '../helpers/recording-sender.js';
import { otelHarness } from './otel-harness.js';

const TENANT_A = '8f0c2a53-5d0e-4c1b-9a57-2f1f0e6f0001';

let harness = otelHarness();
afterEach(async () => {
  await harness.shutdown();
  harness = otelHarness();
});

function stage() {
  const out = recordingSender({ name: 'out' });
  return createStageHandler(
    {
      stage: 'test',
      queue: 'q',
      schema: z.object({ n: z.number(), tenantId: z.string().optional() }),
      correlationOf: () => 'c',
      run: async () => ({ outcome: { kind: 'permanent', code: 'PoolExhausted', message: 'no number' }, send: [{ queue: 'out', messages: [{ body: {}, messageId: 'o1' }] }] }),
    },
    { clock: new SimClock('2026-11-02T08:00:00Z'), logger: silentLogger, retryPolicy: defaultRetryPolicy, sender: () => out.sender, telemetry: harness.telemetry },
  );
}

const tenantsOf = (name: string) => harness.metric(name).map((p) => p.attributes[attributeNames.tenant]);

describe('the metrics and spans carry the tenant when the message names one (for the per-tenant workbook of issue 16)', () => {
  it('a stage adds dialtone.tenant to its settlement, dead-letter and sent counts and to its span', async () => {
    await stage()([{ body: { n: 1, tenantId: TENANT_A }, messageId: 'm1' }], recordingActions().actions);
    await harness.collect();
    for (const name of [metricNames.stageMessages, metricNames.deadLetters, metricNames.messagesSent]) expect(tenantsOf(name), name).toEqual([TENANT_A]);
    expect(harness.spans()[0]?.attributes[attributeNames.tenant]).toBe(TENANT_A);
  });

  it('a message without a tenant gets no tenant dimension (a single-tenant deployment)', async () => {
    await stage()([{ body: { n: 1 }, messageId: 'm1' }], recordingActions().actions);
    await harness.collect();
    expect(tenantsOf(metricNames.stageMessages)).toEqual([undefined]);
    expect(harness.spans()[0]?.attributes[attributeNames.tenant]).toBeUndefined();
  });

  it('the worker adds it to its command counts and its apply span', async () => {
    const command = { correlationId: 'c', userId: 'u', tenantId: TENANT_A } as unknown as VoiceCommand;
    const span = startApplySpan(harness.telemetry, { body: {}, messageId: 'm' }, command, 'voice-commands');
    const result = { status: 'failed', tenantId: TENANT_A, error: { code: 'Throttled', message: 'slow down' } } as unknown as VoiceResult;
    recordCommand(harness.telemetry, span, result, true, 'voice-results');
    span.end();
    await harness.collect();
    for (const name of [metricNames.workerCommands, metricNames.workerThrottled, metricNames.messagesSent]) expect(tenantsOf(name), name).toEqual([TENANT_A]);
    expect(harness.spans()[0]?.attributes[attributeNames.tenant]).toBe(TENANT_A);
  });
});
