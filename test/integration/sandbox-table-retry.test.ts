import { describe, expect, it } from 'vitest';
import { EntityConflict, type EntityTable } from '../../shared/adapters/entity-table.js';
import { TableServiceError } from '../../shared/adapters/memory-table-client.js';
import { Sandbox } from '../../sandbox/host/sandbox.js';
import { isRetriedByTableClient, withTableClientRetry } from '../../sandbox/table-client-retry.js';
import { inputs, tenantWith, user } from './sandbox-fixtures.js';

const U1 = '00000000-0000-4000-8000-0000000000e1';

/**
 * With this seed and rate, the first request draws a ServerBusy storm of three and the draws after
 * it do not: a Table client with the SDK's three retries gets through it on its fourth try.
 */
const STORM_OF_THREE = { seed: 12643, serverBusy: { rate: 0.5, length: 3 } };

describe('the sandbox reaches its in-memory tables through the Table client retry policy, as production reaches Table Storage', () => {
  it('gets a provisioning record through a ServerBusy storm of three 503s, which the Azure SDK client retries', async () => {
    const sandbox = await Sandbox.start(inputs({ tenant: tenantWith([user(U1, 'fay@contoso.example', 'F1')]), eventLines: [] }), { storage: 'memory' });
    try {
      sandbox.tableFaults()?.setFaults(STORM_OF_THREE);
      // Before: the twin's first 503 reached the caller ('The server is busy.'), so every Table
      // request of a stage's attempt could fail it, and a plan or record message spent its
      // transient budget on faults production's client would have retried.
      await expect(sandbox.records.get(U1)).resolves.toBeUndefined();
      expect(sandbox.tableFaults()?.faultCounts().serverBusy).toBe(3);
    } finally {
      await sandbox.stop();
    }
  }, 120_000);
});

describe('withTableClientRetry: what @azure/data-tables sends again', () => {
  const busy = () => new TableServiceError(503, 'ServerBusy', 'The server is busy.');
  const failing = (errors: unknown[]): EntityTable & { calls: number } => {
    const table = {
      name: 't',
      calls: 0,
      ensure: async () => undefined,
      get: async () => {
        table.calls += 1;
        const error = errors.shift();
        if (error) throw error;
        return undefined;
      },
      query: async () => [],
      transact: async () => undefined,
    };
    return table;
  };
  const noWait = async () => undefined;

  it('retries 408 and 5xx but 501 and 505, and an answerless RestError; never a conflict or a refusal', () => {
    expect([408, 500, 502, 503, 504].map((s) => isRetriedByTableClient(new TableServiceError(s, 'x', 'x')))).toEqual([true, true, true, true, true]);
    expect([400, 404, 409, 412, 501, 505].map((s) => isRetriedByTableClient(new TableServiceError(s, 'x', 'x')))).toEqual([false, false, false, false, false, false]);
    expect(isRetriedByTableClient(Object.assign(new Error('socket hang up'), { name: 'RestError' }))).toBe(true);
    expect(isRetriedByTableClient(new EntityConflict('changed'))).toBe(false);
    expect(isRetriedByTableClient(new Error('boom'))).toBe(false);
  });

  it('sends a request at most four times and throws the last failure', async () => {
    const table = failing([busy(), busy(), busy(), busy(), busy()]);
    await expect(withTableClientRetry(table, undefined, noWait).get('p', 'r')).rejects.toThrow('The server is busy.');
    expect(table.calls).toBe(4);
  });

  it('does not send a conflict again: the caller re-reads and decides', async () => {
    const table = failing([new EntityConflict('t/p/r changed')]);
    await expect(withTableClientRetry(table, undefined, noWait).get('p', 'r')).rejects.toBeInstanceOf(EntityConflict);
    expect(table.calls).toBe(1);
  });

  it('waits 20 ms doubling between tries', async () => {
    const waits: number[] = [];
    const table = failing([busy(), busy(), busy()]);
    await expect(withTableClientRetry(table, undefined, async (ms) => void waits.push(ms)).get('p', 'r')).resolves.toBeUndefined();
    expect(waits).toEqual([20, 40, 80]);
  });
});
