import { describe, expect, it } from 'vitest';
import { azuriteConnectionString, canConnect as connects, isAzuriteAvailable, startAzurite } from '../../sandbox/azurite.js';


const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('startAzurite', () => {
  it('finds the azurite package', async () => {
    expect(await isAzuriteAvailable()).toBe(true);
  });

  it('builds the devstore connection string for a custom port', () => {
    expect(azuriteConnectionString(49152)).toBe(
      'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;TableEndpoint=http://127.0.0.1:49152/devstoreaccount1;',
    );
  });

  it('listens on a loopback port once started and stops listening when stopped', async () => {
    // Starting Node and binding the port takes far longer than usual on a loaded CI box.
    const azurite = await startAzurite({ startTimeoutMs: 90_000 });
    const port = Number(new URL(azurite.tableEndpoint).port);
    expect(azurite.tableEndpoint).toBe(`http://127.0.0.1:${port}/devstoreaccount1`);
    expect(await connects(port)).toBe(true);
    await azurite.stop();
    // Its process is gone (not a check of the port alone: another test file's Azurite, started in
    // parallel, may be handed the freed port at once).
    expect(azurite.pid).toBeGreaterThan(0);
    expect(alive(azurite.pid!)).toBe(false);
  }, 180_000);
});
