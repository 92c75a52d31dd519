/**
 * A binary min-heap: push and pop in O(log n). The in-memory bus keeps its ready, scheduled,
 * lock and expiry orders in these, with lazy deletion (an entry is checked against the message's
 * current version when it reaches the top), so no operation scans a queue.
 */
export class MinHeap<T> {
  /** Comparisons made by every heap, so a test can show the cost grows with log n, not n. */
  static comparisons = 0;
  private readonly items: T[] = [];
  private readonly less: (a: T, b: T) => boolean;

  constructor(less: (a: T, b: T) => boolean) {
    this.less = (a, b) => {
      MinHeap.comparisons += 1;
      return less(a, b);
    };
  }

  get size(): number {
    return this.items.length;
  }

  push(item: T): void {
    const items = this.items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(items[i] as T, items[parent] as T)) break;
      [items[i], items[parent]] = [items[parent] as T, items[i] as T];
      i = parent;
    }
  }

  peek(): T | undefined {
    return this.items[0];
  }

  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < items.length && this.less(items[left] as T, items[smallest] as T)) smallest = left;
        if (right < items.length && this.less(items[right] as T, items[smallest] as T)) smallest = right;
        if (smallest === i) break;
        [items[i], items[smallest]] = [items[smallest] as T, items[i] as T];
        i = smallest;
      }
    }
    return top;
  }
}

/**
 * Sequence numbers in ascending order with O(log n) lookup of "the first at or after N", O(1)
 * append of a new highest number and O(1) amortised removal (removed numbers are skipped and
 * compacted away once they are half the list). Peek walks it.
 */
export class SequenceIndex {
  private seqs: number[] = [];
  private removed = 0;

  constructor(private readonly alive: (seq: number) => boolean) {}

  add(seq: number): void {
    const last = this.seqs[this.seqs.length - 1];
    if (last === undefined || seq > last) {
      this.seqs.push(seq);
      return;
    }
    // Out of order (a dead letter keeps the sequence number it had in the queue): binary insert.
    this.seqs.splice(this.lowerBound(seq), 0, seq);
  }

  /** Call after `alive(seq)` became false. */
  removed1(): void {
    this.removed += 1;
    if (this.removed > 64 && this.removed * 2 > this.seqs.length) {
      this.seqs = this.seqs.filter((s) => this.alive(s));
      this.removed = 0;
    }
  }

  /** Up to `max` live sequence numbers at or after `from`, ascending. */
  from(from: number, max: number): number[] {
    const out: number[] = [];
    for (let i = this.lowerBound(from); i < this.seqs.length && out.length < max; i++) {
      const seq = this.seqs[i] as number;
      if (this.alive(seq)) out.push(seq);
    }
    return out;
  }

  private lowerBound(seq: number): number {
    let lo = 0;
    let hi = this.seqs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.seqs[mid] as number) < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
