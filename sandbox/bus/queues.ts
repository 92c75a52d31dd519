import { queueDefinitions, type QueueDefinition } from '../../shared/contracts/queues.js';
import type { MemoryQueueOptions } from './memory-bus.js';

/** A queue of infra/queues.json as the in-memory bus takes it. */
export function memoryQueueOptions(q: QueueDefinition): MemoryQueueOptions {
  return {
    name: q.name,
    requiresSession: q.requiresSession,
    requiresDuplicateDetection: q.requiresDuplicateDetection,
    maxDeliveryCount: q.maxDeliveryCount,
    duplicateDetectionWindowMs: q.duplicateDetectionWindowMs,
    lockDurationMs: q.lockDurationMs,
    defaultMessageTimeToLiveMs: q.defaultMessageTimeToLiveMs,
    deadLetteringOnMessageExpiration: q.deadLetteringOnMessageExpiration,
  };
}

/** The four Dialtone queues exactly as infra/main.bicep deploys them. */
export const deployedQueues: MemoryQueueOptions[] = Object.values(queueDefinitions).map(memoryQueueOptions);
