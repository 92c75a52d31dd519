import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { UsageError } from './errors.js';
import type { CliIo } from './io.js';
import { Output, type OutputFormat } from './output.js';
import { startProgress, type Progress } from './progress.js';
import type { SandboxSession } from './sandbox-session.js';

/** The global options every command has (see cli/output.ts for what they mean). */
export interface GlobalOptions {
  output?: OutputFormat;
  json?: boolean;
  sandbox?: string;
}

/**
 * What a command's action needs besides its own options: the output in the chosen format, the
 * clock (the sandbox's own clock under `--sandbox DIR`), progress, commit-before-print and
 * confirmation of destructive work.
 */
export class CliContext {
  private out: Output | undefined;

  constructor(
    readonly io: CliIo,
    private readonly root: Command,
    private readonly session: () => SandboxSession | undefined,
    private readonly realNow: () => Date = () => new Date(),
    private readonly stdinIsTTY: () => boolean = () => process.stdin.isTTY === true,
  ) {}

  get globals(): GlobalOptions {
    return this.root.opts<GlobalOptions>();
  }

  get format(): OutputFormat {
    const g = this.globals;
    return g.json ? 'json' : (g.output ?? 'table');
  }

  output(): Output {
    this.out ??= new Output(this.io, this.format);
    return this.out;
  }

  /** The sandbox named by --sandbox, if any. */
  sandbox(): SandboxSession | undefined {
    return this.session();
  }

  /** Now: on the sandbox's simulated clock under --sandbox, the real clock otherwise. */
  async now(): Promise<Date> {
    const session = this.session();
    return session ? session.now() : this.realNow();
  }

  /** Makes the command's changes durable. Call it before printing the result. */
  async commit(): Promise<void> {
    await this.session()?.save();
  }

  progress(label: string): Promise<Progress> {
    return startProgress(this.io, label);
  }

  /**
   * Asks before destructive work. `--yes` answers for the operator; without it a terminal is
   * asked, and anything else (a script, a pipe, CI) is refused with a usage error.
   */
  async confirm(question: string, yes: boolean | undefined): Promise<boolean> {
    if (yes) return true;
    if (!this.stdinIsTTY() || !this.io.stderrIsTTY) {
      throw new UsageError(`${question.replace(/\?$/, '')}: not a terminal, so nobody can be asked; add --yes to do it.`);
    }
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      const answer = await rl.question(`${question} [y/N] `);
      return /^y(es)?$/i.test(answer.trim());
    } finally {
      rl.close();
    }
  }
}
