import { DialtoneError } from '../domain/errors.js';

/**
 * What Azure Table Storage refuses, with the error codes it answers (400 Bad Request). The
 * in-memory twin checks these before it writes; the Azure adapter maps the service's answers to
 * the same error, so both fail in the same way and the pipeline classifies them once.
 *
 * From the Table service data model: a property holds at most 64 KiB (a string is UTF-16, so at
 * most 32,768 characters), an entity at most 1 MiB, 252 properties besides PartitionKey, RowKey and
 * Timestamp, property names of at most 255 characters; a transaction holds at most 100 operations
 * on one partition, each entity at most once.
 */
export const TABLE_LIMITS = {
  propertyBytes: 64 * 1024,
  stringChars: 32 * 1024,
  entityBytes: 1024 * 1024,
  properties: 252,
  propertyNameChars: 255,
  transactionOps: 100,
} as const;

export const tableRefusalCodes = [
  'PropertyValueTooLarge',
  'EntityTooLarge',
  'TooManyProperties',
  'PropertyNameTooLong',
  'InvalidInput',
  'InvalidDuplicateRow',
] as const;
export type TableRefusalCode = (typeof tableRefusalCodes)[number];

export function isTableRefusalCode(code: unknown): code is TableRefusalCode {
  return typeof code === 'string' && (tableRefusalCodes as readonly string[]).includes(code);
}

/**
 * Table Storage refused a write as malformed: it will refuse it again, so it is permanent (never
 * retried), and, since only oversized or malformed input gets here, an InvalidMessage that names
 * the property.
 */
export class TableRefused extends DialtoneError {
  readonly statusCode = 400;

  constructor(
    readonly storageCode: TableRefusalCode,
    message: string,
    readonly property?: string,
  ) {
    super('InvalidMessage', message, { transient: false, details: { storageCode, ...(property ? { property } : {}) } });
  }
}

export function isTableRefused(error: unknown): error is TableRefused {
  return error instanceof TableRefused;
}

type Value = string | number | boolean | null;

/** Bytes of a value as the service counts them (strings are UTF-16 plus a 4-byte length). */
function valueBytes(value: Value): number {
  if (typeof value === 'string') return value.length * 2 + 4;
  if (typeof value === 'boolean') return 1;
  return 8;
}

/** The size formula of the Table service: 4 + keys × 2 + per property 8 + name × 2 + value. */
export function entityBytes(partitionKey: string, rowKey: string, props: Record<string, Value>): number {
  let bytes = 4 + (partitionKey.length + rowKey.length) * 2;
  for (const [name, value] of Object.entries(props)) {
    if (value === null) continue;
    bytes += 8 + name.length * 2 + valueBytes(value);
  }
  return bytes;
}

/** The first limit this entity breaks, worded as the service words it and naming the property. */
export function entityRefusal(where: string, partitionKey: string, rowKey: string, props: Record<string, Value>): TableRefused | undefined {
  const present = Object.entries(props).filter(([, v]) => v !== null);
  for (const [name, value] of present) {
    if (name.length > TABLE_LIMITS.propertyNameChars) {
      return new TableRefused('PropertyNameTooLong', `${where}: PropertyNameTooLong: the property name '${name.slice(0, 40)}…' exceeds the maximum allowed length (255).`, name);
    }
    if (typeof value === 'string' && value.length > TABLE_LIMITS.stringChars) {
      return new TableRefused(
        'PropertyValueTooLarge',
        `${where}: PropertyValueTooLarge: property '${name}' holds ${value.length} characters; the property value exceeds the maximum allowed size (64KB). If the property value is a string, it is UTF-16 encoded and the maximum number of characters should be 32K or less.`,
        name,
      );
    }
  }
  if (present.length > TABLE_LIMITS.properties) {
    return new TableRefused('TooManyProperties', `${where}: TooManyProperties: the entity has ${present.length} properties; at most 252 are allowed.`);
  }
  const size = entityBytes(partitionKey, rowKey, props);
  if (size > TABLE_LIMITS.entityBytes) {
    const largest = present.reduce<[string, number] | undefined>((best, [name, value]) => {
      const bytes = valueBytes(value);
      return best === undefined || bytes > best[1] ? [name, bytes] : best;
    }, undefined);
    return new TableRefused(
      'EntityTooLarge',
      `${where}: EntityTooLarge: the entity is ${size} bytes, larger than the maximum size permitted (1 MiB)${largest ? `; its largest property is '${largest[0]}'` : ''}.`,
      largest?.[0],
    );
  }
  return undefined;
}

/** A transaction's own limits: at most 100 operations, each row once. */
export function transactionRefusal(where: string, rowKeys: string[]): TableRefused | undefined {
  if (rowKeys.length > TABLE_LIMITS.transactionOps) {
    return new TableRefused('InvalidInput', `${where}: InvalidInput: the batch request operation exceeds the maximum 100 changes per change set (${rowKeys.length}).`);
  }
  const seen = new Set<string>();
  for (const rowKey of rowKeys) {
    if (seen.has(rowKey)) {
      return new TableRefused('InvalidDuplicateRow', `${where}: InvalidDuplicateRow: a command with RowKey '${rowKey}' is already present in the batch. An entity can appear only once in a batch.`);
    }
    seen.add(rowKey);
  }
  return undefined;
}
