import type { Settlement, StageOutcome } from '../domain/settlement.js';
import type { OutgoingMessage, ReceivedMessage } from '../ports/bus.js';
import type { Telemetry, TelemetryAttributes, TelemetrySpan } from '../ports/telemetry.js';
import { attributeNames as a, metricNames } from '../telemetry/names.js';
import { noopTelemetry } from '../telemetry/noop.js';
import { traceContextProperties, traceparentOf } from '../telemetry/trace-context.js';

/** What the stage runner tells telemetry; kept here so stage-runner.ts stays about settlement. */
export interface StageTelemetryDefinition {
  stage: string;
  queue: string;
  /** The first stage of a flow: its trace id is derived from the correlation id; a producer's context is linked. */
  startsTrace?: boolean;
}

export function telemetryOf(deps: { telemetry?: Telemetry | undefined }): Telemetry {
  return deps.telemetry ?? noopTelemetry;
}

/** A consumer span for one message, continuing the trace context the message carries. */
export function startStageSpan(
  telemetry: Telemetry,
  definition: StageTelemetryDefinition,
  message: ReceivedMessage,
  ids: { messageId: string; correlationId: string },
  attributes: TelemetryAttributes = {},
): TelemetrySpan {
  const incoming = traceparentOf(message.applicationProperties);
  return telemetry.startSpan(`dialtone ${definition.stage}`, {
    kind: 'consumer',
    parent: definition.startsTrace ? undefined : incoming,
    correlationId: ids.correlationId,
    links: definition.startsTrace && incoming ? [incoming] : [],
    attributes: {
      'messaging.system': 'servicebus',
      'messaging.operation.type': 'process',
      'messaging.destination.name': definition.queue,
      'messaging.message.id': ids.messageId,
      [a.stage]: definition.stage,
      [a.queue]: definition.queue,
      [a.correlationId]: ids.correlationId,
      ...attributes,
    },
  });
}

/** The message, as a child of the span: `traceparent` and `Diagnostic-Id` application properties. */
export function withTraceContext(message: OutgoingMessage, span: TelemetrySpan): OutgoingMessage {
  const properties = traceContextProperties(span.traceparent);
  if (Object.keys(properties).length === 0) return message;
  return { ...message, applicationProperties: { ...(message.applicationProperties ?? {}), ...properties } };
}

export function countSent(telemetry: Telemetry, stage: string, queue: string, count: number): void {
  if (count > 0) telemetry.count(metricNames.messagesSent, count, { [a.stage]: stage, [a.queue]: queue });
}

/** The figures the workbook reads: one count per settled message, and one per dead letter. */
export function recordSettlement(
  telemetry: Telemetry,
  span: TelemetrySpan,
  definition: StageTelemetryDefinition,
  settlement: Pick<Settlement, 'action'> & { reason?: string | undefined; description?: string | undefined },
  outcome: StageOutcome | { kind: 'invalid' },
): void {
  const code = 'code' in outcome ? outcome.code : undefined;
  telemetry.count(metricNames.stageMessages, 1, {
    [a.stage]: definition.stage,
    [a.queue]: definition.queue,
    [a.settlement]: settlement.action,
    [a.outcome]: outcome.kind,
    [a.code]: code,
  });
  span.setAttributes({ [a.settlement]: settlement.action, [a.outcome]: outcome.kind, [a.code]: code });
  if (settlement.action === 'deadletter') {
    telemetry.count(metricNames.deadLetters, 1, { [a.queue]: definition.queue, [a.reason]: settlement.reason });
    span.fail(settlement.reason ?? 'DeadLettered', settlement.description ?? '');
  }
}
