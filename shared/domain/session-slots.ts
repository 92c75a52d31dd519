/** Pure decisions of the tenant-wide session limit (see shared/ports/session-slots.ts). */

export interface SlotState {
  slot: number;
  /** Empty when free. */
  holder: string;
  /** ISO time the lease lapses. */
  expiresAt: string;
}

/** Slots a caller may take now, in the order to try them: never created, released, or lapsed. */
export function takeableSlots(states: SlotState[], limit: number, now: Date, start = 0): number[] {
  const at = now.toISOString();
  const byIndex = new Map(states.map((s) => [s.slot, s]));
  const order = Array.from({ length: limit }, (_, i) => (start + i) % limit);
  return order.filter((i) => {
    const state = byIndex.get(i);
    return state === undefined || state.holder === '' || state.expiresAt <= at;
  });
}

/** How many slots are held right now (not released, not lapsed). */
export function heldSlots(states: SlotState[], limit: number, now: Date): number {
  return limit - takeableSlots(states, limit, now).length;
}
