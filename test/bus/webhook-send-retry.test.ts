import { describe, expect, it } from 'vitest';
import { RetryMode } from '@azure/service-bus';
import { sdkDefaultSendRetry, serviceBusRetryOptions, webhookSendRetry, worstCaseSendMs } from '../../shared/adapters/service-bus-retry.js';
import { SLOW_DELIVERY_MS } from '../../sandbox/graph-sim/notifications.js';
import { withSdkSendRetry } from '../../sandbox/bus/sdk-send-retry.js';
import type { BusSender } from '../../shared/ports/bus.js';

describe("the graphNotifications webhook's Service Bus retry policy", () => {
  it("fails a send before Graph counts the delivery slow, every try timing out and every delay waited (the SDK's defaults take minutes)", () => {
    expect(worstCaseSendMs(webhookSendRetry)).toBeLessThan(SLOW_DELIVERY_MS);
    expect(worstCaseSendMs(webhookSendRetry)).toBe(2_600);
    expect(worstCaseSendMs(sdkDefaultSendRetry)).toBe(4 * 60_000 + 3 * 30_000);
    expect(webhookSendRetry.maxRetries).toBeGreaterThanOrEqual(1);
  });

  it('is given to @azure/service-bus as fixed delays', () => {
    expect(serviceBusRetryOptions(webhookSendRetry)).toEqual({ maxRetries: 1, retryDelayInMs: 200, maxRetryDelayInMs: 200, timeoutInMs: 1_200, mode: RetryMode.Fixed });
  });

  it("is modelled in the sandbox as the SDK applies it: a retryable error waits the delay and tries again, up to the retries; another error is not retried", async () => {
    const waits: number[] = [];
    let calls = 0;
    const failing = (errors: unknown[]): BusSender => ({
      sendMessages: async () => {
        calls += 1;
        const e = errors.shift();
        if (e) throw e;
      },
      createMessageBatch: async () => {
        throw new Error('not used');
      },
      scheduleMessages: async () => [],
      close: async () => undefined,
    });
    const busy = Object.assign(new Error('busy'), { name: 'ServiceBusError', code: 'ServiceBusy', retryable: true });
    const quota = Object.assign(new Error('quota'), { name: 'ServiceBusError', code: 'QuotaExceeded', retryable: false });
    const sleep = async (ms: number) => void waits.push(ms);
    await withSdkSendRetry(failing([busy]), webhookSendRetry, sleep).sendMessages({ body: 1 });
    expect([calls, waits]).toEqual([2, [200]]);
    calls = 0;
    await expect(withSdkSendRetry(failing([busy, busy]), webhookSendRetry, sleep).sendMessages({ body: 1 })).rejects.toBe(busy);
    expect(calls).toBe(2);
    calls = 0;
    await expect(withSdkSendRetry(failing([quota]), webhookSendRetry, sleep).sendMessages({ body: 1 })).rejects.toBe(quota);
    expect(calls).toBe(1);
  });
});
