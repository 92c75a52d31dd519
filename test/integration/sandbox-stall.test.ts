import { describe, expect, it } from 'vitest';
import { MemoryBus } from '../../sandbox/bus/memory-bus.js';
import { SimClock } from '../../sandbox/clock.js';
import { SimScheduler } from '../../sandbox/scheduler.js';
import { Sandbox } from '../../sandbox/host/sandbox.js';
import { inputs } from './sandbox-fixtures.js';

/**
 * The sandbox holds its clock while something runs in real time; when nothing changes for
 * `stallTimeoutMs` of real time with the clock still held, the run fails and says what holds it,
 * instead of hanging for ever (docs/RELIABILITY.md: the `--people 500` chaos run hung that way).
 */
describe('the waits the stall detector counts on', () => {
  it('scheduler.changed says whether something changed or the wait timed out', async () => {
    const scheduler = new SimScheduler(new SimClock());
    expect(await scheduler.changed(5)).toBe(false);
    const waiting = scheduler.changed(5_000);
    scheduler.at(scheduler.clock.nowMs() + 1_000, 'k', () => undefined);
    expect(await waiting).toBe(true);
  });

  it('bus.waitForActivity says whether something was sent or the wait timed out', async () => {
    const bus = new MemoryBus(new SimClock(), [{ name: 'plain', requiresSession: false, maxDeliveryCount: 3, lockDurationMs: 30_000 }]);
    expect(await bus.waitForActivity(5)).toBe(false);
    const waiting = bus.waitForActivity(5_000);
    await bus.createSender('plain').sendMessages({ body: 'x', messageId: 'm1' });
    expect(await waiting).toBe(true);
  });
});

describe('the sandbox stall detector', () => {
  it('fails a run whose clock is held by work that never finishes, naming what holds it', async () => {
    const sandbox = await Sandbox.start(inputs({ eventLines: [] }), { storage: 'memory', worker: false, stallTimeoutMs: 300 });
    try {
      // Tracked work that neither finishes nor sleeps on the sandbox clock: the clock can never move.
      void sandbox.scheduler.track(() => new Promise<void>(() => undefined), 'held-by-the-test');
      const started = Date.now();
      await expect(sandbox.runFor(60_000)).rejects.toThrow(/no progress for 300 ms[\s\S]*held-by-the-test/);
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await sandbox.stop();
    }
  }, 30_000);

  it('says what the worker side of the quiet check counts when the clock is held', async () => {
    const sandbox = await Sandbox.start(inputs({ eventLines: [] }), { storage: 'memory', workerCount: 2, stallTimeoutMs: 300 });
    try {
      void sandbox.scheduler.track(() => new Promise<void>(() => undefined), 'held-by-the-test');
      const error = await sandbox.runFor(60_000).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(error?.message).toMatch(/scheduler: 1 tracked flow\(s\) running \(held-by-the-test x1\)/);
      expect(error?.message).toMatch(/worker: pendingWork 0 vs 0 Teams cmdlet\(s\) sleeping on the clock \+ 0 hung process\(es\); heldSessions 0 of 8 loops, voice-commands has no session to accept/);
    } finally {
      await sandbox.stop();
    }
  }, 30_000);
});
