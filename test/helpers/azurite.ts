import { afterAll, beforeAll } from 'vitest';
import type { TableNames } from '../../shared/adapters/table-client.js';
import { type RunningAzurite, startAzurite } from '../../sandbox/azurite.js';

export interface AzuriteFixture {
  connectionString(): string;
  /** Fresh table names, so every test starts from empty tables. */
  uniqueTableNames(): TableNames;
}

let counter = 0;

/** Starts one Azurite (Table service, in memory, loopback only) for the calling test file. */
export function useAzurite(): AzuriteFixture {
  let azurite: RunningAzurite | undefined;
  beforeAll(async () => {
    // A loaded CI box can take far longer than the 20 s default to start Node and bind the port.
    azurite = await startAzurite({ inMemory: true, silent: true, startTimeoutMs: 55_000 });
  });
  afterAll(async () => {
    await azurite?.stop();
  });
  return {
    connectionString() {
      if (!azurite) throw new Error('Azurite is not running yet: call connectionString() inside a test or hook');
      return azurite.connectionString;
    },
    uniqueTableNames() {
      const suffix = `${process.pid}x${++counter}`;
      return { numbers: `numbers${suffix}`, numberHistory: `numberhistory${suffix}`, provisioning: `provisioning${suffix}` };
    },
  };
}
