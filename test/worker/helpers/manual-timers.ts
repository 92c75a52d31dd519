import type { Timers } from '../../../worker/timers.js';

/** Timers that fire only when the test moves time, so reaper and backoff tests never sleep. */
export class ManualTimers implements Timers {
  private current = 0;
  private seq = 0;
  private readonly due = new Map<number, { at: number; callback: () => void }>();

  now(): number {
    return this.current;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.due.set(id, { at: this.current + ms, callback });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.due.delete(handle as number);
  }

  /** Moves time forward, firing every timer that falls due in order. */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      const next = [...this.due.entries()].filter(([, t]) => t.at <= target).sort((a, b) => a[1].at - b[1].at)[0];
      if (!next) break;
      this.due.delete(next[0]);
      this.current = Math.max(this.current, next[1].at);
      next[1].callback();
    }
    this.current = target;
  }

  pending(): number {
    return this.due.size;
  }
}
