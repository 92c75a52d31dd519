import { TableClient } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { azuriteConnectionString, type RunningAzurite, startAzurite } from '../../sandbox/azurite.js';
import { startTableFaultProxy, type TableFaultProxy } from '../../sandbox/table-fault-proxy.js';
import { azureEntityTable, isEntityConflict } from '../../shared/adapters/table-client.js';

/**
 * The sandbox's fault proxy in front of Azurite: the real Azure adapter and SDK must meet each
 * injected fault as Table Storage answers it (status, x-ms-error-code, JSON error body), and a
 * timed-out write must be applied or not as the plan says.
 */
let azurite: RunningAzurite;
let proxy: TableFaultProxy;
let counter = 0;

beforeAll(async () => {
  azurite = await startAzurite({ inMemory: true, silent: true, startTimeoutMs: 55_000 });
  const upstream = new URL(azurite.tableEndpoint);
  proxy = await startTableFaultProxy({ host: upstream.hostname, port: Number(upstream.port) }, azuriteConnectionString);
}, 60_000);

afterAll(async () => {
  await proxy?.stop();
  await azurite?.stop();
});

/** A fresh table through the proxy (no SDK retries, so each fault reaches the test) and the same table straight on Azurite. */
async function tables() {
  const name = `proxy${process.pid}x${++counter}`;
  proxy.setFaults(undefined);
  const viaProxy = TableClient.fromConnectionString(proxy.connectionString, name, { allowInsecureConnection: true, retryOptions: { maxRetries: 0 } });
  const direct = TableClient.fromConnectionString(azurite.connectionString, name, { allowInsecureConnection: true });
  await direct.createTable();
  return { table: azureEntityTable(viaProxy), direct: azureEntityTable(direct) };
}

async function failure(promise: Promise<unknown>): Promise<{ statusCode?: number; code?: string } & Error> {
  try {
    await promise;
  } catch (error) {
    return error as { statusCode?: number; code?: string } & Error;
  }
  throw new Error('expected the request to fail');
}

describe('Table fault proxy in front of Azurite', () => {
  it('passes requests through unchanged when no fault is set', async () => {
    const { table, direct } = await tables();
    await table.transact('p', [{ kind: 'create', rowKey: 'a', props: { v: 'one' } }]);
    expect((await direct.get('p', 'a'))?.props).toEqual({ v: 'one' });
    expect((await table.query({ partitionKey: 'p' })).map((r) => r.rowKey)).toEqual(['a']);
  });

  it('answers a ServerBusy storm with 503 as the service does, and the write does not happen', async () => {
    const { table, direct } = await tables();
    const before = proxy.faultCounts().serverBusy;
    proxy.setFaults({ seed: 1, serverBusy: { rate: 1, length: 1 } });
    const error = await failure(table.transact('p', [{ kind: 'create', rowKey: 'b', props: { v: 'x' } }]));
    proxy.setFaults(undefined);
    expect(error.statusCode).toBe(503);
    expect(error.message).toContain('ServerBusy');
    expect(await direct.get('p', 'b')).toBeUndefined();
    expect(proxy.faultCounts().serverBusy).toBe(before + 1);
  });

  it('fails a conditional replace with 412 (an EntityConflict to the adapter) and leaves unconditional writes alone', async () => {
    const { table, direct } = await tables();
    await table.transact('p', [{ kind: 'create', rowKey: 'c', props: { v: 'one' } }]);
    const row = await table.get('p', 'c');
    proxy.setFaults({ seed: 1, preconditionFailed: { rate: 1, length: 1 } });
    const error = await failure(table.transact('p', [{ kind: 'replace', rowKey: 'c', etag: row!.etag, props: { v: 'two' } }]));
    await table.transact('p', [{ kind: 'upsert', rowKey: 'd', props: { v: 'free' } }]);
    proxy.setFaults(undefined);
    expect(isEntityConflict(error)).toBe(true);
    expect((await direct.get('p', 'c'))?.props).toEqual({ v: 'one' });
    expect((await direct.get('p', 'd'))?.props).toEqual({ v: 'free' });
  });

  it('fails a batch holding a conditional replace with 412, as Azurite answers it inside the multipart response (an EntityConflict), and applies none of it', async () => {
    const { table, direct } = await tables();
    await table.transact('p', [{ kind: 'create', rowKey: 'e', props: { v: 'one' } }]);
    const row = await table.get('p', 'e');
    proxy.setFaults({ seed: 1, preconditionFailed: { rate: 1, length: 1 } });
    const error = await failure(
      table.transact('p', [
        { kind: 'replace', rowKey: 'e', etag: row!.etag, props: { v: 'two' } },
        { kind: 'create', rowKey: 'f', props: { v: 'new' } },
      ]),
    );
    // A batch without a conditional write is left alone.
    await table.transact('p', [
      { kind: 'upsert', rowKey: 'g', props: { v: 'free' } },
      { kind: 'upsert', rowKey: 'h', props: { v: 'free' } },
    ]);
    proxy.setFaults(undefined);
    expect(isEntityConflict(error)).toBe(true);
    expect((await direct.get('p', 'e'))?.props).toEqual({ v: 'one' });
    expect(await direct.get('p', 'f')).toBeUndefined();
    expect((await direct.get('p', 'h'))?.props).toEqual({ v: 'free' });
    // With the storm over, the same batch with the same etag goes through.
    await table.transact('p', [
      { kind: 'replace', rowKey: 'e', etag: row!.etag, props: { v: 'two' } },
      { kind: 'create', rowKey: 'f', props: { v: 'new' } },
    ]);
    expect((await direct.get('p', 'e'))?.props).toEqual({ v: 'two' });
  });

  it('times a write out with 500 OperationTimedOut, applied or not as the plan draws', async () => {
    const { table, direct } = await tables();
    proxy.setFaults({ seed: 1, timeout: { rate: 1, delayMs: 1, appliedRate: 1 } });
    const applied = await failure(table.transact('p', [{ kind: 'create', rowKey: 'e', props: { v: 'kept' } }]));
    proxy.setFaults({ seed: 1, timeout: { rate: 1, delayMs: 1, appliedRate: 0 } });
    const lost = await failure(table.transact('p', [{ kind: 'create', rowKey: 'f', props: { v: 'lost' } }]));
    proxy.setFaults(undefined);
    expect([applied.statusCode, applied.message]).toEqual([500, expect.stringContaining('OperationTimedOut')]);
    expect([lost.statusCode, lost.message]).toEqual([500, expect.stringContaining('OperationTimedOut')]);
    expect((await direct.get('p', 'e'))?.props).toEqual({ v: 'kept' });
    expect(await direct.get('p', 'f')).toBeUndefined();
  });

  it('lets the SDK retry a short storm itself, as it does against the service', async () => {
    const name = `proxy${process.pid}x${++counter}`;
    await TableClient.fromConnectionString(azurite.connectionString, name, { allowInsecureConnection: true }).createTable();
    const retrying = azureEntityTable(
      TableClient.fromConnectionString(proxy.connectionString, name, { allowInsecureConnection: true, retryOptions: { maxRetries: 3, retryDelayInMs: 10, maxRetryDelayInMs: 50 } }),
    );
    const before = proxy.faultCounts().serverBusy;
    // Every request starts a storm of one: the first try and each retry until the SDK gives up fail.
    proxy.setFaults({ seed: 7, serverBusy: { rate: 1, length: 1 } });
    const error = await failure(retrying.get('p', 'g'));
    proxy.setFaults(undefined);
    expect(error.statusCode).toBe(503);
    expect(proxy.faultCounts().serverBusy - before).toBe(4);
    expect(await retrying.get('p', 'g')).toBeUndefined();
  });
});
