import type { VoiceCommand, VoiceResult } from '../shared/contracts/messages.js';
import type { ReceivedMessage } from '../shared/ports/bus.js';
import type { Telemetry, TelemetrySpan } from '../shared/ports/telemetry.js';
import { attributeNames as a, metricNames, spanNames } from '../shared/telemetry/names.js';
import { forTenant } from '../shared/telemetry/scoped.js';
import { traceContextProperties, traceparentOf } from '../shared/telemetry/trace-context.js';

/** Teams said "not now": what the workbook's throttling figure counts. */
const THROTTLING = new Set(['Throttled', 'ServiceUnavailable']);

/** The worker's span for one command: a child of the plan stage that sent it. */
export function startApplySpan(telemetry: Telemetry, message: ReceivedMessage, command: VoiceCommand, queue: string): TelemetrySpan {
  return forTenant(telemetry, command).startSpan(spanNames.apply, {
    kind: 'consumer',
    parent: traceparentOf(message.applicationProperties),
    correlationId: command.correlationId,
    attributes: {
      'messaging.system': 'servicebus',
      'messaging.operation.type': 'process',
      'messaging.destination.name': queue,
      [a.stage]: 'worker',
      [a.queue]: queue,
      [a.correlationId]: command.correlationId,
      [a.userId]: command.userId,
    },
  });
}

/** Application properties that carry the trace back to `record` on the result. */
export function resultTraceProperties(span: TelemetrySpan): Record<string, string> | undefined {
  const properties = traceContextProperties(span.traceparent);
  return Object.keys(properties).length > 0 ? properties : undefined;
}

export function recordCommand(unscoped: Telemetry, span: TelemetrySpan, result: VoiceResult, published: boolean, resultsQueue: string): void {
  const telemetry = forTenant(unscoped, result);
  const code = result.error?.code;
  telemetry.count(metricNames.workerCommands, 1, { [a.status]: result.status, [a.code]: code });
  if (code !== undefined && THROTTLING.has(code)) telemetry.count(metricNames.workerThrottled, 1, { [a.code]: code });
  if (published) telemetry.count(metricNames.messagesSent, 1, { [a.stage]: 'worker', [a.queue]: resultsQueue });
  span.setAttributes({ [a.status]: result.status, [a.code]: code });
  if (result.status === 'failed' && result.error) span.fail(result.error.code, result.error.message);
}

export function recordInvalidCommand(telemetry: Telemetry, queue: string): void {
  telemetry.count(metricNames.deadLetters, 1, { [a.queue]: queue, [a.reason]: 'InvalidMessage' });
}
