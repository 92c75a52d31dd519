/**
 * A stand-in for `pwsh` running worker/pwsh/host.ps1: speaks docs/PWSH-PROTOCOL.md on
 * stdin/stdout and forwards each request to the Teams simulator's server (DIALTONE_TEAMS_SIM_URL),
 * which owns the one shared tenant. Each process is its own Teams session. It imports nothing
 * heavy so that a pool of them starts fast, and it never writes a request back out: the connect
 * request carries the certificate.
 */
import { randomUUID } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import { createInterface } from 'node:readline';
import { CRASH_EXIT_CODE, SIM_URL_ENV, type InvokeAction, type InvokeBody, type WireError } from './wire.js';

const baseUrl = process.env[SIM_URL_ENV];
if (!baseUrl) {
  process.stderr.write(`${SIM_URL_ENV} is not set: start the stand-in through the Teams simulator's pwshCommand\n`);
  process.exit(2);
}

// host.ps1's `-Scope Worker|TenantSetup` (default Worker), validated as its ValidateSet would.
const scopeAt = process.argv.findIndex((a) => a.toLowerCase() === '-scope');
const scopeArg = scopeAt === -1 ? 'Worker' : process.argv[scopeAt + 1];
if (scopeArg !== 'Worker' && scopeArg !== 'TenantSetup') {
  process.stderr.write(`Cannot validate argument on parameter 'Scope'. The argument "${scopeArg ?? ''}" does not belong to the set "Worker,TenantSetup".\n`);
  process.exit(1);
}
const scope: 'Worker' | 'TenantSetup' = scopeArg;

const sessionId = randomUUID();
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
let hung = false;
let exiting = false;
let queue: Promise<void> = Promise.resolve();

function writeLine(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

function exitWhenFlushed(code: number): void {
  exiting = true;
  process.stdout.write('', () => process.exit(code));
}

function protocolError(id: string | null, message: string): void {
  const error: WireError = { type: 'Dialtone.ProtocolError', message };
  writeLine({ id, ok: false, error });
}

function post(path: string, body: InvokeBody): Promise<InvokeAction> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${baseUrl}${path}`,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) return reject(new Error(`simulator answered ${res.statusCode}: ${text}`));
          resolve(JSON.parse(text) as InvokeAction);
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** Validates one line as the real host does, without ever echoing its content (it may hold the certificate). */
function parseLine(line: string): { id: string; body: InvokeBody } | undefined {
  let message: unknown;
  try {
    message = JSON.parse(line);
  } catch {
    protocolError(null, 'The request line is not valid JSON.');
    return undefined;
  }
  const m = message as { id?: unknown; cmdlet?: unknown; parameters?: unknown; certificate?: unknown } | null;
  if (typeof m !== 'object' || m === null || Array.isArray(m) || typeof m.id !== 'string' || m.id === '' || typeof m.cmdlet !== 'string' || m.cmdlet === '') {
    protocolError(null, 'A request must be a JSON object with a string "id" and a string "cmdlet".');
    return undefined;
  }
  if (m.parameters !== undefined && (typeof m.parameters !== 'object' || m.parameters === null || Array.isArray(m.parameters))) {
    protocolError(m.id, '"parameters" must be a JSON object.');
    return undefined;
  }
  const body: InvokeBody = { cmdlet: m.cmdlet, parameters: (m.parameters as Record<string, unknown> | undefined) ?? {}, scope };
  if (m.certificate !== undefined) body.certificate = m.certificate;
  return { id: m.id, body };
}

async function handle(line: string): Promise<void> {
  if (hung || exiting || line.trim() === '') return;
  const parsed = parseLine(line);
  if (parsed === undefined) return;
  const started = performance.now();
  let action: InvokeAction;
  try {
    action = await post(`/sessions/${sessionId}/invoke`, parsed.body);
  } catch (error) {
    process.stderr.write(`teams simulator unreachable: ${(error as Error).message}\n`);
    return exitWhenFlushed(1);
  }
  const durationMs = Math.round(performance.now() - started);
  switch (action.action) {
    case 'respond':
      writeLine(action.ok ? { id: parsed.id, ok: true, result: action.result ?? null, durationMs } : { id: parsed.id, ok: false, durationMs, error: action.error });
      if (parsed.body.cmdlet.toLowerCase() === 'exit') exitWhenFlushed(0);
      return;
    case 'crash':
      process.stderr.write('Unhandled exception: the PowerShell host terminated unexpectedly (simulated crash).\n');
      process.exit(action.exitCode || CRASH_EXIT_CODE);
      return;
    case 'hang':
      hung = true;
      return;
    case 'drop':
      exiting = true;
      process.stdout.end(() => process.exit(0));
      return;
  }
}

function attach(): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${baseUrl}/sessions/${sessionId}/attach`, { method: 'GET' }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`attach answered ${res.statusCode}`));
      res.on('data', () => undefined);
      res.on('close', () => {
        if (exiting) return;
        process.stderr.write('teams simulator closed the session\n');
        process.exit(1);
      });
      resolve();
    });
    req.on('error', reject);
    req.end();
  });
}

try {
  await attach();
} catch (error) {
  process.stderr.write(`cannot reach the teams simulator at ${baseUrl}: ${(error as Error).message}\n`);
  process.exit(1);
}

writeLine({ type: 'ready', protocol: 1, host: 'dialtone-pwsh', pid: process.pid, simulator: true });

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on('line', (line) => {
  queue = queue.then(() => handle(line));
});
lines.on('close', () => {
  if (hung) return exitWhenFlushed(0);
  queue = queue.then(() => exitWhenFlushed(0));
});
