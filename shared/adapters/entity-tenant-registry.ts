import type { z } from 'zod';
import { describeZodError } from '../contracts/messages.js';
import { DialtoneError } from '../domain/errors.js';
import { registryConflict, TenantInputSchema, TenantPatchSchema, TenantSchema, type Tenant } from '../domain/tenants.js';
import type { TenantRegistry } from '../ports/tenant-registry.js';
import type { MemoryTableService } from './memory-table-client.js';
import { azureEntityTable, createTableClient, escapeKey, isEntityConflict, type EntityTable, type Row, type TableConnection, type TableOp } from './table-client.js';

/**
 * The tenant registry on Table Storage (or its in-memory twin).
 *
 * `tenants` table: PK `tenant`, RK <tenant id>: `tenant` (the validated tenant as JSON) and
 * `displayName`. One partition, so the registry is read in one query and a write can check the
 * others' pools and domains; a change replaces the row If-Match its ETag, and a lost race reads
 * again and re-checks, so two operators cannot give one pool to two tenants at once. A removed
 * tenant leaves a tombstone (`removedAt`, `tenant` empty): the offboarding stays on record, and
 * registering the tenant again replaces it If-Match like any other change. Every write also
 * replaces the partition's guard row (`~registry`, a counter) If-Match in the same transaction,
 * so two writes checked against the same registry cannot both land (two new tenants claiming one
 * pool are two different rows: without the guard both creates would succeed).
 */
export const TENANTS_TABLE = 'tenants';
const PK = 'tenant';
const MAX_ATTEMPTS = 10;
const GUARD = '~registry';

function fromRow(row: Row): Tenant {
  let value: unknown;
  try {
    value = JSON.parse(String(row.props['tenant'] ?? ''));
  } catch {
    throw new DialtoneError('Unexpected', `tenant registry row ${row.rowKey} is not JSON`);
  }
  const parsed = TenantSchema.safeParse(value);
  if (!parsed.success) throw new DialtoneError('Unexpected', `tenant registry row ${row.rowKey}: ${describeZodError(parsed.error)}`);
  return parsed.data;
}

function isTombstone(row: Row): boolean {
  return typeof row.props['removedAt'] === 'string' && row.props['removedAt'] !== '';
}

function invalid(message: string): DialtoneError {
  return new DialtoneError('ConfigInvalid', message);
}

export function createEntityTenantRegistry(table: EntityTable): TenantRegistry {
  let ready: Promise<void> | undefined;
  const ensure = (): Promise<void> =>
    (ready ??= table.ensure().catch((error: unknown) => {
      ready = undefined;
      throw error;
    }));
  /** Every row, tombstones included. */
  const allRows = async (): Promise<Row[]> => {
    await ensure();
    return table.query({ partitionKey: PK });
  };
  const live = (rows: Row[]): Row[] => rows.filter((r) => r.rowKey !== GUARD && !isTombstone(r));
  /** The guard row's next version, If-Match the one the caller's checks were made against. */
  const guardOp = (rows: Row[]): TableOp => {
    const guard = rows.find((r) => r.rowKey === GUARD);
    const changes = Number(guard?.props['changes'] ?? 0) + 1;
    return guard ? { kind: 'replace', rowKey: GUARD, props: { changes }, etag: guard.etag } : { kind: 'create', rowKey: GUARD, props: { changes } };
  };
  const commit = async (ops: TableOp[]): Promise<boolean> => {
    try {
      await table.transact(PK, ops);
      return true;
    } catch (error) {
      if (isEntityConflict(error)) return false;
      throw error;
    }
  };
  const write = async (tenant: Tenant, etag: string | undefined, rows: Row[]): Promise<boolean> => {
    const props = { tenant: JSON.stringify(tenant), displayName: tenant.displayName, removedAt: null };
    try {
      await table.transact(PK, [
        etag === undefined ? { kind: 'create', rowKey: escapeKey(tenant.tenantId), props } : { kind: 'replace', rowKey: escapeKey(tenant.tenantId), props, etag },
        guardOp(rows),
      ]);
      return true;
    } catch (error) {
      if (isEntityConflict(error)) return false;
      throw error;
    }
  };

  return {
    async list() {
      return live(await allRows()).map(fromRow).sort((a, b) => a.displayName.localeCompare(b.displayName) || a.tenantId.localeCompare(b.tenantId));
    },
    async get(tenantId) {
      await ensure();
      const row = await table.get(PK, escapeKey(tenantId.toLowerCase()));
      return row && !isTombstone(row) ? fromRow(row) : undefined;
    },
    async add(input, now) {
      const parsed = TenantInputSchema.safeParse(input);
      if (!parsed.success) throw invalid(describeZodError(parsed.error));
      const at = now.toISOString();
      const tenant: Tenant = { ...parsed.data, createdAt: at, updatedAt: at };
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const rows = await allRows();
        const all = live(rows).map(fromRow);
        if (all.some((t) => t.tenantId === tenant.tenantId)) throw invalid(`tenant ${tenant.tenantId} is registered already (dialtone tenants update changes it)`);
        const conflict = registryConflict(tenant, all);
        if (conflict) throw invalid(conflict);
        // A create (or the tombstone's replace) fails when someone else wrote meanwhile; re-check then.
        const tombstone = rows.find((r) => r.rowKey === escapeKey(tenant.tenantId));
        if (await write(tenant, tombstone?.etag, rows)) return tenant;
      }
      throw new DialtoneError('Throttled', `could not register tenant ${tenant.tenantId}: the registry kept changing; try again`, { transient: true });
    },
    async update(tenantId, patch, now) {
      const parsedPatch = TenantPatchSchema.safeParse(patch);
      if (!parsedPatch.success) throw invalid(describeZodError(parsedPatch.error));
      const id = tenantId.toLowerCase();
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const rows = await allRows();
        const all = live(rows);
        const row = all.find((r) => r.rowKey === escapeKey(id));
        if (!row) throw invalid(`tenant ${tenantId} is not registered (see dialtone tenants list)`);
        const current = fromRow(row);
        // The patch as given, not as parsed: parsing would fill the defaults of fields not given.
        const merged = TenantInputSchema.safeParse({ ...stripTimes(current), ...definedOnly(patch) });
        if (!merged.success) throw invalid(describeZodError(merged.error));
        const conflict = registryConflict(merged.data, all.map(fromRow));
        if (conflict) throw invalid(conflict);
        const next: Tenant = { ...merged.data, createdAt: current.createdAt, updatedAt: now.toISOString() };
        if (await write(next, row.etag, rows)) return next;
      }
      throw new DialtoneError('Throttled', `could not update tenant ${tenantId}: the registry kept changing; try again`, { transient: true });
    },
    async remove(tenantId, now) {
      await ensure();
      const key = escapeKey(tenantId.toLowerCase());
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const rows = await allRows();
        const row = rows.find((r) => r.rowKey === key);
        if (!row || isTombstone(row)) return false;
        const tombstone = { tenant: '', displayName: row.props['displayName'] ?? '', removedAt: now.toISOString() };
        if (await commit([{ kind: 'replace', rowKey: key, props: tombstone, etag: row.etag }, guardOp(rows)])) return true;
      }
      throw new DialtoneError('Throttled', `could not remove tenant ${tenantId}: the registry kept changing; try again`, { transient: true });
    },
  };
}

function stripTimes(tenant: Tenant): z.input<typeof TenantInputSchema> {
  const { createdAt: _c, updatedAt: _u, ...rest } = tenant;
  return rest;
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function createTableTenantRegistry(connection: TableConnection): TenantRegistry {
  return createEntityTenantRegistry(azureEntityTable(createTableClient(connection, TENANTS_TABLE)));
}

export function createMemoryTenantRegistry(service: MemoryTableService): TenantRegistry {
  return createEntityTenantRegistry(service.table(TENANTS_TABLE));
}
