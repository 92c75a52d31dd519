/**
 * Generates compose/servicebus-emulator/Config.json, the official Service Bus emulator's entity
 * configuration, from infra/queues.json (through shared/contracts/queues.ts): the same queue
 * definitions the Bicep deploys and the in-memory bus enforces. `npm run compose:config` writes it;
 * test/compose checks that the committed file is exactly what this produces.
 *
 * The emulator accepts less than Service Bus Standard (its Config-schema.json): a message TTL of at
 * most PT1H, a duplicate-detection window of PT5S to PT5M, a lock of PT5S to PT5M, at most 10
 * deliveries. Values beyond them are lowered to the emulator's maximum, and the file says which.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { queueDefinitions, type QueueDefinition } from '../shared/contracts/queues.js';

export const EMULATOR_NAMESPACE = 'sbemulatorns';

export const emulatorLimits = {
  defaultMessageTimeToLive: { maxMs: 60 * 60_000, max: 'PT1H' },
  duplicateDetectionHistoryTimeWindow: { maxMs: 5 * 60_000, max: 'PT5M' },
  lockDuration: { maxMs: 5 * 60_000, max: 'PT5M' },
  maxDeliveryCount: { max: 10 },
} as const;

export interface EmulatorQueue {
  Name: string;
  Properties: {
    DeadLetteringOnMessageExpiration: boolean;
    DefaultMessageTimeToLive: string;
    DuplicateDetectionHistoryTimeWindow: string;
    ForwardDeadLetteredMessagesTo: string;
    ForwardTo: string;
    LockDuration: string;
    MaxDeliveryCount: number;
    RequiresDuplicateDetection: boolean;
    RequiresSession: boolean;
  };
}

export interface EmulatorConfig {
  UserConfig: {
    Namespaces: [{ Name: typeof EMULATOR_NAMESPACE; Queues: EmulatorQueue[]; Topics: [] }];
    Logging: { Type: 'File' };
  };
}

function capped(value: string, ms: number, limit: { maxMs: number; max: string }, lowered: string[], what: string): string {
  if (ms <= limit.maxMs) return value;
  lowered.push(`${what} ${value} → ${limit.max}`);
  return limit.max;
}

export function emulatorQueue(q: QueueDefinition, lowered: string[]): EmulatorQueue {
  const l = emulatorLimits;
  return {
    Name: q.name,
    Properties: {
      DeadLetteringOnMessageExpiration: q.deadLetteringOnMessageExpiration,
      DefaultMessageTimeToLive: capped(q.defaultMessageTimeToLive, q.defaultMessageTimeToLiveMs, l.defaultMessageTimeToLive, lowered, `${q.name} TTL`),
      DuplicateDetectionHistoryTimeWindow: capped(q.duplicateDetectionHistoryTimeWindow, q.duplicateDetectionWindowMs, l.duplicateDetectionHistoryTimeWindow, lowered, `${q.name} duplicate detection`),
      ForwardDeadLetteredMessagesTo: '',
      ForwardTo: '',
      LockDuration: capped(q.lockDuration, q.lockDurationMs, l.lockDuration, lowered, `${q.name} lock`),
      MaxDeliveryCount: Math.min(q.maxDeliveryCount, l.maxDeliveryCount.max),
      RequiresDuplicateDetection: q.requiresDuplicateDetection,
      RequiresSession: q.requiresSession,
    },
  };
}

/** The config, and what had to be lowered to fit the emulator (the emulator's file has no room for comments). */
export function emulatorConfig(definitions: readonly QueueDefinition[] = Object.values(queueDefinitions), lowered: string[] = []): EmulatorConfig {
  const queues = definitions.map((q) => emulatorQueue(q, lowered));
  return {
    UserConfig: {
      Namespaces: [{ Name: EMULATOR_NAMESPACE, Queues: queues, Topics: [] }],
      Logging: { Type: 'File' },
    },
  };
}

export const CONFIG_PATH = fileURLToPath(new URL('./servicebus-emulator/Config.json', import.meta.url));

export function renderEmulatorConfig(config: EmulatorConfig = emulatorConfig()): string {
  return `${JSON.stringify(config, null, 2)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const lowered: string[] = [];
  writeFileSync(CONFIG_PATH, renderEmulatorConfig(emulatorConfig(Object.values(queueDefinitions), lowered)));
  process.stdout.write(`wrote ${CONFIG_PATH}${lowered.length ? `; lowered to the emulator's limits: ${lowered.join('; ')}` : ''}\n`);
}
