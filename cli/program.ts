import { Command } from 'commander';
import type { CliIo } from './io.js';
import { sandboxCommand } from './commands/sandbox.js';

/** The `dialtone` command tree. */
export function buildProgram(io: CliIo): Command {
  const program = new Command('dialtone')
    .description('Provision Microsoft Teams Phone (Direct Routing) from HR and Entra ID events')
    .showHelpAfterError();
  program.addCommand(sandboxCommand(io));
  return program;
}
