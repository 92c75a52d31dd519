/**
 * Limits Azure Table Storage documents and enforces but Azurite does not (Azurite 3 accepts a
 * 2.4 MB entity, 253 properties and a 256-character property name): the twin follows Azure.
 * The limits both enforce are in the shared contract of entity-table.test.ts, run on Azurite.
 * Then the seeded faults for chaos runs, and how a refusal is classified.
 */
import { describe, expect, it } from 'vitest';
import { createMemoryTableService, TableServiceError, type TableFaults } from '../../shared/adapters/memory-table-client.js';
import { entityBytes, isTableRefused, TableRefused } from '../../shared/adapters/table-limits.js';
import { isEntityConflict, type EntityTable } from '../../shared/adapters/table-client.js';
import { outcomeOfError } from '../../shared/handlers/stage-runner.js';

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return error;
  }
}

describe('the Table twin refuses what Azure refuses and Azurite lets through', () => {
  const table = () => createMemoryTableService().table('t');

  it('refuses an entity over 1 MiB with EntityTooLarge, naming its largest property', async () => {
    const props = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`p${i}`, 'y'.repeat(i === 3 ? 32_000 : 31_000)]));
    expect(entityBytes('p', 'big', props)).toBeGreaterThan(1024 * 1024);
    const error = await failure(table().transact('p', [{ kind: 'create', rowKey: 'big', props }]));
    expect(error).toMatchObject({ storageCode: 'EntityTooLarge', property: 'p3', statusCode: 400 });
  });

  it('takes an entity just under 1 MiB', async () => {
    const t = table();
    const props = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`p${i}`, 'y'.repeat(32_000)]));
    expect(entityBytes('p', 'fits', props)).toBeLessThan(1024 * 1024);
    await t.transact('p', [{ kind: 'create', rowKey: 'fits', props }]);
    expect(await t.get('p', 'fits')).toBeDefined();
  });

  it('refuses 253 properties with TooManyProperties', async () => {
    const props = Object.fromEntries(Array.from({ length: 253 }, (_, i) => [`q${i}`, 'z']));
    expect(await failure(table().transact('p', [{ kind: 'create', rowKey: 'r', props }]))).toMatchObject({ storageCode: 'TooManyProperties' });
  });

  it('refuses a 256-character property name with PropertyNameTooLong', async () => {
    expect(await failure(table().transact('p', [{ kind: 'create', rowKey: 'r', props: { ['n'.repeat(256)]: 'v' } }]))).toMatchObject({
      storageCode: 'PropertyNameTooLong',
    });
  });

  it('refuses a transaction that names one row twice with InvalidDuplicateRow', async () => {
    const error = await failure(
      table().transact('p', [
        { kind: 'create', rowKey: 'a', props: { v: '1' } },
        { kind: 'upsert', rowKey: 'a', props: { v: '2' } },
      ]),
    );
    expect(error).toMatchObject({ storageCode: 'InvalidDuplicateRow' });
  });
});

describe('a refusal is permanent', () => {
  it('classifies PropertyValueTooLarge as a permanent InvalidMessage naming the property, never a transient retry', async () => {
    const error = await failure(createMemoryTableService().table('records').transact('u1', [{ kind: 'upsert', rowKey: 'r', props: { person: 'x'.repeat(40_000) } }]));
    expect(isTableRefused(error)).toBe(true);
    expect(outcomeOfError(error)).toEqual({
      kind: 'permanent',
      code: 'InvalidMessage',
      message: expect.stringContaining("PropertyValueTooLarge: property 'person' holds 40000 characters"),
    });
  });

  it('classifies every refusal code as permanent, and an injected 503 or timeout as transient', () => {
    expect(outcomeOfError(new TableRefused('InvalidInput', 'x')).kind).toBe('permanent');
    expect(outcomeOfError(new TableRefused('EntityTooLarge', 'x')).kind).toBe('permanent');
    expect(outcomeOfError(new TableServiceError(503, 'ServerBusy', 'The server is busy.')).kind).toBe('transient');
    expect(outcomeOfError(new TableServiceError(500, 'OperationTimedOut', 'timed out')).kind).toBe('transient');
  });
});

describe('seeded Table faults for chaos runs', () => {
  async function outcomes(faults: TableFaults, n = 40): Promise<string[]> {
    const service = createMemoryTableService({}, { faults });
    const t = service.table('t');
    const out: string[] = [];
    for (let i = 0; i < n; i++) {
      const error = await failure(t.transact('p', [{ kind: 'upsert', rowKey: `r${i}`, props: { v: i } }]));
      out.push(error === undefined ? 'ok' : `${(error as { statusCode?: number }).statusCode ?? (isEntityConflict(error) ? 412 : '?')}`);
    }
    return out;
  }

  it('repeats the same faults for the same seed and others for another', async () => {
    const faults = { seed: 42, serverBusy: { rate: 0.2, length: 3 } };
    expect(await outcomes(faults)).toEqual(await outcomes(faults));
    expect(await outcomes(faults)).not.toEqual(await outcomes({ ...faults, seed: 43 }));
  });

  it('fails requests with 503 ServerBusy in storms of the given length', async () => {
    const got = await outcomes({ seed: 7, serverBusy: { rate: 0.1, length: 4 } }, 200);
    const runs = got.join(',').split(/ok,?/).filter((run) => run.length > 0).map((run) => run.split(',').filter(Boolean).length);
    expect(runs.length).toBeGreaterThan(0);
    expect(runs.every((length) => length % 4 === 0)).toBe(true);
    const service = createMemoryTableService({}, { faults: { seed: 7, serverBusy: { rate: 1 } } });
    expect(await failure(service.table('t').get('p', 'r'))).toMatchObject({ name: 'RestError', statusCode: 503, code: 'ServerBusy' });
    expect(service.faultCounts().serverBusy).toBe(1);
  });

  it('fails conditional writes with 412 (EntityConflict) in a storm, and only those', async () => {
    const service = createMemoryTableService({}, { faults: { seed: 1, preconditionFailed: { rate: 1, length: 2 } } });
    const t: EntityTable = service.table('t');
    await t.transact('p', [{ kind: 'create', rowKey: 'a', props: { v: 1 } }]);
    const row = await t.get('p', 'a');
    const replace = () => t.transact('p', [{ kind: 'replace', rowKey: 'a', props: { v: 2 }, etag: row?.etag ?? '' }]);
    expect(isEntityConflict(await failure(replace()))).toBe(true);
    expect(isEntityConflict(await failure(replace()))).toBe(true);
    expect(service.faultCounts().preconditionFailed).toBe(2);
  });

  it('times out a write that was not applied, and one that was (the answer was lost)', async () => {
    const lost = createMemoryTableService({}, { faults: { seed: 3, timeout: { rate: 1, appliedRate: 0 } } });
    expect(await failure(lost.table('t').transact('p', [{ kind: 'upsert', rowKey: 'a', props: { v: 1 } }]))).toMatchObject({ code: 'OperationTimedOut', statusCode: 500 });
    lost.setFaults(undefined);
    expect(await lost.table('t').get('p', 'a')).toBeUndefined();

    const applied = createMemoryTableService({}, { faults: { seed: 3, timeout: { rate: 1, appliedRate: 1 } } });
    expect(await failure(applied.table('t').transact('p', [{ kind: 'upsert', rowKey: 'a', props: { v: 1 } }]))).toMatchObject({ code: 'OperationTimedOut' });
    applied.setFaults(undefined);
    expect((await applied.table('t').get('p', 'a'))?.props).toEqual({ v: 1 });
    expect(applied.faultCounts()).toMatchObject({ timeout: 1, timeoutApplied: 1 });
  });

  it('checks the limits before any fault: an oversized write is refused, not retried into a storm', async () => {
    const service = createMemoryTableService({}, { faults: { seed: 1, serverBusy: { rate: 1 } } });
    expect(await failure(service.table('t').transact('p', [{ kind: 'create', rowKey: 'a', props: { v: 'x'.repeat(40_000) } }]))).toMatchObject({
      storageCode: 'PropertyValueTooLarge',
    });
  });
});
