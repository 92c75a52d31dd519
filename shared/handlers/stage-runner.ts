import type { z } from 'zod';
import { describeZodError } from '../contracts/messages.js';
import { isDialtoneError } from '../domain/errors.js';
import { brokerScheduleAtMs } from '../domain/broker-time.js';
import { retryCopyId } from '../domain/ids.js';
import { decodeBody } from '../domain/message-body.js';
import { decideSettlement, type RetryPolicy, type RetryState, type StageOutcome } from '../domain/settlement.js';
import { idText, type ApplicationProperties, type BusSender, type MessageActions, type OutgoingMessage, type ReceivedMessage } from '../ports/bus.js';
import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { Telemetry, TelemetryAttributes } from '../ports/telemetry.js';
import { sendInBatches } from '../usecases/send-in-batches.js';
import { forTenant } from '../telemetry/scoped.js';
import { countSent, recordSettlement, startStageSpan, telemetryOf, withTraceContext } from './stage-telemetry.js';

export const retryProperties = {
  attempt: 'dialtone-attempt',
  firstAttemptAt: 'dialtone-first-attempt-at',
  originalId: 'dialtone-original-id',
  transientAttempts: 'dialtone-transient-attempts',
} as const;

/** What a use case hands back: its conclusion and the messages to send before settling. */
export interface UseCaseResult {
  outcome: StageOutcome;
  send?: { queue: string; messages: OutgoingMessage[] }[];
  /** Application properties the rescheduled copy carries to its next delivery (a poll's state). */
  carry?: ApplicationProperties;
}

export interface MessageMeta {
  messageId: string;
  correlationId: string | undefined;
  deliveryCount: number;
  attempt: number;
  /** The message's application properties, as received (read-only). */
  properties?: Readonly<ApplicationProperties>;
}

export interface StageDeps {
  clock: Clock;
  logger: Logger;
  retryPolicy: RetryPolicy;
  sender: (queue: string) => BusSender;
  /** Spans and metrics (shared/telemetry); none when absent. */
  telemetry?: Telemetry;
}

export interface StageDefinition<T, P = never> {
  stage: string;
  queue: string;
  schema: z.ZodType<T>;
  run: (input: T, meta: MessageMeta, prepared?: P) => Promise<UseCaseResult>;
  /**
   * Work for the whole invocation before its messages are handled one by one (correlate: the
   * burst's user lookups in Graph $batch requests). Gets the inputs that parsed; a failure is
   * logged and each message then does its own work.
   */
  prepare?: (inputs: T[]) => Promise<P | undefined>;
  correlationOf: (input: T, meta: MessageMeta) => string;
  /** The first stage of a flow (correlate): its trace id is derived from the correlation id. */
  startsTrace?: boolean;
  /** Extra span attributes from the input (record: the result status, for the latency tile). */
  spanAttributes?: (input: T) => TelemetryAttributes;
}

const MAX_DESCRIPTION = 1024;

/**
 * The one settlement path shared by every queue-triggered function: parse with zod, run the
 * use case, send what it produced, then settle explicitly. A message is never left unsettled
 * and never retried in a hot loop: lag and transient errors are rescheduled copies with a
 * deterministic id (duplicate detection absorbs a crash between send and complete).
 */
export function createStageHandler<T, P = never>(definition: StageDefinition<T, P>, deps: StageDeps) {
  return async function handle(messages: ReceivedMessage | ReceivedMessage[], actions: MessageActions): Promise<void> {
    const list = Array.isArray(messages) ? messages : [messages];
    const prepared = await prepare(definition, deps, list);
    for (const message of list) {
      await handleOne(definition, deps, message, actions, prepared);
    }
  };
}

async function prepare<T, P>(definition: StageDefinition<T, P>, deps: StageDeps, messages: ReceivedMessage[]): Promise<P | undefined> {
  if (!definition.prepare || messages.length < 2) return undefined;
  const inputs: T[] = [];
  for (const message of messages) {
    const parsed = definition.schema.safeParse(decodeBody(message.body));
    if (parsed.success) inputs.push(parsed.data);
  }
  if (inputs.length < 2) return undefined;
  try {
    return await definition.prepare(inputs);
  } catch (error) {
    deps.logger.child({ stage: definition.stage }).warn('preparing the batch failed; each message does its own work', { error });
    return undefined;
  }
}

async function handleOne<T, P>(
  definition: StageDefinition<T, P>,
  deps: StageDeps,
  message: ReceivedMessage,
  actions: MessageActions,
  prepared: P | undefined,
): Promise<void> {
  const now = deps.clock.now().getTime();
  const retry = readRetryState(message, now);
  const meta: MessageMeta = {
    messageId: idText(message.messageId) ?? '(none)',
    correlationId: idText(message.correlationId),
    deliveryCount: message.deliveryCount ?? 1,
    attempt: retry.attempt,
    properties: message.applicationProperties ?? {},
  };
  const base = deps.logger.child({ stage: definition.stage, messageId: meta.messageId, correlationId: meta.correlationId });
  const telemetry = telemetryOf(deps);

  const parsed = definition.schema.safeParse(decodeBody(message.body));
  if (!parsed.success) {
    const description = `Invalid ${definition.queue} message: ${describeZodError(parsed.error)}`;
    base.warn('message rejected', { reason: 'InvalidMessage', description });
    const rejected = startStageSpan(telemetry, definition, message, { messageId: meta.messageId, correlationId: meta.correlationId ?? meta.messageId });
    recordSettlement(telemetry, rejected, definition, { action: 'deadletter', reason: 'InvalidMessage', description }, { kind: 'invalid' });
    rejected.end();
    await actions.deadletter(message, undefined, 'InvalidMessage', truncate(description));
    return;
  }
  const input = parsed.data;
  const correlationId = definition.correlationOf(input, meta);
  const log = base.child({ correlationId });
  const scoped = forTenant(telemetry, input);
  const span = startStageSpan(scoped, definition, message, { messageId: meta.messageId, correlationId }, definition.spanAttributes?.(input));
  try {
    await settle(definition, deps, message, actions, { input, meta, retry, now, log, span, telemetry: scoped, prepared });
  } finally {
    span.end();
  }
}

async function settle<T, P>(
  definition: StageDefinition<T, P>,
  deps: StageDeps,
  message: ReceivedMessage,
  actions: MessageActions,
  c: { input: T; meta: MessageMeta; retry: RetryState; now: number; log: Logger; span: ReturnType<typeof startStageSpan>; telemetry: Telemetry; prepared: P | undefined },
): Promise<void> {
  const { input, meta, retry, now, log, span, telemetry, prepared } = c;

  let result: UseCaseResult;
  try {
    result = await definition.run(input, meta, prepared);
  } catch (error) {
    result = { outcome: outcomeOfError(error) };
    log.error('use case failed', { error, outcome: result.outcome });
  }

  const settlement = decideSettlement(result.outcome, retry, now, deps.retryPolicy);
  for (const batch of result.send ?? []) {
    await sendInBatches(deps.sender(batch.queue), batch.messages.map((m) => withTraceContext(m, span)));
    countSent(telemetry, definition.stage, batch.queue, batch.messages.length);
  }
  recordSettlement(telemetry, span, definition, settlement, result.outcome);
  switch (settlement.action) {
    case 'complete':
      log.info(result.outcome.kind === 'stale' ? 'stale message completed' : 'message completed', {
        outcome: result.outcome.kind,
        summary: 'summary' in result.outcome ? result.outcome.summary : undefined,
      });
      await actions.complete(message);
      return;
    case 'deadletter':
      log.warn('message dead-lettered', { reason: settlement.reason, description: settlement.description });
      await actions.deadletter(message, undefined, settlement.reason, truncate(settlement.description));
      return;
    case 'reschedule': {
      const transient = settlement.transientAttempts ?? retry.transientAttempts ?? 0;
      const carry = { ...result.carry, [retryProperties.transientAttempts]: transient };
      const copy = withTraceContext(rescheduledCopy(message, settlement.attempt, retry.firstAttemptAt, carry), span);
      const at = new Date(brokerScheduleAtMs(settlement.at, now, message.enqueuedTimeUtc?.getTime()));
      await deps.sender(definition.queue).scheduleMessages(copy, at);
      log.info('message rescheduled', {
        attempt: settlement.attempt,
        at: at.toISOString(),
        note: settlement.note,
        copyId: copy.messageId,
      });
      await actions.complete(message);
      return;
    }
  }
}

export function outcomeOfError(error: unknown): StageOutcome {
  if (isDialtoneError(error)) {
    return error.transient
      ? { kind: 'transient', code: error.code, message: error.message, ...(error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}) }
      : { kind: 'permanent', code: error.code, message: error.message };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { kind: 'transient', code: 'Unexpected', message: `Unexpected error: ${message}` };
}

export function readRetryState(message: ReceivedMessage, now: number): RetryState {
  const props = message.applicationProperties ?? {};
  const attempt = Number(props[retryProperties.attempt] ?? 0);
  const first = Number(props[retryProperties.firstAttemptAt] ?? now);
  const safeAttempt = Number.isFinite(attempt) ? attempt : 0;
  // A copy rescheduled before transient failures were counted apart: all its attempts count.
  const transient = Number(props[retryProperties.transientAttempts] ?? safeAttempt);
  return {
    attempt: safeAttempt,
    firstAttemptAt: Number.isFinite(first) ? first : now,
    transientAttempts: Number.isFinite(transient) && transient >= 0 ? Math.min(transient, safeAttempt) : safeAttempt,
  };
}

function rescheduledCopy(message: ReceivedMessage, attempt: number, firstAttemptAt: number, carry?: ApplicationProperties): OutgoingMessage {
  const props = message.applicationProperties ?? {};
  const originalId = String(props[retryProperties.originalId] ?? idText(message.messageId) ?? 'message');
  return {
    body: message.body,
    messageId: retryCopyId(originalId, attempt),
    ...(message.sessionId !== undefined ? { sessionId: message.sessionId } : {}),
    ...(message.correlationId !== undefined ? { correlationId: idText(message.correlationId) } : {}),
    ...(message.subject !== undefined ? { subject: message.subject } : {}),
    contentType: message.contentType ?? 'application/json',
    applicationProperties: {
      ...props,
      ...carry,
      [retryProperties.attempt]: attempt,
      [retryProperties.firstAttemptAt]: firstAttemptAt,
      [retryProperties.originalId]: originalId,
    },
  };
}

function truncate(text: string): string {
  return text.length > MAX_DESCRIPTION ? `${text.slice(0, MAX_DESCRIPTION - 1)}…` : text;
}
