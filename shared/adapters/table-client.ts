import { odata, TableClient, type TableEntity, type TransactionAction } from '@azure/data-tables';
import { DialtoneError } from '../domain/errors.js';
import { entityRefusal, isTableRefusalCode, TableRefused, transactionRefusal } from './table-limits.js';
import { EntityConflict, type EntityTable, type Props, type Row, type RowQuery, type TableConnection, type TableOp, type Where } from './entity-table.js';

/** The types and helpers of every table adapter, for callers that import them from here. */
export * from './entity-table.js';

export function createTableClient(connection: TableConnection, table: string): TableClient {
  if (!/^[A-Za-z][A-Za-z0-9]{2,62}$/.test(table)) {
    throw new DialtoneError('ConfigInvalid', `table name '${table}' is not valid: letters and digits only, 3 to 63 characters, starting with a letter`);
  }
  const retryOptions = connection.retry ? { retryOptions: connection.retry } : {};
  if (connection.connectionString) {
    return TableClient.fromConnectionString(connection.connectionString, table, { allowInsecureConnection: true, ...retryOptions });
  }
  if (connection.endpoint && connection.credential) return new TableClient(connection.endpoint, table, connection.credential, retryOptions);
  throw new Error('Table Storage needs either a connection string or an endpoint with a credential');
}

function field(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`not a property name: ${name}`);
  return name;
}

const literal = (value: string): string => `'${value.replace(/'/g, "''")}'`;

function toOData(where: Where): string {
  if ('eq' in where) return `${field(where.eq[0])} eq ${literal(where.eq[1])}`;
  if ('le' in where) return `${field(where.le[0])} le ${literal(where.le[1])}`;
  const parts = ('and' in where ? where.and : where.or).map((w) => `(${toOData(w)})`);
  return parts.join('and' in where ? ' and ' : ' or ');
}

function queryFilter(query: RowQuery): string | undefined {
  const parts: string[] = [];
  if (query.partitionKey !== undefined) parts.push(odata`PartitionKey eq ${query.partitionKey}`);
  if (query.rowKeyFrom !== undefined) parts.push(odata`RowKey ge ${query.rowKeyFrom}`);
  if (query.rowKeyBefore !== undefined) parts.push(odata`RowKey lt ${query.rowKeyBefore}`);
  if (query.where) parts.push(`(${toOData(query.where)})`);
  return parts.length > 0 ? parts.join(' and ') : undefined;
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

function toRow(entity: Record<string, unknown> & { partitionKey?: string; rowKey?: string; etag: string }): Row {
  const props: Props = {};
  for (const [key, value] of Object.entries(entity)) {
    if (key === 'partitionKey' || key === 'rowKey' || key === 'etag' || key === 'timestamp' || key.startsWith('odata.')) continue;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') props[key] = value;
  }
  return { partitionKey: entity.partitionKey ?? '', rowKey: entity.rowKey ?? '', etag: entity.etag, props };
}

function entityOf(partitionKey: string, rowKey: string, props: Props): TableEntity<Props> {
  const clean: Props = {};
  for (const [key, value] of Object.entries(props)) if (value !== null) clean[key] = value;
  return { ...clean, partitionKey, rowKey };
}

/** Azure Table Storage (or Azurite) behind the EntityTable interface. */
export function azureEntityTable(client: TableClient): EntityTable {
  let ensured: Promise<void> | undefined;
  return {
    name: client.tableName,
    ensure() {
      ensured ??= client.createTable().catch((error: unknown) => {
        ensured = undefined;
        throw error;
      });
      return ensured;
    },
    async get(partitionKey, rowKey) {
      try {
        return toRow(await client.getEntity<Record<string, unknown>>(partitionKey, rowKey));
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw error;
      }
    },
    async query(query) {
      const filter = queryFilter(query);
      const rows: Row[] = [];
      const pages = client.listEntities<Record<string, unknown>>(filter ? { queryOptions: { filter } } : {}).byPage({
        maxPageSize: Math.min(query.limit ?? 1000, 1000),
      });
      for await (const page of pages) {
        for (const entity of page) {
          rows.push(toRow(entity));
          if (query.limit !== undefined && rows.length >= query.limit) return rows;
        }
      }
      return rows;
    },
    async transact(partitionKey, ops) {
      if (ops.length === 0) return;
      const where = `${client.tableName}/${partitionKey}`;
      try {
        if (ops.length === 1) {
          await single(client, partitionKey, ops[0] as TableOp);
          return;
        }
        const actions: TransactionAction[] = ops.map((op) => {
          switch (op.kind) {
            case 'create':
              return ['create', entityOf(partitionKey, op.rowKey, op.props)];
            case 'replace':
              return ['update', entityOf(partitionKey, op.rowKey, op.props), 'Replace', { etag: op.etag }];
            case 'upsert':
              return ['upsert', entityOf(partitionKey, op.rowKey, op.props), 'Replace'];
          }
        });
        await client.submitTransaction(actions);
      } catch (error) {
        const status = statusOf(error);
        if (status === 409 || status === 412) throw new EntityConflict(`${where}: ${status}`);
        const refused = status === 400 ? refusalOf(error, where, partitionKey, ops) : undefined;
        if (refused) throw refused;
        throw error;
      }
    },
  };
}

async function single(client: TableClient, partitionKey: string, op: TableOp): Promise<void> {
  switch (op.kind) {
    case 'create':
      await client.createEntity(entityOf(partitionKey, op.rowKey, op.props));
      return;
    case 'replace':
      await client.updateEntity(entityOf(partitionKey, op.rowKey, op.props), 'Replace', { etag: op.etag });
      return;
    case 'upsert':
      await client.upsertEntity(entityOf(partitionKey, op.rowKey, op.props), 'Replace');
      return;
  }
}

/**
 * The service's 400 answer as the same TableRefused the in-memory twin throws. The code is on the
 * error for a batch and inside the JSON body of a single-entity answer; the property is found by
 * checking the entities against the documented limits (the service does not name it).
 */
function refusalOf(error: unknown, where: string, partitionKey: string, ops: TableOp[]): TableRefused | undefined {
  const e = error as { code?: unknown; message?: unknown };
  let code = e.code;
  if (!isTableRefusalCode(code) && typeof e.message === 'string') {
    try {
      code = (JSON.parse(e.message) as { 'odata.error'?: { code?: unknown } })['odata.error']?.code;
    } catch {
      code = /\b(PropertyValueTooLarge|EntityTooLarge|TooManyProperties|PropertyNameTooLong|InvalidDuplicateRow|InvalidInput)\b/.exec(e.message)?.[1];
    }
  }
  if (!isTableRefusalCode(code)) return undefined;
  for (const op of ops) {
    const found = entityRefusal(`${where}/${op.rowKey}`, partitionKey, op.rowKey, op.props);
    if (found && found.storageCode === code) return found;
  }
  return transactionRefusal(where, ops.map((op) => op.rowKey)) ?? new TableRefused(code, `${where}: ${code}: Table Storage refused the write.`);
}
