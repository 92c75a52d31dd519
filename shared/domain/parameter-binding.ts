/**
 * PowerShell's named-parameter binding, reduced to what decides whether a command binds: names
 * and aliases (case-insensitive), parameter sets that cannot be mixed, the default set, and the
 * mandatory parameters of the chosen set. Pure. The Teams stand-in binds requests with it (over
 * shared/teams/module-cmdlets.json) and the worker checks each command against what the installed
 * module reported at ready, so a command that would not bind is refused before any write.
 */

/** '*' in `sets` means every parameter set of the cmdlet (PowerShell's __AllParameterSets). */
export const ALL_SETS = '*';

export interface ModuleParameter {
  name: string;
  aliases: string[];
  /** Parameter set → mandatory in that set. */
  sets: Record<string, boolean>;
}

export interface ModuleCmdlet {
  parameters: ModuleParameter[];
  defaultParameterSet?: string;
}

/** What a module offers: the host's ready report, or a naming of module-cmdlets.json. */
export interface ModuleView {
  moduleVersion: string | null;
  cmdlets: Record<string, ModuleCmdlet | null>;
}

export type BindingError =
  | { error: 'NamedParameterNotFound'; parameter: string }
  | { error: 'ParameterAlreadyBound'; parameter: string }
  | { error: 'AmbiguousParameterSet' }
  | { error: 'MissingMandatoryParameter'; missing: string[] };

export type Binding = { ok: true; parameterSet: string; bound: Map<string, string> } | ({ ok: false } & BindingError);

const IMPLICIT_SET = '__AllParameterSets';

export function findParameter(cmdlet: ModuleCmdlet, key: string): ModuleParameter | undefined {
  const lower = key.toLowerCase();
  return cmdlet.parameters.find((p) => p.name.toLowerCase() === lower || p.aliases.some((a) => a.toLowerCase() === lower));
}

function setNames(cmdlet: ModuleCmdlet): string[] {
  const names = new Set<string>();
  for (const p of cmdlet.parameters) for (const set of Object.keys(p.sets)) if (set !== ALL_SETS) names.add(set);
  if (cmdlet.defaultParameterSet) names.add(cmdlet.defaultParameterSet);
  return names.size === 0 ? [IMPLICIT_SET] : [...names];
}

function inSet(p: ModuleParameter, set: string): boolean {
  return ALL_SETS in p.sets || set in p.sets;
}

function mandatoryIn(p: ModuleParameter, set: string): boolean {
  return p.sets[set] ?? p.sets[ALL_SETS] ?? false;
}

/**
 * Binds request keys as PowerShell binds named parameters. `bound` maps each key to the
 * parameter's name. Errors carry what PowerShell's FullyQualifiedErrorId names.
 */
export function bindParameterNames(cmdlet: ModuleCmdlet, keys: readonly string[]): Binding {
  const bound = new Map<string, string>();
  const seen = new Set<string>();
  let unknown: string | undefined;
  let candidates = setNames(cmdlet);
  for (const key of keys) {
    const parameter = findParameter(cmdlet, key);
    if (parameter === undefined) {
      unknown ??= key;
      continue;
    }
    if (seen.has(parameter.name)) return { ok: false, error: 'ParameterAlreadyBound', parameter: key };
    seen.add(parameter.name);
    bound.set(key, parameter.name);
    candidates = candidates.filter((set) => inSet(parameter, set));
  }
  if (candidates.length === 0) return { ok: false, error: 'AmbiguousParameterSet' };
  const missingIn = (set: string): string[] => cmdlet.parameters.filter((p) => inSet(p, set) && mandatoryIn(p, set) && !seen.has(p.name)).map((p) => p.name);
  let chosen: string | undefined;
  if (candidates.length === 1) chosen = candidates[0];
  else {
    const complete = candidates.filter((set) => missingIn(set).length === 0);
    const fallback = cmdlet.defaultParameterSet;
    if (fallback !== undefined && candidates.includes(fallback) && (complete.length === 0 || complete.includes(fallback))) chosen = fallback;
    else if (complete.length === 1) chosen = complete[0];
  }
  // As PowerShell: an unknown name is reported once the set is known; before that the set is the error.
  if (chosen === undefined) return { ok: false, error: 'AmbiguousParameterSet' };
  if (unknown !== undefined) return { ok: false, error: 'NamedParameterNotFound', parameter: unknown };
  const missing = missingIn(chosen);
  if (missing.length > 0) return { ok: false, error: 'MissingMandatoryParameter', missing };
  return { ok: true, parameterSet: chosen, bound };
}
