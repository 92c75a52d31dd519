import { describe, expect, it } from 'vitest';
import { brokerScheduleAtMs } from '../../shared/domain/broker-time.js';

describe('scheduling on the broker clock (pure)', () => {
  it("schedules a copy on the broker's time: later by as much as the host's clock is behind the message's enqueued time, never earlier", () => {
    const host = Date.parse('2026-11-02T08:00:00Z');
    const at = host + 60_000;
    // The host is 5 minutes slow: the broker enqueued the message at what the host calls 08:05.
    expect(brokerScheduleAtMs(at, host, host + 5 * 60_000)).toBe(at + 5 * 60_000);
    // The host is ahead, or the message waited on the queue: nothing to add.
    expect(brokerScheduleAtMs(at, host, host - 5 * 60_000)).toBe(at);
    expect(brokerScheduleAtMs(at, host, undefined)).toBe(at);
    expect(brokerScheduleAtMs(at, host, Number.NaN)).toBe(at);
  });
});
