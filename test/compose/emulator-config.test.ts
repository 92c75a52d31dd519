import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CONFIG_PATH, EMULATOR_NAMESPACE, emulatorConfig, renderEmulatorConfig, type EmulatorConfig } from '../../compose/emulator-config.js';
import { queueDefinitions } from '../../shared/contracts/queues.js';
import { isoDurationMs } from '../../shared/domain/iso-duration.js';

const committed = (): EmulatorConfig => JSON.parse(readFileSync(CONFIG_PATH, 'utf8')) as EmulatorConfig;

describe('the Service Bus emulator config (compose/servicebus-emulator/Config.json)', () => {
  it('is exactly what infra/queues.json generates (run `npm run compose:config` after changing the queues)', () => {
    expect(readFileSync(CONFIG_PATH, 'utf8')).toBe(renderEmulatorConfig());
  });

  it('declares every Dialtone queue with the sessions, duplicate detection and dead-lettering of the queue definitions', () => {
    const [ns] = committed().UserConfig.Namespaces;
    expect(ns.Name).toBe(EMULATOR_NAMESPACE);
    expect(ns.Queues.map((q) => q.Name).sort()).toEqual(Object.values(queueDefinitions).map((q) => q.name).sort());
    for (const def of Object.values(queueDefinitions)) {
      const q = ns.Queues.find((x) => x.Name === def.name);
      expect(q?.Properties, def.name).toMatchObject({
        RequiresSession: def.requiresSession,
        RequiresDuplicateDetection: def.requiresDuplicateDetection,
        DeadLetteringOnMessageExpiration: def.deadLetteringOnMessageExpiration,
        MaxDeliveryCount: Math.min(10, def.maxDeliveryCount),
      });
      const ms = (text: string | undefined) => isoDurationMs(text ?? '') ?? Number.NaN;
      // Within the emulator's limits, and never longer than what Azure gets.
      expect(ms(q?.Properties.LockDuration)).toBe(Math.min(def.lockDurationMs, 300_000));
      expect(ms(q?.Properties.DuplicateDetectionHistoryTimeWindow)).toBe(Math.min(def.duplicateDetectionWindowMs, 300_000));
      expect(ms(q?.Properties.DefaultMessageTimeToLive)).toBe(Math.min(def.defaultMessageTimeToLiveMs, 3_600_000));
    }
  });

  it('follows a change to the queue definitions', () => {
    const changed = Object.values(queueDefinitions).map((q) => (q.key === 'voiceCommands' ? { ...q, name: 'voice-commands-2', lockDuration: 'PT30S', lockDurationMs: 30_000 } : q));
    const lowered: string[] = [];
    const queues = emulatorConfig(changed, lowered).UserConfig.Namespaces[0].Queues;
    expect(queues.find((q) => q.Name === 'voice-commands-2')?.Properties.LockDuration).toBe('PT30S');
    expect(lowered).toContain('voice-commands-2 TTL P14D → PT1H');
  });

  it('is the file compose.yaml mounts into the emulator', () => {
    const compose = parse(readFileSync('compose.yaml', 'utf8')) as { services: Record<string, { image?: string; volumes?: string[] }> };
    const emulator = Object.values(compose.services).find((s) => s.image?.startsWith('mcr.microsoft.com/azure-messaging/servicebus-emulator'));
    expect(emulator?.volumes).toContain('./compose/servicebus-emulator/Config.json:/ServiceBus_Emulator/ConfigFiles/Config.json:ro');
  });
});
