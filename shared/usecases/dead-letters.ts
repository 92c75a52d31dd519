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
import { busCallRetrying, peekRetrying, type PeekRetryOptions } from './peek-retry.js';

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
  const retry: PeekRetryOptions = options.sleeper ? { sleeper: options.sleeper } : {};
  // A call Service Bus keeps refusing ends the command with what was done before it and, when a
  // replay copy went out but its dead letter could not be completed, that the next run continues
  // (the copy's id is deterministic, and every queue has duplicate detection).
  const call = <T>(what: string, run: () => Promise<T>, sent?: string): Promise<T> =>
    busCallRetrying(
      run,
      (attempts, seconds, code) => {
        const count = (action: SettleReport['action']) => out.filter((r) => r.action === action).length;
        const refused = count('refused');
        const done = mode === 'purge' ? `${count('purged')} purged` : `${count('replayed')} replayed${refused > 0 ? `, ${refused} refused` : ''}`;
        const next = sent
          ? `Its copy ${sent} was sent, so the dead letter is still there: run the same command again in a minute to continue (duplicate detection drops a copy sent twice).`
          : 'Nothing else changed: run the same command again in a minute to continue.';
        return `Service Bus answered ${code} to ${attempts} tries to ${what} over ${seconds} s. Done before it: ${done}. ${next}`;
      },
      retry,
    );
  for (const queue of queues) {
    await unlessAbsent(queue, async () => {
      const receiver = bus.createReceiver(queue, { subQueueType: 'deadLetter' });
      const sender = bus.createSender(queue);
      // Every dead letter this receiver holds and has not settled: abandoned at the end, so what
      // was skipped, refused or not reached when a call failed is there again at once for the next
      // run (not locked until the lock runs out).
      const held = new Set<ReceivedMessage>();
      try {
        for (;;) {
          const batch = await call(`receive the dead letters of ${queue}`, () => receiver.receiveMessages(PAGE, { maxWaitTimeInMs: 1000 }));
          if (batch.length === 0) break;
          for (const m of batch) held.add(m);
          for (const m of batch) {
            const messageId = idText(m.messageId) ?? '';
            if (!matchesFilter(m, filter) || out.length >= limit) continue;
            if (mode === 'purge') {
              await call(`complete the dead letter ${messageId} of ${queue}`, () => receiver.completeMessage(m));
              held.delete(m);
              out.push({ queue, messageId, action: 'purged', detail: m.deadLetterReason ?? '' });
              continue;
            }
            const plan = planReplay(m, options.maxReplays);
            const refusal = plan.ok ? await options.guard?.check(queue, m) : plan.reason;
            if (!plan.ok || refusal !== undefined) {
              const detail = refusal ?? '';
              out.push({ queue, messageId, action: 'refused', detail });
              if (plan.ok) await options.guard?.refused?.(queue, m, detail);
              continue;
            }
            const copyId = String(plan.copy.messageId);
            await call(`send the copy ${copyId} to ${queue}`, () => sender.sendMessages(plan.copy));
            await call(`complete the dead letter ${messageId} of ${queue}`, () => receiver.completeMessage(m), copyId);
            held.delete(m);
            out.push({ queue, messageId, action: 'replayed', detail: `as ${copyId}` });
          }
        }
      } finally {
        for (const m of held) await receiver.abandonMessage(m).catch(() => undefined);
        await receiver.close();
        await sender.close();
      }
    });
  }
  return out;
}
