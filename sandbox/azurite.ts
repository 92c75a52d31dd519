import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import net from 'node:net';

/** The storage emulator's published development account key (not a secret). */
export const DEVSTORE_ACCOUNT = 'devstoreaccount1';
export const DEVSTORE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface AzuriteOptions {
  /** Keep tables in memory only (default true); otherwise they persist under `location`. */
  inMemory?: boolean;
  /** Where to persist when not in memory (default: the working directory). */
  location?: string;
  /** Do not forward Azurite's access log to this process's output (default true). */
  silent?: boolean;
  /** How long to wait for the server to accept connections (default 20 s). */
  startTimeoutMs?: number;
}

export interface RunningAzurite {
  tableEndpoint: string;
  /** The Azurite process (undefined only if it could not be spawned). */
  pid?: number | undefined;
  connectionString: string;
  stop(): Promise<void>;
}

const require = createRequire(import.meta.url);

function tableMainPath(): string | undefined {
  try {
    return require.resolve('azurite/dist/src/table/main.js');
  } catch {
    return undefined;
  }
}

/** Whether the azurite npm package can be started from this installation. */
export async function isAzuriteAvailable(): Promise<boolean> {
  return tableMainPath() !== undefined;
}

export function azuriteConnectionString(port: number): string {
  return `DefaultEndpointsProtocol=http;AccountName=${DEVSTORE_ACCOUNT};AccountKey=${DEVSTORE_KEY};TableEndpoint=http://127.0.0.1:${port}/${DEVSTORE_ACCOUNT};`;
}

/** Starts Azurite's Table service on a free loopback port and resolves once it accepts connections. */
export async function startAzurite(options: AzuriteOptions = {}): Promise<RunningAzurite> {
  const main = tableMainPath();
  if (!main) throw new Error('The azurite package is not installed; run `npm ci` (it is a dev dependency) or use in-memory storage.');
  const port = await freePort();
  const args = [main, '--tableHost', '127.0.0.1', '--tablePort', String(port), '--disableTelemetry', '--skipApiVersionCheck', '--loose'];
  if (options.inMemory ?? true) args.push('--inMemoryPersistence');
  else args.push('--location', options.location ?? process.cwd());
  if (options.silent ?? true) args.push('--silent');

  const child = spawn(process.execPath, args, { stdio: ['ignore', options.silent ?? true ? 'ignore' : 'inherit', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  try {
    await waitUntilListening(child, port, options.startTimeoutMs ?? 60_000, () => stderr);
  } catch (error) {
    await stopChild(child);
    throw error;
  }
  const tableEndpoint = `http://127.0.0.1:${port}/${DEVSTORE_ACCOUNT}`;
  return { tableEndpoint, connectionString: azuriteConnectionString(port), pid: child.pid, stop: () => stopChild(child) };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('could not find a free port'))));
    });
  });
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function waitUntilListening(child: ChildProcess, port: number, timeoutMs: number, stderr: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited: number | null | undefined;
  child.once('exit', (code) => {
    exited = code;
  });
  while (Date.now() < deadline) {
    if (exited !== undefined) throw new Error(`Azurite exited with code ${exited} before listening on port ${port}: ${stderr().trim()}`);
    if (await canConnect(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`Azurite did not listen on 127.0.0.1:${port} within ${timeoutMs} ms: ${stderr().trim()}`);
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(killer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
