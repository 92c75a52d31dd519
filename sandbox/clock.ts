import type { Clock } from '../shared/ports/clock.js';

/**
 * The sandbox's simulated clock. Time moves only when the sandbox moves it (to the next
 * scheduled message, lock expiry or directory change), so an hour of directory-sync lag
 * takes no real time and every run is repeatable.
 */
export class SimClock implements Clock {
  private current: number;
  readonly startedAt: number;

  constructor(start: Date | string = '2026-11-02T08:00:00Z') {
    this.current = new Date(start).getTime();
    this.startedAt = this.current;
  }

  now(): Date {
    return new Date(this.current);
  }

  nowMs(): number {
    return this.current;
  }

  /** Milliseconds of sandbox time since the run started. */
  elapsedMs(): number {
    return this.current - this.startedAt;
  }

  advance(ms: number): void {
    if (ms < 0) throw new RangeError('the simulated clock never goes back');
    this.current += ms;
  }

  /** Moves to `to` if it lies ahead; never moves back. */
  advanceTo(to: Date | number): void {
    const target = typeof to === 'number' ? to : to.getTime();
    if (target > this.current) this.current = target;
  }
}
