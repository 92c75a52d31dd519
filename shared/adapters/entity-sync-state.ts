import type { SyncState } from '../ports/sync-state.js';
import { escapeKey, type EntityTable } from './entity-table.js';

const PARTITION = 'sync';

/** SyncState in one Table Storage partition (or the in-memory table of the sandbox and tests). */
export function entitySyncState(table: EntityTable): SyncState {
  return {
    async get(key) {
      await table.ensure();
      const row = await table.get(PARTITION, escapeKey(key));
      const value = row?.props['value'];
      return typeof value === 'string' ? value : undefined;
    },
    async set(key, value) {
      await table.ensure();
      await table.transact(PARTITION, [{ kind: 'upsert', rowKey: escapeKey(key), props: { value } }]);
    },
  };
}
