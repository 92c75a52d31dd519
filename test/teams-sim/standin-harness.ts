import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { TeamsSimulator } from '../../sandbox/teams-sim/index.js';

export type Line = Record<string, unknown>;

/** One pwsh stand-in driven like the worker drives pwsh: JSON lines in, JSON lines out. */
export class StandIn {
  readonly child: ChildProcessWithoutNullStreams;
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly lines: Line[] = [];
  private waiters: (() => void)[] = [];

  constructor(sim: TeamsSimulator) {
    const { command, args, env } = sim.pwshCommand;
    this.child = spawn(command, args, { env: { ...process.env, ...env }, cwd: '/' });
    let pending = '';
    this.child.stdout.on('data', (chunk: Buffer) => {
      this.stdout += chunk.toString('utf8');
      pending += chunk.toString('utf8');
      for (let i = pending.indexOf('\n'); i >= 0; i = pending.indexOf('\n')) {
        this.lines.push(JSON.parse(pending.slice(0, i)) as Line);
        pending = pending.slice(i + 1);
      }
      this.wake();
    });
    this.child.stderr.on('data', (chunk: Buffer) => (this.stderr += chunk.toString('utf8')));
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
    void this.exited.then(() => this.wake());
  }

  send(message: unknown): void {
    this.child.stdin.write(`${JSON.stringify(message)}\n`);
  }

  sendRaw(text: string): void {
    this.child.stdin.write(text);
  }

  /** The next line, or undefined once `deadlineMs` passes or the process has exited without one. */
  async next(deadlineMs = 30_000): Promise<Line | undefined> {
    const deadline = Date.now() + deadlineMs;
    for (;;) {
      const line = this.lines.shift();
      if (line !== undefined) return line;
      if (this.child.exitCode !== null || this.child.signalCode !== null || Date.now() >= deadline) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async request(message: Record<string, unknown>, deadlineMs?: number): Promise<Line | undefined> {
    this.send(message);
    return this.next(deadlineMs);
  }

  async ready(): Promise<Line> {
    // Starting Node with the tsx loader takes seconds on a loaded CI box.
    const line = await this.next(60_000);
    if (line?.type !== 'ready') throw new Error(`no ready line; stderr: ${this.stderr}`);
    return line;
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

/** Waits on a condition (never a fixed sleep); fails after `timeoutMs`. */
export async function until(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
