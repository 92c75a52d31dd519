import type { TokenCredential } from '@azure/identity';

/**
 * The little of Azure Table Storage the inventory and the records need: point reads, filtered
 * range queries, and same-partition transactions whose writes carry an ETag. The Azure-backed
 * implementation is table-client.ts (the only module that loads the Azure SDK); memory-table-client.ts implements the same semantics for the sandbox.
 */

export type Props = Record<string, string | number | boolean | null>;

export interface Row {
  partitionKey: string;
  rowKey: string;
  etag: string;
  props: Props;
}

/** A filter over string properties (OR of ANDs, as OData would write it). */
export type Where =
  | { eq: [field: string, value: string] }
  | { le: [field: string, value: string] }
  | { and: Where[] }
  | { or: Where[] };

export interface RowQuery {
  partitionKey?: string;
  /** Inclusive lower and exclusive upper bound on the row key. */
  rowKeyFrom?: string;
  rowKeyBefore?: string;
  where?: Where;
  /** Stop after this many rows (in key order). */
  limit?: number;
}

export type TableOp =
  | { kind: 'create'; rowKey: string; props: Props }
  | { kind: 'replace'; rowKey: string; props: Props; etag: string }
  | { kind: 'upsert'; rowKey: string; props: Props };

export interface EntityTable {
  readonly name: string;
  /** Creates the table when missing. */
  ensure(): Promise<void>;
  get(partitionKey: string, rowKey: string): Promise<Row | undefined>;
  query(query: RowQuery): Promise<Row[]>;
  /** All or nothing, at most 100 operations, one partition. Throws EntityConflict on 409/412. */
  transact(partitionKey: string, ops: TableOp[]): Promise<void>;
}

/** Someone else wrote first: the row exists already, or its ETag moved on. */
export class EntityConflict extends Error {
  override readonly name = 'EntityConflict';
}

export function isEntityConflict(error: unknown): error is EntityConflict {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'EntityConflict';
}

export const MAX_TRANSACTION_OPS = 100;

/** Table keys may not hold / \ # ? or control characters; escape them (and %) as %XX. */
export function escapeKey(value: string): string {
  // eslint-disable-next-line no-control-regex
  return value.replace(/[%/\\#?\u0000-\u001f\u007f-\u009f]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0').toUpperCase()}`);
}

export function unescapeKey(value: string): string {
  return value.replace(/%([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

export interface TableConnection {
  /** https://<account>.table.core.windows.net with a TokenCredential (production). */
  endpoint?: string;
  credential?: TokenCredential;
  /** A connection string (Azurite, local development). */
  connectionString?: string;
  /**
   * The SDK's retry delays (default: the SDK's own, 1 s doubling up to 64 s, 3 retries). The
   * sandbox shortens them on Azurite: a retry's real-time wait holds the sandbox clock.
   */
  retry?: { retryDelayInMs: number; maxRetryDelayInMs: number };
}

export interface TableNames {
  numbers: string;
  numberHistory: string;
  provisioning: string;
}

export const defaultTableNames: TableNames = { numbers: 'numbers', numberHistory: 'numberhistory', provisioning: 'provisioning' };

export interface TableStorageOptions extends TableConnection {
  /** Table names (alphanumeric, 3–63 characters); defaults to numbers, numberhistory, provisioning. */
  tableNames?: Partial<TableNames>;
}
