/**
 * When to schedule a copy (a retry, a set-aside command), in the broker's time. Service Bus judges a
 * scheduled enqueue time on its own clock; a Function instance or worker host decides it on its own.
 * A host clock behind the broker's asks for a time that is already past there, so the copy comes
 * straight back: a backoff is lost (retries burn out in a burst of a few seconds) or a set-aside
 * command is set aside again at the same instant, over and over. A received message's enqueued time
 * is a broker timestamp no later than the broker's now: by however much it is ahead of the host's
 * clock, the host is behind, and the copy is scheduled that much later. A host ahead of the broker
 * needs nothing: its copy waits a little longer than asked.
 */
export function brokerScheduleAtMs(atMs: number, hostNowMs: number, enqueuedAtMs: number | undefined): number {
  const hostBehindMs = enqueuedAtMs === undefined || !Number.isFinite(enqueuedAtMs) ? 0 : Math.max(0, enqueuedAtMs - hostNowMs);
  return atMs + hostBehindMs;
}
