import { describe, expect, it } from 'vitest';
import { ChunkedPartition, createMemoryTableService } from '../../shared/adapters/memory-table-client.js';
import { azureEntityTable, createTableClient, type EntityTable, escapeKey, isEntityConflict, type Props, unescapeKey } from '../../shared/adapters/table-client.js';
import { azuriteConnectionString } from '../../sandbox/azurite.js';
import { useAzurite } from '../helpers/azurite.js';
import { isTableRefused, type TableRefused } from '../../shared/adapters/table-limits.js';

const azurite = useAzurite();

async function conflict(promise: Promise<unknown>): Promise<boolean> {
  try {
    await promise;
    return false;
  } catch (error) {
    if (isEntityConflict(error)) return true;
    throw error;
  }
}

async function refusal(promise: Promise<unknown>): Promise<TableRefused | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    if (isTableRefused(error)) return error;
    throw error;
  }
}

/** The in-memory twin must behave like Table Storage, or the inventory contract proves nothing. */
function entityTableContract(name: string, makeTable: () => Promise<EntityTable>): void {
  describe(`EntityTable semantics: ${name}`, () => {
    it('creates once: a second create conflicts', async () => {
      const table = await makeTable();
      await table.transact('p', [{ kind: 'create', rowKey: 'a', props: { v: 'one' } }]);
      expect(await conflict(table.transact('p', [{ kind: 'create', rowKey: 'a', props: { v: 'two' } }]))).toBe(true);
      expect((await table.get('p', 'a'))?.props).toEqual({ v: 'one' });
    });

    it('replaces only with the current ETag', async () => {
      const table = await makeTable();
      await table.transact('p', [{ kind: 'create', rowKey: 'a', props: { v: 'one' } }]);
      const first = await table.get('p', 'a');
      await table.transact('p', [{ kind: 'replace', rowKey: 'a', props: { v: 'two' }, etag: first?.etag ?? '' }]);
      expect(await conflict(table.transact('p', [{ kind: 'replace', rowKey: 'a', props: { v: 'three' }, etag: first?.etag ?? '' }]))).toBe(true);
      expect((await table.get('p', 'a'))?.props).toEqual({ v: 'two' });
    });

    it('applies a transaction all or nothing', async () => {
      const table = await makeTable();
      await table.transact('p', [{ kind: 'create', rowKey: 'taken', props: { v: 'x' } }]);
      const failed = table.transact('p', [
        { kind: 'create', rowKey: 'new', props: { v: 'y' } },
        { kind: 'create', rowKey: 'taken', props: { v: 'z' } },
      ]);
      expect(await conflict(failed)).toBe(true);
      expect(await table.get('p', 'new')).toBeUndefined();
    });

    it('drops null properties and returns rows in key order within a range', async () => {
      const table = await makeTable();
      await table.transact('p', [
        { kind: 'create', rowKey: 'n:2', props: { state: 'free', userId: null } },
        { kind: 'create', rowKey: 'n:1', props: { state: 'reserved', userId: 'u' } },
        { kind: 'create', rowKey: 'u:1', props: { number: 'n:1' } },
      ]);
      const rows = await table.query({ partitionKey: 'p', rowKeyFrom: 'n:', rowKeyBefore: 'n;' });
      expect(rows.map((r) => [r.rowKey, r.props])).toEqual([
        ['n:1', { state: 'reserved', userId: 'u' }],
        ['n:2', { state: 'free' }],
      ]);
    });

    it('filters with eq, le, and, or, quoting values', async () => {
      const table = await makeTable();
      await table.transact('p', [
        { kind: 'create', rowKey: 'a', props: { state: 'reserved', until: '2026-01-01T00:00:00.000Z', who: "o'brien" } },
        { kind: 'create', rowKey: 'b', props: { state: 'reserved', until: '2026-03-01T00:00:00.000Z' } },
        { kind: 'create', rowKey: 'c', props: { state: 'free' } },
      ]);
      const where = { or: [{ eq: ['state', 'free'] as [string, string] }, { and: [{ eq: ['state', 'reserved'] as [string, string] }, { le: ['until', '2026-02-01T00:00:00.000Z'] as [string, string] }] }] };
      expect((await table.query({ partitionKey: 'p', where })).map((r) => r.rowKey)).toEqual(['a', 'c']);
      expect((await table.query({ partitionKey: 'p', where: { eq: ['who', "o'brien"] } })).map((r) => r.rowKey)).toEqual(['a']);
      expect((await table.query({ partitionKey: 'p', limit: 2 })).map((r) => r.rowKey)).toEqual(['a', 'b']);
    });

    it('refuses a string of 32,769 characters with PropertyValueTooLarge naming the property, and keeps 32,768', async () => {
      const table = await makeTable();
      await table.transact('p', [{ kind: 'create', rowKey: 'fits', props: { v: 'x'.repeat(32_768) } }]);
      const refused = await refusal(table.transact('p', [{ kind: 'create', rowKey: 'big', props: { jobTitle: 'x'.repeat(32_769) } }]));
      expect(refused).toMatchObject({ storageCode: 'PropertyValueTooLarge', property: 'jobTitle', code: 'InvalidMessage', transient: false });
      expect(await table.get('p', 'big')).toBeUndefined();
      expect((await table.get('p', 'fits'))?.props.v).toHaveLength(32_768);
    });

    it('counts a string in UTF-16 code units, as the service does', async () => {
      const table = await makeTable();
      const refused = await refusal(table.transact('p', [{ kind: 'upsert', rowKey: 'e', props: { v: '\u{1F600}'.repeat(17_000) } }]));
      expect(refused?.storageCode).toBe('PropertyValueTooLarge');
    });

    it('refuses an oversized property on replace and upsert too', async () => {
      const table = await makeTable();
      await table.transact('p', [{ kind: 'create', rowKey: 'a', props: { v: 'one' } }]);
      const row = await table.get('p', 'a');
      const big = { v: 'x'.repeat(40_000) };
      expect((await refusal(table.transact('p', [{ kind: 'replace', rowKey: 'a', props: big, etag: row?.etag ?? '' }])))?.storageCode).toBe('PropertyValueTooLarge');
      expect((await refusal(table.transact('p', [{ kind: 'upsert', rowKey: 'a', props: big }])))?.storageCode).toBe('PropertyValueTooLarge');
      expect((await table.get('p', 'a'))?.props).toEqual({ v: 'one' });
    });

    it('refuses a whole transaction when one of its entities is too large', async () => {
      const table = await makeTable();
      const refused = await refusal(
        table.transact('p', [
          { kind: 'create', rowKey: 'small', props: { v: 'ok' } },
          { kind: 'create', rowKey: 'big', props: { v: 'x'.repeat(40_000) } },
        ]),
      );
      expect(refused?.storageCode).toBe('PropertyValueTooLarge');
      expect(await table.get('p', 'small')).toBeUndefined();
    });

    it('refuses a transaction of 101 operations with InvalidInput, and takes 100', async () => {
      const table = await makeTable();
      const ops = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => ({ kind: 'create' as const, rowKey: `${prefix}${i}`, props: { v: 'v' } }));
      await table.transact('p', ops(100, 'ok'));
      expect((await refusal(table.transact('p', ops(101, 'no'))))?.storageCode).toBe('InvalidInput');
      expect(await table.get('p', 'no0')).toBeUndefined();
      expect(await table.query({ partitionKey: 'p', rowKeyFrom: 'ok', rowKeyBefore: 'ol' })).toHaveLength(100);
    });

    it('stores escaped keys with characters Table Storage forbids', async () => {
      const table = await makeTable();
      const key = escapeKey('odd/user#1?\\%');
      await table.transact(key, [{ kind: 'create', rowKey: escapeKey('+31201234567;ext=1'), props: { v: 'x' } }]);
      expect((await table.get(key, '+31201234567;ext=1'))?.props).toEqual({ v: 'x' });
      expect(unescapeKey(key)).toBe('odd/user#1?\\%');
    });
  });
}

let counter = 0;
entityTableContract('memory', async () => createMemoryTableService().table('t'));
entityTableContract('Azurite', async () => {
  const table = azureEntityTable(createTableClient({ connectionString: azurite.connectionString() }, `entities${process.pid}x${++counter}`));
  await table.ensure();
  return table;
});

describe('createTableClient', () => {
  it('refuses a table name Table Storage would reject', () => {
    expect(() => createTableClient({ connectionString: azuriteConnectionString(10002) }, 'number-history')).toThrow(
      "table name 'number-history' is not valid: letters and digits only, 3 to 63 characters, starting with a letter",
    );
  });
});

describe('memory table snapshot', () => {
  it('restores every row from a snapshot', async () => {
    const service = createMemoryTableService();
    await service.table('t').transact('p', [{ kind: 'create', rowKey: 'a', props: { v: 'one', n: 2 } }]);
    const restored = createMemoryTableService(JSON.parse(JSON.stringify(service.snapshot())));
    expect((await restored.table('t').get('p', 'a'))?.props).toEqual({ v: 'one', n: 2 });
  });
});

describe('a partition loaded by chunks (a kept sandbox state)', () => {
  const rowsOf = (from: number, to: number): [string, Props][] => Array.from({ length: to - from }, (_, i) => [`k${String(from + i).padStart(5, '0')}`, { v: from + i }]);
  /** 1,000 rows in ten chunks; `loaded` records which chunks were read. */
  function chunked(loaded: number[]): ChunkedPartition {
    return new ChunkedPartition(
      Array.from({ length: 10 }, (_, c) => ({
        first: `k${String(c * 100).padStart(5, '0')}`,
        id: `chunk-${c}`,
        load: () => {
          loaded.push(c);
          return rowsOf(c * 100, c * 100 + 100);
        },
      })),
    );
  }

  it('reads only the chunk that can hold a row, and only the chunks a limited range query reaches', async () => {
    const loaded: number[] = [];
    const table = createMemoryTableService({ t: { p: chunked(loaded) } }).table('t');
    expect((await table.get('p', 'k00450'))?.props).toEqual({ v: 450 });
    expect(await table.get('p', 'k00450x')).toBeUndefined();
    expect(loaded).toEqual([4]);
    const page = await table.query({ partitionKey: 'p', rowKeyFrom: 'k00180', limit: 30 });
    expect(page.map((r) => r.props['v'])).toEqual(Array.from({ length: 30 }, (_, i) => 180 + i));
    expect(loaded.sort()).toEqual([1, 2, 4]);
  });

  it('answers gets, ranges, filters and writes exactly as the same rows loaded whole', async () => {
    const whole = createMemoryTableService({ t: { p: Object.fromEntries(rowsOf(0, 1000)) } }).table('t');
    const lazy = createMemoryTableService({ t: { p: chunked([]) } }).table('t');
    for (const table of [whole, lazy]) {
      const row = await table.get('p', 'k00999');
      await table.transact('p', [
        { kind: 'replace', rowKey: 'k00999', props: { v: -1 }, etag: row?.etag ?? '' },
        { kind: 'create', rowKey: 'k00150a', props: { v: 150.5 } },
      ]);
      expect(await conflict(table.transact('p', [{ kind: 'create', rowKey: 'k00500', props: { v: 0 } }]))).toBe(true);
    }
    const view = async (table: EntityTable) => ({
      range: (await table.query({ partitionKey: 'p', rowKeyFrom: 'k00140', rowKeyBefore: 'k00160' })).map((r) => [r.rowKey, r.props]),
      all: (await table.query({})).map((r) => [r.rowKey, r.props]),
      last: (await table.get('p', 'k00999'))?.props,
    });
    expect(await view(lazy)).toEqual(await view(whole));
    expect((await view(lazy)).all).toHaveLength(1001);
  });

  it('hands an unchanged partition back as its chunks for storage, and a written one as rows', async () => {
    const source = chunked([]);
    const service = createMemoryTableService({ t: { kept: source, changed: chunked([]) } });
    await service.table('t').get('kept', 'k00001');
    const row = await service.table('t').get('changed', 'k00001');
    await service.table('t').transact('changed', [{ kind: 'replace', rowKey: 'k00001', props: { v: 'new' }, etag: row?.etag ?? '' }]);
    const stored = service.snapshotForStorage()['t']!;
    expect(stored['kept']).toBe(source);
    expect(stored['changed']).not.toBeInstanceOf(ChunkedPartition);
    expect((stored['changed'] as Record<string, Props>)['k00001']).toEqual({ v: 'new' });
    expect(Object.keys(stored['changed'] as Record<string, Props>)).toHaveLength(1000);
  });
});
