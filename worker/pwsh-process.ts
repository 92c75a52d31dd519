import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { childEnvironment } from '../shared/config/worker-settings.js';
import type { CmdletErrorInfo, ProcessFailureKind } from '../shared/domain/error-classification.js';
import { DialtoneError } from '../shared/domain/errors.js';
import type { ModuleView } from '../shared/domain/parameter-binding.js';
import type { Logger } from '../shared/ports/logger.js';
import { realTimers, type Timers } from './timers.js';

/** How to start one host: `pwsh -NoLogo -NoProfile -File host.ps1`, or the simulator's stand-in. */
export interface PwshCommand {
  command: string;
  args: string[];
  env?: Record<string, string | undefined>;
}

export interface Credentials {
  applicationId: string;
  tenantId: string;
  certificate: { pfxBase64: string; password: string | null };
}

export type CallOutcome =
  | { ok: true; result: unknown; durationMs: number }
  | { ok: false; error: CmdletErrorInfo; durationMs: number };

export interface PwshProcessOptions {
  readyTimeoutMs: number;
  logger: Logger;
  timers?: Timers;
  /**
   * What a cmdlet's or connect's deadline is measured on (default `timers`). The sandbox passes its
   * clock, on which the simulated cmdlets take their time: a deadline in real time would expire while
   * the cmdlet only waits for the sandbox to move its clock.
   */
  deadlineTimers?: Timers;
  /** Bytes of stderr kept for diagnostics. */
  stderrLimit?: number;
}

interface Pending {
  cmdlet: string;
  resolve(outcome: CallOutcome): void;
  reject(error: DialtoneError): void;
  timer: unknown;
}

let nextSerial = 0;

const ReportedParameterSchema = z.object({
  name: z.string().min(1).max(200),
  aliases: z.array(z.string().max(200)).max(50).default([]),
  sets: z.record(z.string().max(200), z.boolean()),
});
const ReportedCmdletSchema = z
  .object({ defaultParameterSet: z.string().max(200).nullish(), parameters: z.array(ReportedParameterSchema).max(500) })
  .nullable();

/** The host's ready line (docs/PWSH-PROTOCOL.md, "Start-up"); the stand-in reports no module. */
export const ReadyLineSchema = z.object({
  type: z.literal('ready'),
  protocol: z.number().int(),
  host: z.string().max(100).optional(),
  pid: z.number().int().positive().optional(),
  pwsh: z.string().max(100).optional(),
  module: z.object({ name: z.string().max(200), version: z.string().max(100) }).nullish(),
  cmdlets: z.record(z.string().max(200), ReportedCmdletSchema).optional(),
});
export type ReadyLine = z.infer<typeof ReadyLineSchema>;

/** The module as the host reported it, in the shape the binder checks commands against. */
export function reportedModule(ready: ReadyLine | undefined): ModuleView | undefined {
  if (!ready?.cmdlets) return undefined;
  const cmdlets: ModuleView['cmdlets'] = {};
  for (const [name, cmdlet] of Object.entries(ready.cmdlets)) {
    cmdlets[name] = cmdlet === null ? null : { parameters: cmdlet.parameters, ...(cmdlet.defaultParameterSet ? { defaultParameterSet: cmdlet.defaultParameterSet } : {}) };
  }
  return { moduleVersion: ready.module?.version ?? null, cmdlets };
}

/** A failure of the process rather than of a cmdlet; `kind` says which. */
export function processFailure(kind: ProcessFailureKind, message: string): DialtoneError {
  return new DialtoneError(kind === 'timeout' ? 'Timeout' : 'SessionBroken', message, { transient: true, details: { kind } });
}

export function failureKind(error: unknown): ProcessFailureKind | undefined {
  const kind = (error as { details?: { kind?: unknown } } | undefined)?.details?.kind;
  return typeof kind === 'string' ? (kind as ProcessFailureKind) : undefined;
}

/**
 * One warm pwsh host spoken to over JSON lines (docs/PWSH-PROTOCOL.md). Any failure of the
 * process — a missed deadline, an exit, a line that is not a response — marks it broken, kills it
 * and fails every pending call with SessionBroken (or Timeout for the call that hung).
 */
export class PwshProcess {
  readonly serial = ++nextSerial;
  readonly createdAt: number;
  lastUsedAt: number;
  commandsRun = 0;
  connected = false;
  broken: string | undefined;
  exited = false;
  /** What the host said at start: pwsh and module versions, the allow-listed cmdlets' parameters. */
  ready: ReadyLine | undefined;
  /** The module view commands are checked against (undefined: the host reported none). */
  module: ModuleView | undefined;
  private readonly pending = new Map<string, Pending>();
  private nextId = 0;
  private stderr = '';
  private secrets: string[] = [];
  private readonly exitWaiters: (() => void)[] = [];
  private readonly timers: Timers;
  private readonly deadlines: Timers;

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly options: PwshProcessOptions,
  ) {
    this.timers = options.timers ?? realTimers;
    this.deadlines = options.deadlineTimers ?? this.timers;
    this.createdAt = this.timers.now();
    this.lastUsedAt = this.createdAt;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get busy(): boolean {
    return this.pending.size > 0;
  }

  /** Spawns the host and resolves once it has written its ready line. */
  static start(command: PwshCommand, options: PwshProcessOptions): Promise<PwshProcess> {
    const child = spawn(command.command, command.args, {
      env: childEnvironment(command.env),
      stdio: ['pipe', 'pipe', 'pipe'],
      windowsHide: true,
      // Its own process group, so that kill() reaches whatever it started: the NuGet tool's `pwsh`
      // is a launcher whose child, the real pwsh, would otherwise outlive it (still connected).
      detached: process.platform !== 'win32',
    });
    const proc = new PwshProcess(child, options);
    return proc.waitReady();
  }

  private waitReady(): Promise<PwshProcess> {
    const timers = this.timers;
    return new Promise((resolve, reject) => {
      let ready = false;
      const fail = (error: DialtoneError): void => {
        if (ready) return;
        ready = true;
        timers.clearTimeout(timer);
        this.kill();
        reject(error);
      };
      const timer = timers.setTimeout(
        () => fail(processFailure('timeout', `pwsh did not report ready within ${this.options.readyTimeoutMs} ms`)),
        this.options.readyTimeoutMs,
      );
      const lines = createInterface({ input: this.child.stdout });
      lines.on('line', (line) => {
        if (!ready) {
          const parsed = parseLine(line);
          if (parsed?.type !== 'ready') return;
          const report = ReadyLineSchema.safeParse(parsed);
          if (!report.success) {
            fail(processFailure('protocol', `pwsh wrote a ready line that does not follow the protocol: ${report.error.issues[0]?.message ?? 'invalid'}`));
            return;
          }
          this.ready = report.data;
          this.module = reportedModule(report.data);
          ready = true;
          timers.clearTimeout(timer);
          resolve(this);
          return;
        }
        this.onLine(line);
      });
      this.child.stderr.on('data', (chunk: Buffer) => this.captureStderr(chunk));
      this.child.stdin.on('error', () => this.markBroken('crash', 'pwsh stdin closed'));
      this.child.on('error', (error) => {
        this.markBroken('spawn', `pwsh could not be started: ${error.message}`);
        fail(processFailure('spawn', `pwsh could not be started (${this.describeCommand()}): ${error.message}`));
      });
      this.child.on('exit', (code, signal) => {
        this.exited = true;
        const reason = `pwsh exited (code ${code ?? 'none'}, signal ${signal ?? 'none'})`;
        this.markBroken('exit', reason);
        fail(processFailure('exit', `${reason} before it was ready; stderr ${this.stderr.length} bytes: ${this.stderrTail()}`));
        for (const waiter of this.exitWaiters.splice(0)) waiter();
      });
    });
  }

  /** Runs one allow-listed cmdlet; a cmdlet error resolves, a process failure rejects. */
  call(cmdlet: string, parameters: Record<string, unknown>, options: { timeoutMs: number }): Promise<CallOutcome> {
    return this.send({ cmdlet, parameters }, options.timeoutMs);
  }

  /** Connect-MicrosoftTeams with the certificate in its own field, never among the parameters. */
  async connect(credentials: Credentials, options: { timeoutMs: number }): Promise<CallOutcome> {
    const { pfxBase64, password } = credentials.certificate;
    this.secrets = [pfxBase64, ...(password ? [password] : [])];
    const outcome = await this.send(
      {
        cmdlet: 'Connect-MicrosoftTeams',
        parameters: { ApplicationId: credentials.applicationId, TenantId: credentials.tenantId },
        certificate: { pfxBase64, password },
      },
      options.timeoutMs,
    );
    this.connected = outcome.ok;
    return outcome;
  }

  private send(request: { cmdlet: string; parameters: Record<string, unknown>; certificate?: unknown }, timeoutMs: number): Promise<CallOutcome> {
    if (this.broken) return Promise.reject(processFailure('crash', `session is broken: ${this.broken}`));
    const id = String(++this.nextId);
    this.lastUsedAt = this.timers.now();
    return new Promise<CallOutcome>((resolve, reject) => {
      const timer = this.deadlines.setTimeout(() => {
        this.pending.delete(id);
        reject(processFailure('timeout', `${request.cmdlet} did not answer within ${timeoutMs} ms`));
        this.markBroken('timeout', `${request.cmdlet} timed out`);
      }, timeoutMs);
      this.pending.set(id, { cmdlet: request.cmdlet, resolve, reject, timer });
      this.child.stdin.write(`${JSON.stringify({ id, ...request })}\n`, (error) => {
        if (error) this.markBroken('crash', `writing to pwsh failed: ${error.message}`);
      });
    });
  }

  private onLine(line: string): void {
    const parsed = parseLine(line);
    const id = typeof parsed?.id === 'string' ? parsed.id : undefined;
    const pending = id === undefined ? undefined : this.pending.get(id);
    if (!parsed || id === undefined || !pending) {
      this.markBroken('protocol', `pwsh wrote a line that is not a response to a pending request (${line.length} characters)`);
      return;
    }
    this.pending.delete(id);
    this.deadlines.clearTimeout(pending.timer);
    this.commandsRun += 1;
    this.lastUsedAt = this.timers.now();
    const durationMs = typeof parsed.durationMs === 'number' ? parsed.durationMs : 0;
    if (parsed.ok === true) {
      pending.resolve({ ok: true, result: parsed.result ?? null, durationMs });
      return;
    }
    const error = (parsed.error ?? {}) as Record<string, unknown>;
    pending.resolve({
      ok: false,
      durationMs,
      error: {
        type: typeof error.type === 'string' ? error.type : null,
        message: this.scrub(typeof error.message === 'string' ? error.message : 'pwsh reported an error without a message'),
        cmdlet: pending.cmdlet,
        category: typeof error.category === 'string' ? error.category : null,
        fullyQualifiedErrorId: typeof error.fullyQualifiedErrorId === 'string' ? error.fullyQualifiedErrorId : null,
      },
    });
  }

  /** Broken is final: the process is killed and every pending call fails. */
  markBroken(kind: ProcessFailureKind, reason: string): void {
    const first = this.broken === undefined;
    if (first) this.broken = reason;
    for (const [id, pending] of this.pending) {
      this.pending.delete(id);
      this.deadlines.clearTimeout(pending.timer);
      pending.reject(processFailure(kind === 'timeout' ? 'crash' : kind, `${pending.cmdlet} lost its session: ${reason}`));
    }
    if (!first) return;
    this.options.logger.warn('pwsh session broken', {
      session: this.serial,
      pid: this.pid,
      reason,
      stderrBytes: this.stderr.length,
      stderrTail: this.stderrTail(),
    });
    this.kill();
  }

  /** Sends Exit (Disconnect-MicrosoftTeams in the host) and kills the process after the grace period. */
  async exit(graceMs: number): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.exitWaiters.push(resolve));
    if (!this.broken) {
      this.broken = 'retired';
      this.child.stdin.write(`${JSON.stringify({ id: String(++this.nextId), cmdlet: 'Exit', parameters: {} })}\n`, () => undefined);
      this.child.stdin.end();
    }
    const timer = this.timers.setTimeout(() => this.kill(), graceMs);
    await exited;
    this.timers.clearTimeout(timer);
  }

  /** Kills the host and everything it started (its process group on Linux and macOS). */
  kill(): void {
    const pid = this.child.pid;
    // Even after the leader exited, a child it left behind keeps the group alive.
    if (process.platform !== 'win32' && pid !== undefined) {
      try {
        process.kill(-pid, 'SIGKILL');
        return;
      } catch {
        // The group is gone already, or was never made: fall back to the process itself.
      }
    }
    if (!this.exited) this.child.kill('SIGKILL');
  }

  /** Resolves once the process has gone (killed or exited). */
  waitExit(): Promise<void> {
    if (this.exited) return Promise.resolve();
    return new Promise((resolve) => this.exitWaiters.push(resolve));
  }

  /** The last stderr characters with anything secret-looking removed: safe for a log line. */
  stderrTail(max = 300): string {
    return this.scrub(this.stderr.slice(-max)).replace(/[A-Za-z0-9+/=]{40,}/g, '[redacted]');
  }

  private scrub(text: string): string {
    let out = text;
    for (const secret of this.secrets) if (secret.length > 0) out = out.split(secret).join('[redacted]');
    return out;
  }

  private captureStderr(chunk: Buffer): void {
    const limit = this.options.stderrLimit ?? 16_384;
    this.stderr = (this.stderr + chunk.toString('utf8')).slice(-limit);
  }

  private describeCommand(): string {
    return this.child.spawnfile;
  }
}

function parseLine(line: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(line) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
