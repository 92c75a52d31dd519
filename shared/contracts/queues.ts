/**
 * The queue definitions, read from infra/queues.json: the same file infra/main.bicep deploys
 * (loadJsonContent) and the sandbox's in-memory Service Bus enforces, so the names, lock
 * durations, delivery counts, TTLs and duplicate-detection windows cannot drift apart.
 */
import { z } from 'zod';
import queuesFile from '../../infra/queues.json' with { type: 'json' };
import { isoDurationMs } from '../domain/iso-duration.js';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

function duration(minMs: number, maxMs: number, bounds: string) {
  return z.string().refine(
    (text) => {
      const ms = isoDurationMs(text);
      return ms !== undefined && ms >= minMs && ms <= maxMs;
    },
    { message: `an ISO 8601 duration (days, hours, minutes, seconds) ${bounds}` },
  );
}

const QueueDefinitionSchema = z
  .object({
    // Service Bus entity names: letters, digits, '.', '-', '_', starting and ending with a letter or digit.
    name: z.string().regex(/^[a-z0-9](?:[a-z0-9._-]{0,258}[a-z0-9])?$/),
    description: z.string().min(1),
    requiresSession: z.boolean(),
    requiresDuplicateDetection: z.boolean(),
    // Service Bus: 20 seconds to 7 days.
    duplicateDetectionHistoryTimeWindow: duration(20_000, 7 * DAY, 'from PT20S to P7D'),
    // Service Bus: 5 seconds to 5 minutes.
    lockDuration: duration(5_000, 5 * MINUTE, 'from PT5S to PT5M'),
    maxDeliveryCount: z.number().int().min(1).max(2000),
    defaultMessageTimeToLive: duration(1_000, 14 * DAY, 'from PT1S to P14D (the Standard tier maximum)'),
    deadLetteringOnMessageExpiration: z.boolean(),
  })
  .strict();

const QueuesFileSchema = z.object({
  description: z.string(),
  queues: z
    .object({
      hrEvents: QueueDefinitionSchema,
      userChanges: QueueDefinitionSchema,
      voiceCommands: QueueDefinitionSchema,
      voiceCommandsPowerShell: QueueDefinitionSchema,
      voiceResults: QueueDefinitionSchema,
    })
    .strict(),
});

export type QueueKey = 'hrEvents' | 'userChanges' | 'voiceCommands' | 'voiceCommandsPowerShell' | 'voiceResults';

/** One queue as infra/queues.json declares it, with the durations also in milliseconds. */
export interface QueueDefinition extends z.infer<typeof QueueDefinitionSchema> {
  key: QueueKey;
  lockDurationMs: number;
  duplicateDetectionWindowMs: number;
  defaultMessageTimeToLiveMs: number;
}

/** Validates the content of infra/queues.json; the error names the field. */
export function parseQueueDefinitions(content: unknown): Record<QueueKey, QueueDefinition> {
  const parsed = QueuesFileSchema.safeParse(content);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`infra/queues.json: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid'}`);
  }
  const out = {} as Record<QueueKey, QueueDefinition>;
  const names = new Set<string>();
  for (const [key, q] of Object.entries(parsed.data.queues) as [QueueKey, z.infer<typeof QueueDefinitionSchema>][]) {
    if (names.has(q.name)) throw new Error(`infra/queues.json: queues.${key}.name: '${q.name}' is used twice`);
    names.add(q.name);
    out[key] = {
      ...q,
      key,
      lockDurationMs: isoDurationMs(q.lockDuration) as number,
      duplicateDetectionWindowMs: isoDurationMs(q.duplicateDetectionHistoryTimeWindow) as number,
      defaultMessageTimeToLiveMs: isoDurationMs(q.defaultMessageTimeToLive) as number,
    };
  }
  return out;
}

export const queueDefinitions: Readonly<Record<QueueKey, QueueDefinition>> = parseQueueDefinitions(queuesFile);

/**
 * Queues a deployment may not have: voice-commands-pwsh exists only with the graph Teams backend.
 * Commands that sweep every queue (dlq, doctor) skip them when they are absent.
 */
export const optionalQueueKeys: readonly QueueKey[] = ['voiceCommandsPowerShell'];

/** The queue names every producer and consumer uses. */
export const queueNames: Readonly<Record<QueueKey, string>> = {
  hrEvents: queueDefinitions.hrEvents.name,
  userChanges: queueDefinitions.userChanges.name,
  voiceCommands: queueDefinitions.voiceCommands.name,
  /** The hybrid worker's queue when Graph applies voice commands (DIALTONE_TEAMS_BACKEND=graph). */
  voiceCommandsPowerShell: queueDefinitions.voiceCommandsPowerShell.name,
  voiceResults: queueDefinitions.voiceResults.name,
};
