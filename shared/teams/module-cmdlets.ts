/**
 * The MicrosoftTeams cmdlets Dialtone may run, from the one source of truth
 * shared/teams/module-cmdlets.json (its `format` key documents the file). Pure data and pure
 * functions: the Teams stand-in binds with it, the worker maps its parameters with it, and the
 * test-only stub module is generated from it.
 */
import { z } from 'zod';
import raw from './module-cmdlets.json' with { type: 'json' };
import type { ModuleCmdlet, ModuleParameter, ModuleView } from '../domain/parameter-binding.js';

export const namings = ['new', 'old'] as const;
export type Naming = (typeof namings)[number];

const ParameterSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z]+$/),
  aliases: z.array(z.string().regex(/^[A-Za-z]+$/)).optional(),
  oldName: z.string().regex(/^[A-Za-z]+$/).optional(),
  type: z.enum(['string', 'string[]', 'bool', 'switch', 'int', 'hashtable', 'hashtable[]', 'certificate']),
  /** hashtable[] only: the cmdlet each entry is splatted to (host.ps1's Build). */
  builder: z.string().regex(/^[A-Z][a-z]+-[A-Za-z]+$/).optional(),
  validateSet: z.array(z.string().min(1)).min(1).optional(),
  range: z.tuple([z.number().int(), z.number().int()]).optional(),
  host: z.boolean().optional(),
  since: z.enum(namings).optional(),
  sets: z.record(z.string().min(1), z.enum(['mandatory', 'optional'])),
});

const CmdletSchema = z.strictObject({
  kind: z.enum(['read', 'write', 'connect', 'session']),
  defaultParameterSet: z.string().min(1).optional(),
  requireIdentity: z.boolean().optional(),
  parameters: z.array(ParameterSchema),
});

const FileSchema = z.strictObject({
  format: z.array(z.string()),
  module: z.strictObject({
    name: z.literal('MicrosoftTeams'),
    supportedVersions: z.strictObject({ minimum: z.string(), below: z.string() }),
    namings: z.strictObject({ new: z.strictObject({ moduleVersion: z.string() }), old: z.strictObject({ moduleVersion: z.string() }) }),
  }),
  cmdlets: z.record(z.string().regex(/^[A-Z][a-z]+-[A-Za-z]+$/), CmdletSchema),
});

export type CmdletDefinition = z.infer<typeof CmdletSchema>;

function checkBuilders(file: z.infer<typeof FileSchema>): void {
  for (const [cmdlet, definition] of Object.entries(file.cmdlets)) {
    for (const p of definition.parameters) {
      const wanted = p.type === 'hashtable[]';
      if (wanted !== (p.builder !== undefined) || (p.builder !== undefined && file.cmdlets[p.builder] === undefined)) {
        throw new Error(`module-cmdlets.json: ${cmdlet} -${p.name}: a hashtable[] parameter, and only one, names a builder cmdlet of the file`);
      }
    }
  }
}
export type ParameterDefinition = z.infer<typeof ParameterSchema>;

export const moduleCmdlets = FileSchema.parse(raw);
checkBuilders(moduleCmdlets);

export const supportedModuleVersions = moduleCmdlets.module.supportedVersions;

export function cmdletDefinition(cmdlet: string): CmdletDefinition | undefined {
  const lower = cmdlet.toLowerCase();
  const key = Object.keys(moduleCmdlets.cmdlets).find((k) => k.toLowerCase() === lower);
  return key === undefined ? undefined : moduleCmdlets.cmdlets[key];
}

/** Every spelling a parameter has had: its name, aliases and old name. */
export function spellings(parameter: ParameterDefinition): string[] {
  return [...new Set([parameter.name, ...(parameter.aliases ?? []), ...(parameter.oldName ? [parameter.oldName] : [])])];
}

/** The definition a request key refers to under any spelling (case-insensitive), if any. */
export function definitionOf(cmdlet: string, key: string): ParameterDefinition | undefined {
  const lower = key.toLowerCase();
  return cmdletDefinition(cmdlet)?.parameters.find((p) => spellings(p).some((s) => s.toLowerCase() === lower));
}

/** The parameter names the host accepts in a request for this cmdlet (host.ps1's allow-list). */
export function hostParameterNames(cmdlet: string): string[] {
  return (cmdletDefinition(cmdlet)?.parameters ?? []).filter((p) => p.host !== false).flatMap(spellings);
}

/** How a module with the given naming presents its cmdlets, in the shape the host reports at ready. */
export function moduleView(naming: Naming): ModuleView {
  const cmdlets: Record<string, ModuleCmdlet> = {};
  for (const [name, definition] of Object.entries(moduleCmdlets.cmdlets)) {
    const parameters: ModuleParameter[] = definition.parameters
      .filter((p) => naming === 'new' || p.since !== 'new')
      .map((p) => {
        const current = naming === 'old' && p.oldName ? p.oldName : p.name;
        const aliases = (p.aliases ?? []).filter((a) => a !== current);
        return { name: current, aliases, sets: Object.fromEntries(Object.entries(p.sets).map(([set, m]) => [set, m === 'mandatory'])) };
      });
    cmdlets[name] = { parameters, ...(definition.defaultParameterSet ? { defaultParameterSet: definition.defaultParameterSet } : {}) };
  }
  return { moduleVersion: moduleCmdlets.module.namings[naming].moduleVersion, cmdlets };
}
