import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseQueueDefinitions, queueDefinitions, queueNames } from '../../shared/contracts/queues.js';
import { isoDurationMs } from '../../shared/domain/iso-duration.js';
import { deployedQueues } from '../../sandbox/bus/queues.js';
import { sandboxQueues } from '../../sandbox/host/sandbox.js';

const file = JSON.parse(readFileSync('infra/queues.json', 'utf8')) as {
  queues: Record<string, Record<string, unknown>>;
};

describe('ISO 8601 durations', () => {
  it.each([
    ['PT5M', 300_000],
    ['PT10M', 600_000],
    ['P14D', 14 * 86_400_000],
    ['PT20S', 20_000],
    ['P1DT2H3M4.5S', 86_400_000 + 7_200_000 + 180_000 + 4_500],
  ])('%s is %d ms', (text, ms) => {
    expect(isoDurationMs(text)).toBe(ms);
  });

  it.each(['', 'P', 'PT', '5M', 'P1M', 'P1Y', 'PT5X', 'P1DT'])('refuses %j', (text) => {
    expect(isoDurationMs(text)).toBeUndefined();
  });
});

describe('queue definitions (infra/queues.json)', () => {
  it('give the names every stage sends to', () => {
    expect(queueNames).toEqual({
      hrEvents: 'hr-events',
      userChanges: 'user-changes',
      voiceCommands: 'voice-commands',
      voiceCommandsPowerShell: 'voice-commands-pwsh',
      voiceResults: 'voice-results',
    });
  });

  it('are what the sandbox bus runs with, durations converted from the file', () => {
    expect(sandboxQueues).toBe(deployedQueues);
    for (const [key, q] of Object.entries(file.queues)) {
      const memory = deployedQueues.find((m) => m.name === q.name);
      expect(memory, key).toEqual({
        name: q.name,
        requiresSession: q.requiresSession,
        requiresDuplicateDetection: q.requiresDuplicateDetection,
        maxDeliveryCount: q.maxDeliveryCount,
        duplicateDetectionWindowMs: isoDurationMs(String(q.duplicateDetectionHistoryTimeWindow)),
        lockDurationMs: isoDurationMs(String(q.lockDuration)),
        defaultMessageTimeToLiveMs: isoDurationMs(String(q.defaultMessageTimeToLive)),
        deadLetteringOnMessageExpiration: q.deadLetteringOnMessageExpiration,
      });
    }
    expect(deployedQueues).toHaveLength(Object.keys(queueDefinitions).length);
  });

  const withQueue = (key: string, change: Record<string, unknown>) => ({
    ...file,
    queues: { ...file.queues, [key]: { ...file.queues[key], ...change } },
  });

  it.each([
    ['a lock longer than the Standard tier allows', withQueue('voiceCommands', { lockDuration: 'PT6M' }), 'queues.voiceCommands.lockDuration'],
    ['a duplicate window under 20 s', withQueue('hrEvents', { duplicateDetectionHistoryTimeWindow: 'PT10S' }), 'queues.hrEvents.duplicateDetectionHistoryTimeWindow'],
    ['a month-based TTL', withQueue('userChanges', { defaultMessageTimeToLive: 'P1M' }), 'queues.userChanges.defaultMessageTimeToLive'],
    ['zero deliveries', withQueue('voiceResults', { maxDeliveryCount: 0 }), 'queues.voiceResults.maxDeliveryCount'],
    ['an unknown property', withQueue('hrEvents', { autoDeleteOnIdle: 'PT1H' }), 'queues.hrEvents'],
    ['a name used twice', withQueue('voiceResults', { name: 'hr-events' }), 'queues.voiceResults.name'],
  ])('refuses %s, naming the field', (_what, content, field) => {
    expect(() => parseQueueDefinitions(content)).toThrow(`infra/queues.json: ${field}`);
  });

  it('refuses a file without one of the four queues', () => {
    const { voiceResults: _dropped, ...three } = file.queues;
    expect(() => parseQueueDefinitions({ ...file, queues: three })).toThrow('infra/queues.json: queues.voiceResults');
  });
});
