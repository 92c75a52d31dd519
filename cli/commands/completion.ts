import { Command, type Option } from 'commander';
import type { CliIo } from '../io.js';
import { examples } from '../options.js';

/** What may come next after `words` (the command line so far, without `dialtone`). Pure. */
export function completions(root: Command, words: string[]): string[] {
  let command = root;
  const rest = [...words];
  const current = rest.pop() ?? '';
  const options = (): readonly Option[] => {
    const all: Option[] = [];
    for (let c: Command | null = command; c; c = c.parent) all.push(...c.options);
    return all;
  };
  for (let i = 0; i < rest.length; i++) {
    const word = rest[i]!;
    const sub = command.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (sub) {
      command = sub;
      continue;
    }
    const option = options().find((o) => o.long === word || o.short === word);
    if (option && (option.required || option.optional)) i++; // skip its value
  }
  const previous = rest.at(-1);
  const valueOf = previous ? options().find((o) => (o.long === previous || o.short === previous) && (o.required || o.optional)) : undefined;
  if (valueOf) return (valueOf.argChoices ?? []).filter((c) => c.startsWith(current));
  if (current.startsWith('-')) {
    return options()
      .filter((o) => !o.hidden)
      .flatMap((o) => [o.long, o.short])
      .filter((f): f is string => typeof f === 'string' && f.startsWith(current));
  }
  return command.commands.filter((c) => !(c as Command & { _hidden?: boolean })._hidden).map((c) => c.name()).filter((n) => n.startsWith(current));
}

const bashScript = `# dialtone completion for bash: source <(dialtone completion bash)
_dialtone_complete() {
  local IFS=$'\\n'
  COMPREPLY=($(dialtone __complete -- "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
}
complete -o default -F _dialtone_complete dialtone
`;

const zshScript = `# dialtone completion for zsh: source <(dialtone completion zsh)
autoload -U +X bashcompinit && bashcompinit
${bashScript}`;

/** `dialtone completion bash|zsh` prints the script; the hidden `__complete` answers it. */
export function completionCommand(root: Command, io: CliIo): Command {
  const completion = examples(
    new Command('completion').description('Print a shell completion script (bash or zsh)').argument('<shell>', 'bash or zsh'),
    ['source <(dialtone completion bash)       # add it to ~/.bashrc to keep it', 'dialtone completion zsh > ~/.zsh/dialtone-completion.zsh'],
  ).action((shell: string) => {
    if (shell !== 'bash' && shell !== 'zsh') {
      completion.error(`error: completion is available for bash and zsh, not '${shell}'`, { exitCode: 2 });
    }
    io.out((shell === 'zsh' ? zshScript : bashScript).trimEnd());
  });
  const hidden = new Command('__complete')
    .argument('[words...]')
    .allowUnknownOption()
    .helpOption(false)
    .action((words: string[]) => {
      const found = completions(root, words);
      if (found.length > 0) io.out(found.join('\n'));
    });
  root.addCommand(hidden, { hidden: true });
  return completion;
}
