import Long from 'long';
import { queueNames, VoiceCommandSchema } from '../contracts/messages.js';
import { optionalQueueKeys } from '../contracts/queues.js';
import { decodeBody } from '../domain/message-body.js';
import { judgeReplayOfCommand } from '../domain/ordering.js';
import { matchesFilter, planReplay, subjectOf, type DeadLetterFilter, messageTenantId } from '../domain/replay.js';
import { idText, type BusClient, type ReceivedMessage } from '../ports/bus.js';
import type { Clock } from '../ports/clock.js';
import type { ProvisioningRecords } from '../ports/provisioning-records.js';
import { appendHistory, emptyRecord } from './record-history.js';
import { peekRetrying, type PeekRetryOptions } from './peek-retry.js';

/**
 * Checked before a dead letter is replayed: a reason to refuse it, or nothing. `refused` is told
 * about each refusal of a real (not dry) run, so the person's history shows it.
 */
export interface ReplayGuard {
  check(queue: string, message: ReceivedMessage): Promise<string | undefined>;
  refused?(queue: string, message: ReceivedMessage, reason: string): Promise<void>;
}

/**
 * Refuses to replay a voice command planned from an older version than the person's record:
 * executing it would undo newer facts (a joiner replayed after the leaver). Fails closed: a
 * versioned command whose record cannot be read is refused too.
 */
export function supersededCommandGuard(records: () => Promise<Pick<ProvisioningRecords, 'get' | 'update'>>, clock: Clock): ReplayGuard {
  const commandOf = (queue: string, message: ReceivedMessage) => {
    if (queue !== queueNames.voiceCommands) return undefined;
    const parsed = VoiceCommandSchema.safeParse(decodeBody(message.body));
    return parsed.success && parsed.data.version !== undefined ? parsed.data : undefined;
  };
  return {
    async check(queue, message) {
      const command = commandOf(queue, message);
      if (!command) return undefined;
      let record;
      try {
        record = await (await records()).get(command.userId);
      } catch (error) {
        return `cannot read the provisioning record of ${command.userId} to check this command's version (${error instanceof Error ? error.message : String(error)}); refused rather than risk undoing newer facts`;
      }
      return judgeReplayOfCommand(command.version, record);
    },
    async refused(queue, message, reason) {
      const command = commandOf(queue, message);
      if (!command) return;
      await (await records()).update(command.userId, (current) =>
        appendHistory(current ?? emptyRecord(command.userId, command.userPrincipalName), {
          at: clock.now().toISOString(),
          correlationId: command.correlationId,
          eventId: command.eventId,
          commandId: command.commandId,
          stage: 'replay',
          outcome: 'replay-refused',
          detail: reason,
        }),
      );
    },
  };
}

export const allQueues = Object.values(queueNames);

const optionalQueues = new Set(optionalQueueKeys.map((key) => queueNames[key]));

/** A queue this deployment does not have (voice-commands-pwsh without the graph backend) is skipped, not an error. */
async function unlessAbsent(queue: string, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (optionalQueues.has(queue) && code === 'MessagingEntityNotFound') return;
    throw error;
  }
}

export interface DeadLetterView {
  queue: string;
  messageId: string;
  sequenceNumber: string;
  reason: string;
  description: string;
  subject: string | undefined;
  sessionId: string | undefined;
  /** The tenant the message names; none = the deployment's default tenant. */
  tenantId: string | undefined;
  correlationId: string | undefined;
  enqueuedAt: string | undefined;
  deliveryCount: number | undefined;
  replayCount: number;
  body: unknown;
  applicationProperties: Record<string, unknown>;
}

export function viewOf(queue: string, m: ReceivedMessage): DeadLetterView {
  return {
    queue,
    messageId: idText(m.messageId) ?? '',
    sequenceNumber: String(m.sequenceNumber ?? ''),
    reason: m.deadLetterReason ?? '',
    description: m.deadLetterErrorDescription ?? '',
    subject: subjectOf(m),
    sessionId: m.sessionId,
    tenantId: messageTenantId(m),
    correlationId: idText(m.correlationId),
    enqueuedAt: m.enqueuedTimeUtc?.toISOString(),
    deliveryCount: m.deliveryCount,
    replayCount: Number(m.applicationProperties?.['dialtone-replay-count'] ?? 0),
    body: m.body,
    applicationProperties: { ...(m.applicationProperties ?? {}) },
  };
}

const PAGE = 100;
/** Peek is inclusive; sequence numbers start at 1. The SDK wants a Long. */
const FIRST_SEQUENCE_NUMBER = Long.fromNumber(0);

/**
 * Non-destructive: peeks the dead-letter subqueue of each queue. A peek Service Bus answers
 * ServiceBusy (or a timeout) is tried again a few times with backoff (`peekRetrying`), then the
 * listing fails with one message saying so.
 */
export async function listDeadLetters(
  bus: BusClient,
  queues: string[],
  filter: DeadLetterFilter,
  limit = 1000,
  retry: PeekRetryOptions = {},
): Promise<DeadLetterView[]> {
  return (await peekDeadLetters(bus, queues, filter, limit, retry)).map(({ queue, message }) => viewOf(queue, message));
}

async function peekDeadLetters(
  bus: BusClient,
  queues: string[],
  filter: DeadLetterFilter,
  limit: number,
  retry: PeekRetryOptions,
): Promise<{ queue: string; message: ReceivedMessage }[]> {
  const out: { queue: string; message: ReceivedMessage }[] = [];
  for (const queue of queues) {
    await unlessAbsent(queue, async () => {
      const receiver = bus.createReceiver(queue, { subQueueType: 'deadLetter' });
      try {
        // Always from an explicit sequence number: without one the SDK continues after the last
        // message any receiver of this client peeked on this entity, so a second listing saw nothing.
        let from: unknown = FIRST_SEQUENCE_NUMBER;
        for (;;) {
          const page = await peekRetrying(receiver, PAGE, { fromSequenceNumber: from }, `the dead letters of ${queue}`, retry);
          const fresh = from === FIRST_SEQUENCE_NUMBER ? page : page.filter((m) => Number(m.sequenceNumber) > Number(from));
          for (const m of fresh) if (matchesFilter(m, filter) && out.length < limit) out.push({ queue, message: m });
          if (page.length < PAGE || fresh.length === 0 || out.length >= limit) break;
          from = page[page.length - 1]?.sequenceNumber;
        }
      } finally {
        await receiver.close();
      }
    });
  }
  return out;
}

export interface SettleReport {
  queue: string;
  messageId: string;
  action: 'replayed' | 'purged' | 'refused' | 'would-replay' | 'would-purge';
  detail: string;
}

/**
 * Replays (or purges) matching dead letters: receive with peek-lock, send the copy, complete the
 * dead letter. Non-matching ones are abandoned untouched. `dryRun` only says what it would do.
 */
export async function settleDeadLetters(
  bus: BusClient,
  queues: string[],
  filter: DeadLetterFilter,
  mode: 'replay' | 'purge',
  options: { dryRun?: boolean; maxReplays?: number; limit?: number; guard?: ReplayGuard; sleeper?: PeekRetryOptions['sleeper'] } = {},
): Promise<SettleReport[]> {
  if (options.dryRun) {
    const found = await peekDeadLetters(bus, queues, filter, options.limit ?? 1000, options.sleeper ? { sleeper: options.sleeper } : {});
    const out: SettleReport[] = [];
    for (const { queue, message } of found) {
      const messageId = idText(message.messageId) ?? '';
      if (mode === 'purge') {
        out.push({ queue, messageId, action: 'would-purge', detail: message.deadLetterReason ?? '' });
        continue;
      }
      const plan = planReplay(message, options.maxReplays);
      const refusal = plan.ok ? await options.guard?.check(queue, message) : plan.reason;
      out.push(
        refusal !== undefined
          ? { queue, messageId, action: 'refused', detail: refusal }
          : { queue, messageId, action: 'would-replay', detail: plan.ok ? `as ${plan.copy.messageId}` : '' },
      );
    }
    return out;
  }
  const out: SettleReport[] = [];
  const limit = options.limit ?? 1000;
  for (const queue of queues) {
    await unlessAbsent(queue, async () => {
      const receiver = bus.createReceiver(queue, { subQueueType: 'deadLetter' });
      const sender = bus.createSender(queue);
      const skipped: ReceivedMessage[] = [];
      try {
        for (;;) {
          const batch = await receiver.receiveMessages(PAGE, { maxWaitTimeInMs: 1000 });
          if (batch.length === 0) break;
          for (const m of batch) {
            if (!matchesFilter(m, filter) || out.length >= limit) {
              skipped.push(m);
              continue;
            }
            if (mode === 'purge') {
              await receiver.completeMessage(m);
              out.push({ queue, messageId: idText(m.messageId) ?? '', action: 'purged', detail: m.deadLetterReason ?? '' });
              continue;
            }
            const plan = planReplay(m, options.maxReplays);
            const refusal = plan.ok ? await options.guard?.check(queue, m) : plan.reason;
            if (!plan.ok || refusal !== undefined) {
              skipped.push(m);
              const detail = refusal ?? '';
              out.push({ queue, messageId: idText(m.messageId) ?? '', action: 'refused', detail });
              if (plan.ok) await options.guard?.refused?.(queue, m, detail);
              continue;
            }
            await sender.sendMessages(plan.copy);
            await receiver.completeMessage(m);
            out.push({ queue, messageId: idText(m.messageId) ?? '', action: 'replayed', detail: `as ${plan.copy.messageId}` });
          }
        }
      } finally {
        for (const m of skipped) await receiver.abandonMessage(m).catch(() => undefined);
        await receiver.close();
        await sender.close();
      }
    });
  }
  return out;
}
