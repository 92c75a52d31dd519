import { bindParameterNames, findParameter, type ModuleCmdlet, type ModuleView } from '../shared/domain/parameter-binding.js';
import { definitionOf, spellings, supportedModuleVersions } from '../shared/teams/module-cmdlets.js';

export type Adapted = { ok: true; parameters: Record<string, unknown> } | { ok: false; parameter: string | null; message: string };

/**
 * Maps a command's canonical parameters (any spelling shared/teams/module-cmdlets.json knows:
 * current name, alias, old name) onto the names the installed module reported at ready, and checks
 * that the result binds (one parameter set, its mandatory parameters present). A host that
 * reported no module (the sandbox stand-in) gets the parameters unchanged.
 */
export function adaptToModule(module: ModuleView | undefined, cmdlet: string, parameters: Record<string, unknown>): Adapted {
  if (module === undefined) return { ok: true, parameters };
  const where = `MicrosoftTeams ${module.moduleVersion ?? '(version unknown)'}`;
  const spec = lookup(module, cmdlet);
  if (!spec) return { ok: false, parameter: null, message: `${cmdlet} is not available in ${where}.` };
  const mapped: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(parameters)) {
    const definition = definitionOf(cmdlet, key);
    const names = definition ? spellings(definition) : [key];
    const found = names.map((n) => findParameter(spec, n)).find((p) => p !== undefined);
    if (!found) {
      const known = names.length > 1 ? ` (also known as ${names.filter((n) => n !== key).map((n) => `-${n}`).join(', ')})` : '';
      return { ok: false, parameter: key, message: `${cmdlet} has no parameter -${key}${known} in ${where}.` };
    }
    mapped[found.name] = value;
  }
  const binding = bindParameterNames(spec, Object.keys(mapped));
  if (!binding.ok) {
    const given = Object.keys(mapped).map((k) => `-${k}`).join(' ');
    const why =
      binding.error === 'MissingMandatoryParameter'
        ? `it would also need ${binding.missing.map((m) => `-${m}`).join(' ')}`
        : binding.error === 'AmbiguousParameterSet'
          ? 'these parameters are in no single parameter set'
          : `${binding.error} -${binding.parameter}`;
    const parameter = binding.error === 'MissingMandatoryParameter' ? (binding.missing[0] ?? null) : 'parameter' in binding ? binding.parameter : null;
    return { ok: false, parameter, message: `${cmdlet} ${given} would not bind in ${where}: ${why}.` };
  }
  return { ok: true, parameters: mapped };
}

function lookup(module: ModuleView, cmdlet: string): ModuleCmdlet | null | undefined {
  const lower = cmdlet.toLowerCase();
  const key = Object.keys(module.cmdlets).find((k) => k.toLowerCase() === lower);
  return key === undefined ? undefined : module.cmdlets[key];
}

/** Whether a module version lies in the range Dialtone is tested with (module-cmdlets.json). */
export function moduleVersionSupported(version: string): boolean {
  const parts = (v: string) => v.split(/[.-]/).slice(0, 3).map((n) => Number.parseInt(n, 10) || 0);
  const compare = (a: number[], b: number[]) => {
    for (let i = 0; i < 3; i += 1) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
    return 0;
  };
  const v = parts(version);
  return compare(v, parts(supportedModuleVersions.minimum)) >= 0 && compare(v, parts(supportedModuleVersions.below)) < 0;
}
