import { AsyncLocalStorage } from 'node:async_hooks';
import type { SimClock } from './clock.js';

interface Timer {
  due: number;
  key: string;
  seq: number;
  /** Daemon timers (recurring Function timers) never keep a run going on their own. */
  daemon: boolean;
  fire: () => void;
  cancelled: boolean;
}

export interface TimerHandle {
  cancel(): void;
}

/**
 * Discrete-event time for the sandbox. Everything that takes time in the simulated world
 * (a cmdlet, a Graph request, a Function timer, a retry backoff) waits on a timer of this
 * scheduler instead of real time; the driver moves the clock to the next timer only when no
 * work is runnable in real time ("quiet"). So a Teams session that runs a 2.5 s cmdlet is
 * busy for 2.5 s of sandbox time while other sessions run on their own timelines, and 10,000
 * people cost only the real CPU they need.
 *
 * Determinism: timers due at the same instant fire together, ordered by a key the sleeper
 * gives (the user or message it works for), never by the real-time order in which they were
 * registered; what they change in the simulated tenant happens in that order, and the clock
 * moves on only when all of them wait again.
 *
 * Quiet is counted: a flow started with `track` holds one unit of work while it runs and gives
 * it back while it sleeps in `sleep`. Sleeps of flows the sandbox cannot track (a Teams cmdlet
 * sent by the worker through a pwsh process) are counted per domain with `sleepFor`, and the
 * driver balances them against what it knows is in flight.
 */
export class SimScheduler {
  private heap: Timer[] = [];
  private seq = 0;
  private work = 0;
  private readonly sleepingByDomain = new Map<string, number>();
  private readonly peakByDomain = new Map<string, number>();
  private listeners: (() => void)[] = [];
  private firedAt: number;
  private readonly tracked = new AsyncLocalStorage<{ label: string }>();
  private readonly failed: { key: string; error: unknown }[] = [];
  /** Tracked flows running (not sleeping) now, by label: what holds the clock when the run stalls. */
  private readonly running = new Map<string, number>();

  constructor(readonly clock: SimClock) {
    this.firedAt = clock.nowMs();
  }

  /** Units of work runnable in real time right now. */
  busy(): number {
    return this.work;
  }

  /** Untracked sleepers of a domain currently waiting on a timer. */
  sleeping(domain: string): number {
    return this.sleepingByDomain.get(domain) ?? 0;
  }

  /** The most untracked sleepers of a domain there ever were at once (Teams sessions in a cmdlet). */
  peakSleeping(domain: string): number {
    return this.peakByDomain.get(domain) ?? 0;
  }

  /** Runs `fn` as one unit of tracked work; `label` names it in busyLabels (a Function, a timer's key). */
  async track<T>(fn: () => Promise<T>, label = 'work'): Promise<T> {
    this.work += 1;
    this.running.set(label, (this.running.get(label) ?? 0) + 1);
    try {
      return await this.tracked.run({ label }, fn);
    } finally {
      this.work -= 1;
      this.countRunning(label, -1);
      this.signal();
    }
  }

  /** Tracked flows running in real time now (not sleeping on this clock), by label, most first. */
  busyLabels(): [string, number][] {
    return [...this.running.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  }

  /**
   * Waits `ms` of sandbox time inside a tracked flow: the flow's unit of work is given back
   * while it sleeps and taken again, before it resumes, when the timer fires. Outside tracked
   * work (a CLI command reading the sandbox state) nothing drives the clock, so it costs nothing.
   */
  sleep(ms: number, key = ''): Promise<void> {
    const flow = this.tracked.getStore();
    if (flow === undefined) return Promise.resolve();
    return new Promise((resolve) => {
      this.work -= 1;
      this.countRunning(flow.label, -1);
      this.add(this.clock.nowMs() + Math.max(0, ms), key, false, () => {
        this.work += 1;
        this.countRunning(flow.label, 1);
        resolve();
      });
    });
  }

  /** Waits `ms` of sandbox time in a flow that is not tracked, counted under `domain`. */
  sleepFor(domain: string, ms: number, key = ''): Promise<void> {
    return new Promise((resolve) => {
      this.sleepingByDomain.set(domain, this.sleeping(domain) + 1);
      this.peakByDomain.set(domain, Math.max(this.peakSleeping(domain), this.sleeping(domain)));
      this.add(this.clock.nowMs() + Math.max(0, ms), key, false, () => {
        this.sleepingByDomain.set(domain, this.sleeping(domain) - 1);
        resolve();
      });
    });
  }

  /**
   * Calls `fn` at sandbox time `at` as tracked work. A daemon callback (a recurring timer)
   * fires when the clock passes it but does not by itself keep a run going.
   */
  at(at: number, key: string, fn: () => Promise<void> | void, options: { daemon?: boolean } = {}): TimerHandle {
    const timer = this.add(Math.max(at, this.clock.nowMs()), key, options.daemon ?? false, () => {
      this.track(async () => fn(), `timer ${key}`).catch((error: unknown) => {
        this.failed.push({ key, error });
      });
    });
    return { cancel: () => this.cancelTimer(timer) };
  }

  /** Timer callbacks that threw, with their keys (the sandbox fails the run on the first). */
  failures(): readonly { key: string; error: unknown }[] {
    return this.failed;
  }

  /** The earliest pending timer; daemon timers only when asked. */
  nextDue(includeDaemon: boolean): number | undefined {
    this.dropCancelled();
    if (includeDaemon) return this.heap[0]?.due;
    let next: number | undefined;
    for (const t of this.heap) if (!t.daemon && !t.cancelled && (next === undefined || t.due < next)) next = t.due;
    return next;
  }

  /** Sandbox time of the last timer that was not a daemon (the makespan's end). */
  lastWorkAt(): number {
    return this.firedAt;
  }

  /**
   * Moves the clock to the earliest timer, if it is due by `limit`, and fires every timer due
   * at that instant, in key order (their continuations start in that order); false when none is.
   */
  fireNext(limit = Number.POSITIVE_INFINITY): boolean {
    this.dropCancelled();
    const top = this.heap[0];
    if (top === undefined || top.due > limit) return false;
    const due = top.due;
    this.clock.advanceTo(due);
    while (this.heap[0] !== undefined && this.heap[0].due === due) {
      const timer = this.pop()!;
      if (timer.cancelled) continue;
      if (!timer.daemon) this.firedAt = Math.max(this.firedAt, due);
      timer.fire();
    }
    this.signal();
    return true;
  }

  /** Marks sandbox time as having held work (a message handled, a change applied). */
  noteWork(): void {
    this.firedAt = Math.max(this.firedAt, this.clock.nowMs());
  }

  /** Resolves true at the next change of work or timers, false after `ms` real milliseconds with none. */
  changed(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.listeners = this.listeners.filter((l) => l !== done);
        resolve(false);
      }, ms);
      this.listeners.push(done);
    });
  }

  private countRunning(label: string, delta: number): void {
    const n = (this.running.get(label) ?? 0) + delta;
    if (n === 0) this.running.delete(label);
    else this.running.set(label, n);
  }

  private signal(): void {
    if (this.listeners.length === 0) return;
    const listeners = this.listeners;
    this.listeners = [];
    for (const l of listeners) l();
  }

  private add(due: number, key: string, daemon: boolean, fire: () => void): Timer {
    const timer: Timer = { due, key, seq: ++this.seq, daemon, fire, cancelled: false };
    this.heap.push(timer);
    this.up(this.heap.length - 1);
    this.signal();
    return timer;
  }

  private cancelTimer(timer: Timer): void {
    timer.cancelled = true;
  }

  private dropCancelled(): void {
    while (this.heap[0]?.cancelled) this.pop();
  }

  private pop(): Timer | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last !== undefined) {
      heap[0] = last;
      this.down(0);
    }
    return top;
  }

  private less(a: Timer, b: Timer): boolean {
    if (a.due !== b.due) return a.due < b.due;
    if (a.key !== b.key) return a.key < b.key;
    return a.seq < b.seq;
  }

  private up(i: number): void {
    const heap = this.heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  private down(i: number): void {
    const heap = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && this.less(heap[l]!, heap[m]!)) m = l;
      if (r < heap.length && this.less(heap[r]!, heap[m]!)) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m]!, heap[i]!];
      i = m;
    }
  }
}
