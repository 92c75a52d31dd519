import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FunctionDurations } from '../../sandbox/host/function-durations.js';
import { readFunctionTimeoutMs } from '../../sandbox/host/host-json.js';

const serviceBus = { maxConcurrentCalls: 8, maxConcurrentSessions: 8, maxMessageBatchSize: 16 };

function hostJson(extra: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'host-json-'));
  const path = join(dir, 'host.json');
  writeFileSync(path, JSON.stringify({ version: '2.0', ...extra, extensions: { serviceBus } }));
  return path;
}

describe("host.json's functionTimeout", () => {
  it("reads the repository's (5 minutes), another value, and the host's default when none is named", () => {
    expect(readFunctionTimeoutMs()).toBe(5 * 60_000);
    expect(readFunctionTimeoutMs(hostJson({ functionTimeout: '00:10:00' }))).toBe(10 * 60_000);
    expect(readFunctionTimeoutMs(hostJson({}))).toBe(5 * 60_000);
  });

  it('refuses a timeout that is not hh:mm:ss, naming the field', () => {
    expect(() => readFunctionTimeoutMs(hostJson({ functionTimeout: '5m' }))).toThrow(/functionTimeout: expected hh:mm:ss/);
  });
});

describe('timing Function invocations', () => {
  it('keeps, per Function, the invocations, the longest and how many outlasted the timeout', async () => {
    const d = new FunctionDurations(300_000);
    let now = 0;
    await d.time('plan', () => now, async () => {
      now += 2_000;
    });
    await expect(
      d.time('graphResync', () => now, async () => {
        now += 301_000;
        throw new Error('the round failed');
      }),
    ).rejects.toThrow('the round failed');
    d.record('plan', 1_000);
    expect(d.summary()).toEqual({
      graphResync: { invocations: 1, longestMs: 301_000, overTimeout: 1 },
      plan: { invocations: 2, longestMs: 2_000, overTimeout: 0 },
    });
  });
});
