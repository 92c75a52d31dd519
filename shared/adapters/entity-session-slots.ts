import { randomUUID } from 'node:crypto';
import { takeableSlots, type SlotState } from '../domain/session-slots.js';
import type { Clock } from '../ports/clock.js';
import type { SessionSlot, SessionSlots } from '../ports/session-slots.js';
import { escapeKey, isEntityConflict, type EntityTable, type Row } from './entity-table.js';

/**
 * The tenant-wide session limit on Table Storage (or its in-memory twin).
 *
 * `sessionslots` table: PK <tenant id>, RK `slot-<n>` (n < limit): holder, lease, expiresAt.
 * Taking a slot creates its row or replaces it If-Match its ETag, so two workers cannot take one
 * slot; a renewal replaces it If-Match too and fails once someone else took it after it lapsed.
 */
export interface EntitySessionSlotsOptions {
  table: EntityTable;
  clock: Clock;
  limit: number;
  leaseMs: number;
}

const slotKey = (slot: number): string => `slot-${String(slot).padStart(3, '0')}`;

function stateOf(row: Row): SlotState {
  return {
    slot: Number(row.rowKey.slice('slot-'.length)),
    holder: typeof row.props['holder'] === 'string' ? row.props['holder'] : '',
    expiresAt: typeof row.props['expiresAt'] === 'string' ? row.props['expiresAt'] : '',
  };
}

export function createEntitySessionSlots(options: EntitySessionSlotsOptions): SessionSlots {
  const { table, clock, limit, leaseMs } = options;
  if (!Number.isInteger(limit) || limit < 1) throw new Error(`session limit must be a positive integer, got ${limit}`);
  let ready: Promise<void> | undefined;
  const ensure = (): Promise<void> => (ready ??= table.ensure().catch((error: unknown) => {
    // The Bicep creates the table and grants the worker Storage Table Data Contributor on that one
    // table, which does not allow creating tables: a 403 here means "exists, use it".
    if (httpStatusOf(error) === 403) return;
    ready = undefined;
    throw error;
  }));
  let spread = 0;

  return {
    limit,
    leaseMs,
    async tryAcquire(tenantId, holder, tenantLimit) {
      await ensure();
      // The tenant's own limit (the registry's sessionLimit) when given: every worker asks with it.
      const own = tenantLimit ?? limit;
      if (!Number.isInteger(own) || own < 1) throw new Error(`session limit of tenant ${tenantId} must be a positive integer, got ${own}`);
      const pk = escapeKey(tenantId);
      const rows = (await table.query({ partitionKey: pk, rowKeyFrom: 'slot-', rowKeyBefore: 'slot.' })).filter((r) => Number(r.rowKey.slice(5)) < own);
      const now = clock.now();
      for (const slot of takeableSlots(rows.map(stateOf), own, now, spread++ % own)) {
        const lease = randomUUID();
        const props = { holder, lease, expiresAt: new Date(now.getTime() + leaseMs).toISOString() };
        const existing = rows.find((r) => r.rowKey === slotKey(slot));
        try {
          await table.transact(pk, [existing ? { kind: 'replace', rowKey: slotKey(slot), props, etag: existing.etag } : { kind: 'create', rowKey: slotKey(slot), props }]);
        } catch (error) {
          if (isEntityConflict(error)) continue;
          throw error;
        }
        return held(pk, tenantId, slot, holder, lease);
      }
      return undefined;
    },
  };

  function held(pk: string, tenantId: string, slot: number, holder: string, lease: string): SessionSlot {
    let released = false;
    const mine = async (): Promise<Row | undefined> => {
      const row = await table.get(pk, slotKey(slot));
      return row && row.props['lease'] === lease ? row : undefined;
    };
    return {
      tenantId,
      slot,
      async renew() {
        if (released) return false;
        // Still ours (even if it lapsed, nobody took it meanwhile): the If-Match keeps it that way.
        const row = await mine();
        const now = clock.now();
        if (!row) return false;
        try {
          await table.transact(pk, [{ kind: 'replace', rowKey: slotKey(slot), props: { holder, lease, expiresAt: new Date(now.getTime() + leaseMs).toISOString() }, etag: row.etag }]);
          return true;
        } catch (error) {
          if (isEntityConflict(error)) return false;
          throw error;
        }
      },
      async release() {
        if (released) return;
        released = true;
        const row = await mine();
        if (!row) return;
        try {
          await table.transact(pk, [{ kind: 'replace', rowKey: slotKey(slot), props: { holder: '', lease: '', expiresAt: clock.now().toISOString() }, etag: row.etag }]);
        } catch (error) {
          if (!isEntityConflict(error)) throw error;
        }
      },
    };
  }
}

function httpStatusOf(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}
