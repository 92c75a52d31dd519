import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryBus } from '../../sandbox/bus/memory-bus.js';
import { SimClock } from '../../sandbox/clock.js';
import { startTeamsSimulator, type TeamsSimulator } from '../../sandbox/teams-sim/index.js';
import { queueNames, VoiceResultSchema, type VoiceCommand, type VoiceResult } from '../../shared/contracts/messages.js';
import { createMemoryLogger } from '../../shared/logging/logger.js';
import type { BusClient } from '../../shared/ports/bus.js';
import { inspectPfx, type CertificateSource } from '../../worker/certificate.js';
import { keyVaultCertificateSource } from '../../worker/certificate-sources.js';
import { createWorker, type Worker, type WorkerTuning } from '../../worker/worker.js';
import { makeTestPfx } from './helpers/certificates.js';
import { APP_ID, command, desired, TENANT_ID, testTenant, userId } from './helpers/sim.js';

const PASSWORD = 'worker-bus-pfx-password';
const PFX = makeTestPfx({ password: PASSWORD });

function certificateSource(pfxBase64 = PFX, password: string | null = PASSWORD): CertificateSource {
  return {
    description: 'the test certificate',
    load: async () => ({ ...inspectPfx(pfxBase64, password, 'test'), pfxBase64, password, version: 'v1' }),
  };
}

interface Setup {
  bus: MemoryBus;
  sim: TeamsSimulator;
  worker: Worker;
  logger: ReturnType<typeof createMemoryLogger>;
  renewals: () => number;
  send(cmd: VoiceCommand): Promise<void>;
  results(): VoiceResult[];
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(tuning: Partial<WorkerTuning> = {}, certificates = certificateSource()): Promise<Setup> {
  const clock = new SimClock('2026-11-02T08:00:00Z');
  const logger = createMemoryLogger('debug');
  const bus = new MemoryBus(clock, [
    { name: queueNames.voiceCommands, requiresSession: true, maxDeliveryCount: 3, lockDurationMs: 300_000 },
    { name: queueNames.voiceResults, requiresSession: false },
  ]);
  const sim = await startTeamsSimulator({ tenant: testTenant(4), clock });
  cleanups.push(async () => {
    await sim.close();
    await bus.close();
  });
  let renewed = 0;
  const counting: BusClient = {
    createSender: (q) => bus.createSender(q),
    createReceiver: (q, o) => bus.createReceiver(q, o),
    acceptNextSession: async (q, o) => {
      const receiver = await bus.acceptNextSession(q, o);
      return Object.assign(Object.create(receiver) as typeof receiver, {
        sessionId: receiver.sessionId,
        renewSessionLock: async () => {
          renewed += 1;
          return receiver.renewSessionLock();
        },
      });
    },
    close: () => bus.close(),
  };
  const worker = await createWorker({
    bus: counting,
    certificates,
    pwsh: sim.pwshCommand,
    settings: {
      tenantId: TENANT_ID,
      applicationId: APP_ID,
      concurrentSessions: 2,
      maxSessions: 2,
      maxSessionsPerTenant: 2,
      maxDeliveryCount: 3,
      cmdletTimeoutMs: 20_000,
      shutdownGraceMs: 5_000,
      backoffMs: [5],
      ...tuning,
    },
    clock,
    logger,
    idleWait: (ms, signal) => (signal.aborted ? Promise.resolve() : bus.waitForActivity(Math.min(ms, 50))),
  });
  cleanups.push(() => worker.stop());
  const resultsReceiver = bus.createReceiver(queueNames.voiceResults);
  const received: VoiceResult[] = [];
  return {
    bus,
    sim,
    worker,
    logger,
    renewals: () => renewed,
    send: (cmd) =>
      bus.createSender(queueNames.voiceCommands).sendMessages({
        body: cmd,
        messageId: cmd.commandId,
        sessionId: cmd.userId,
        correlationId: cmd.correlationId,
      }),
    results: () => {
      void resultsReceiver.receiveMessages(100).then(async (messages) => {
        for (const m of messages) {
          received.push(VoiceResultSchema.parse(m.body));
          expect([m.messageId, m.correlationId]).toEqual([`${(m.body as VoiceResult).commandId}:result`, (m.body as VoiceResult).correlationId]);
          await resultsReceiver.completeMessage(m);
        }
      });
      return received;
    },
  };
}

async function resultsOf(s: Setup, count: number): Promise<VoiceResult[]> {
  await vi.waitFor(() => expect(s.results()).toHaveLength(count), { timeout: 60_000, interval: 20 });
  return s.results();
}

describe('the hybrid worker on the bus', () => {
  it('applies a command, publishes its result with a deterministic id and completes the command', async () => {
    const s = await setup();
    s.worker.start();
    await s.send(command(1));
    const [result] = await resultsOf(s, 1);
    expect(result).toMatchObject({ commandId: 'cmd-1', status: 'applied', correlationId: 'corr-1' });
    await vi.waitFor(() => expect(s.bus.inFlightCount(queueNames.voiceCommands)).toBe(0), { timeout: 30_000 });
    expect(s.bus.availableCount(queueNames.voiceCommands)).toBe(0);
  });

  it('dead-letters an invalid command as InvalidMessage naming the field, and keeps running', async () => {
    const s = await setup();
    s.worker.start();
    const bad = { ...command(1), desired: { ...desired(1), phoneNumber: 'tel:+31201234101' } };
    await s.send(bad);
    await s.send(command(2));
    await resultsOf(s, 1);
    const [dead] = s.bus.deadLetterMessages(queueNames.voiceCommands);
    expect(dead?.deadLetterReason).toBe('InvalidMessage');
    expect(dead?.deadLetterErrorDescription).toMatch(/^desired\.phoneNumber: must be E\.164/);
  });

  it('publishes a conflict as a failed result and completes the command', async () => {
    const s = await setup();
    s.worker.start();
    await s.send(command(1, desired(1, { phoneNumber: '+31201234003' })));
    const [result] = await resultsOf(s, 1);
    expect(result?.error).toMatchObject({ class: 'conflict', number: '+31201234003' });
    await vi.waitFor(() => expect(s.bus.inFlightCount(queueNames.voiceCommands)).toBe(0), { timeout: 30_000 });
    expect(s.bus.deadLetterMessages()).toEqual([]);
  });

  it('abandons a transient failure for redelivery and publishes it as failed only at the last delivery', async () => {
    const s = await setup();
    // A person's transient failure (here the session dies on every read); a tenant outage
    // (throttling, unavailability) is set aside on the bus instead (test/worker/tenant-outage.test.ts).
    s.sim.setFaults([{ kind: 'crash', cmdlet: 'Get-CsOnlineUser' }]);
    s.worker.start();
    await s.send(command(1));
    const [result] = await resultsOf(s, 1);
    expect(result?.error).toMatchObject({ class: 'transient', code: 'SessionBroken' });
    expect(s.worker.stats().consumer).toMatchObject({ abandoned: 2, results: 1 });
    expect(s.bus.deadLetterMessages()).toEqual([]);
  });

  it('applies one user’s commands in order (session FIFO)', async () => {
    const s = await setup();
    await s.send(command(1, desired(1, { phoneNumber: '+31201234201' }), 'first'));
    await s.send(command(1, desired(1, { phoneNumber: '+31201234202' }), 'second'));
    s.worker.start();
    const results = await resultsOf(s, 2);
    expect(results.map((r) => r.commandId)).toEqual(['first', 'second']);
    expect(s.sim.tenant.user(userId(1))?.lineUri).toBe('tel:+31201234202');
  });

  it('renews the session lock while PowerShell runs', async () => {
    const s = await setup({ lockRenewalIntervalMs: 20 });
    s.sim.setLatency({ read: 40, write: 40 });
    s.worker.start();
    await s.send(command(1));
    await resultsOf(s, 1);
    expect(s.renewals()).toBeGreaterThan(0);
  });

  it('stops gracefully: abandons a command still running after the grace period and ends every pwsh', async () => {
    const s = await setup({ shutdownGraceMs: 200, cmdletTimeoutMs: 30_000 });
    s.sim.setFaults([{ kind: 'hang', cmdlet: 'Get-CsOnlineUser' }]);
    s.worker.start();
    await s.send(command(1));
    await vi.waitFor(() => expect(s.worker.busy()).toBe(true), { timeout: 30_000 });
    await s.worker.stop();
    expect(s.worker.stats().consumer.abandoned).toBe(1);
    expect(s.bus.availableCount(queueNames.voiceCommands)).toBe(1);
    await vi.waitFor(() => expect(s.sim.liveProcesses()).toBe(0), { timeout: 30_000 });
  });

  it('refuses to start with an expired certificate and says when it expired', async () => {
    const expired = makeTestPfx({ notBefore: new Date('2025-01-01T00:00:00Z'), notAfter: new Date('2026-01-01T00:00:00Z') });
    await expect(setup({}, certificateSource(expired, null))).rejects.toMatchObject({
      code: 'CertificateInvalid',
      message: expect.stringMatching(/expired on 2026-01-01T00:00:00.000Z\.$/),
    });
  });

  it('refuses to start without a private key and says so', async () => {
    await expect(setup({}, certificateSource(makeTestPfx({ withKey: false }), null))).rejects.toMatchObject({
      code: 'CertificateInvalid',
      message: expect.stringContaining('has no private key'),
    });
  });

  it('refuses to start when the certificate is missing', async () => {
    const missing = keyVaultCertificateSource({
      vaultUrl: 'https://contoso-dialtone.vault.azure.net',
      name: 'dialtone-teams',
      secrets: { getSecret: async () => Promise.reject(Object.assign(new Error('SecretNotFound'), { statusCode: 404 })) },
    });
    await expect(setup({}, missing)).rejects.toMatchObject({
      code: 'CertificateInvalid',
      message: "Key Vault https://contoso-dialtone.vault.azure.net certificate 'dialtone-teams' does not exist.",
    });
  });

  it('keeps the certificate out of every log line and result', async () => {
    const s = await setup();
    s.sim.setFaults([{ kind: 'crash', cmdlet: 'Grant-CsTenantDialPlan', times: 1 }]);
    s.worker.start();
    await s.send(command(1));
    await s.send(command(2, desired(2, { phoneNumber: '+31201234003' })));
    const results = await resultsOf(s, 2);
    await s.worker.stop();
    const output = [...s.logger.lines, JSON.stringify(results)].join('\n');
    expect(output).toContain('pwsh session broken');
    expect(output).not.toContain(PFX.slice(0, 40));
    expect(output).not.toContain(PASSWORD);
  });
});
