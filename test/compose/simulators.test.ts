import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';

/** A port free right now on 127.0.0.1. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let child: ChildProcess | undefined;
afterEach(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child?.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
  child = undefined;
});

describe('compose/simulators.ts: the tenant the containers use', () => {
  it('serves the Graph simulator on the configured port, with paging links at the public URL, refusing a request without a token', { timeout: 240_000 }, async () => {
    const [graphPort, teamsPort] = [await freePort(), await freePort()];
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    const publicUrl = 'http://simulators:8080/v1.0';
    let output = '';
    child = spawn(process.execPath, ['--import', tsx, 'compose/simulators.ts', 'sandbox/data/tenant.json'], {
      env: { ...process.env, DIALTONE_SIM_GRAPH_PORT: String(graphPort), DIALTONE_SIM_TEAMS_PORT: String(teamsPort), DIALTONE_SIM_GRAPH_PUBLIC_URL: publicUrl },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await vi.waitFor(() => expect(output).toContain('simulators: Graph at'), { timeout: 180_000, interval: 100 });
    expect(output).toContain(`Graph at ${publicUrl}`);

    const base = `http://127.0.0.1:${graphPort}/v1.0`;
    expect((await fetch(`${base}/users`)).status).toBe(401);
    const page = (await (await fetch(`${base}/users?$top=1`, { headers: { authorization: 'Bearer dialtone-graph-simulator' } })).json()) as {
      value: unknown[];
      '@odata.nextLink'?: string;
    };
    expect(page.value).toHaveLength(1);
    expect(page['@odata.nextLink']?.startsWith(`${publicUrl}/users?`)).toBe(true);
    // The Teams simulator's server answers on its port (a session the stand-in would attach to).
    const teams = await fetch(`http://127.0.0.1:${teamsPort}/nothing-here`, { method: 'POST' });
    expect(teams.status).toBeGreaterThanOrEqual(400);
  });
});
