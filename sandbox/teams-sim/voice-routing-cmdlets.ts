/**
 * Parameter binding for the tenant set-up cmdlets (voice-routing.ts has their semantics), with
 * the MicrosoftTeams module's parameter names and the pwsh host's own guards: these cmdlets run
 * only in a host started with `-Scope TenantSetup`, `Set-CsOnlinePstnUsage -Usage` takes only
 * `@{Add=…}` (the usage list is tenant-wide), and NormalizationRules arrive as data that the host
 * turns into `New-CsVoiceNormalizationRule -InMemory` objects.
 */
import { hostParameterNames } from '../../shared/teams/module-cmdlets.js';
import { tenantSetupCmdlets, type AllowedCmdlet } from './allow-list.js';
import { CmdletError, teamsErrors } from './cmdlet-error.js';
import type { ListChange, NormalizationRuleState, VoiceRouting } from './voice-routing.js';

/** Binds a request's parameters as the module does (cmdlets.ts, over shared/teams/module-cmdlets.json); keys are canonical names. */
export type Binder = (cmdlet: string, parameters: Record<string, unknown>) => Map<string, unknown>;

export function isVoiceRoutingCmdlet(cmdlet: AllowedCmdlet): boolean {
  return tenantSetupCmdlets.includes(cmdlet);
}

function hostRefusal(message: string): CmdletError {
  return new CmdletError({ type: 'Dialtone.ParameterNotAllowed', message });
}

function str(cmdlet: string, p: Map<string, unknown>, name: string): string | undefined {
  const value = p.get(name);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw teamsErrors.badArgument(cmdlet, name, `Cannot convert '${JSON.stringify(value)}' to the type 'System.String'.`);
  return value;
}

function identity(cmdlet: string, p: Map<string, unknown>, name = 'Identity'): string {
  const value = str(cmdlet, p, name);
  if (value === undefined) throw teamsErrors.missingParameter(cmdlet, [name]);
  if (value.trim() === '') throw teamsErrors.badArgument(cmdlet, name, 'The argument is null or empty. Provide an argument that is not null or empty, and then try the command again.');
  return value;
}

function bool(cmdlet: string, p: Map<string, unknown>, name: string): boolean | undefined {
  const value = p.get(name);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw teamsErrors.badArgument(cmdlet, name, 'The value must be $true or $false.');
  return value;
}

function int(cmdlet: string, p: Map<string, unknown>, name: string): number | undefined {
  const value = p.get(name);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw teamsErrors.badArgument(cmdlet, name, `Cannot convert '${JSON.stringify(value)}' to the type 'System.Int32'.`);
  if (value < 0) throw teamsErrors.badArgument(cmdlet, name, `The ${value} argument is less than the minimum allowed range of 0.`);
  return value;
}

function strings(cmdlet: string, name: string, value: unknown): string[] {
  const list = Array.isArray(value) ? value : [value];
  if (!list.every((v) => typeof v === 'string' && v !== '')) throw teamsErrors.badArgument(cmdlet, name, 'Each element must be a non-empty string.');
  return list as string[];
}

/** A PSListModifier: `@{Add=…; Remove=…; Replace=…}` as a JSON object, or a plain value/list (replaces). */
function listChange(cmdlet: string, p: Map<string, unknown>, name: string): ListChange | undefined {
  const value = p.get(name);
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' || Array.isArray(value)) return { replace: strings(cmdlet, name, value) };
  if (typeof value !== 'object') throw teamsErrors.badArgument(cmdlet, name, `Cannot convert '${JSON.stringify(value)}' to the type 'Microsoft.Rtc.Management.WritableConfig.PSListModifier'.`);
  const change: ListChange = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const op = key.toLowerCase();
    if (op !== 'add' && op !== 'remove' && op !== 'replace') {
      throw teamsErrors.badArgument(cmdlet, name, `'${key}' is not a list operation: use Add, Remove or Replace.`);
    }
    change[op] = strings(cmdlet, name, v);
  }
  return change;
}

const RULE = 'New-CsVoiceNormalizationRule';

/** `New-CsVoiceNormalizationRule -InMemory`'s binding and checks: the rule it would return. */
function ruleFromParameters(r: Map<string, unknown>): NormalizationRuleState {
  let name = str(RULE, r, 'Name');
  const id = str(RULE, r, 'Identity');
  if (id !== undefined && (r.has('Parent') || r.has('Name'))) throw teamsErrors.parameterSet(RULE);
  if (id !== undefined) name = id.split('/').pop();
  else identity(RULE, r, 'Parent');
  if (name === undefined || name === '') throw teamsErrors.missingParameter(RULE, ['Name']);
  const pattern = str(RULE, r, 'Pattern') ?? '^(\\d{11})$';
  try {
    new RegExp(pattern);
  } catch {
    throw teamsErrors.badArgument(RULE, 'Pattern', `"${pattern}" is not a valid regular expression.`);
  }
  return {
    name,
    pattern,
    translation: str(RULE, r, 'Translation') ?? '+$1',
    isInternalExtension: bool(RULE, r, 'IsInternalExtension') ?? false,
    description: str(RULE, r, 'Description') ?? null,
  };
}

/** The in-memory rule object the module returns (its properties as Get-CsTenantDialPlan shows a rule). */
function ruleObject(rule: NormalizationRuleState): Record<string, unknown> {
  return { Name: rule.name, Description: rule.description, Pattern: rule.pattern, Translation: rule.translation, IsInternalExtension: rule.isInternalExtension };
}

/** A rule object as New-CsTenantDialPlan -NormalizationRules receives it from the module (ruleObject). */
function ruleFromObject(cmdlet: string, entry: Record<string, unknown>): NormalizationRuleState {
  const keys = Object.keys(entry).sort();
  const expected = Object.keys(ruleObject({ name: '', pattern: '', translation: '', isInternalExtension: false, description: null })).sort();
  const name = entry['Name'];
  const pattern = entry['Pattern'];
  const translation = entry['Translation'];
  const description = entry['Description'];
  if (
    JSON.stringify(keys) !== JSON.stringify(expected) ||
    typeof name !== 'string' ||
    typeof pattern !== 'string' ||
    typeof translation !== 'string' ||
    typeof entry['IsInternalExtension'] !== 'boolean' ||
    (description !== null && typeof description !== 'string')
  ) {
    throw teamsErrors.badArgument(cmdlet, 'NormalizationRules', "Cannot convert the value to the type 'Microsoft.Rtc.Management.WritableConfig.Policy.Voice.NormalizationRule': make each rule with New-CsVoiceNormalizationRule -InMemory.");
  }
  return { name, pattern, translation, isInternalExtension: entry['IsInternalExtension'] as boolean, description };
}

/**
 * From the pwsh stand-in (`hostGuards`), each entry is a request's data, which host.ps1 splats to
 * `New-CsVoiceNormalizationRule -InMemory` with exact names only; from the stub module in real pwsh
 * the host has done that already and each entry is the rule object it got back.
 */
function normalizationRules(cmdlet: string, p: Map<string, unknown>, bind: Binder, hostGuards: boolean): NormalizationRuleState[] | undefined {
  const value = p.get('NormalizationRules');
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw new CmdletError({ type: 'Dialtone.ProtocolError', message: 'NormalizationRules must be a list of rule objects (Parent, Name, Pattern, Translation, …).' });
  return value.map((entry: unknown) => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw new CmdletError({ type: 'Dialtone.ProtocolError', message: `Each NormalizationRules entry must be an object of ${RULE} parameters.` });
    }
    if (!hostGuards) return ruleFromObject(cmdlet, entry as Record<string, unknown>);
    const allowed = hostParameterNames(RULE);
    for (const key of Object.keys(entry)) {
      if (!allowed.includes(key)) throw hostRefusal(`Parameter '${key}' is not allowed for ${RULE}; allowed: ${allowed.join(', ')}.`);
    }
    return ruleFromParameters(bind(RULE, { ...(entry as Record<string, unknown>), InMemory: true }));
  });
}

/** Runs a tenant set-up cmdlet (isVoiceRoutingCmdlet) and returns its result. */
/**
 * `hostGuards`: apply host.ps1's own checks too (the stand-in plays the host); false when the
 * request comes from the stub module inside real pwsh, where host.ps1 has applied them.
 */
export function runVoiceRoutingCmdlet(routing: VoiceRouting, cmdlet: AllowedCmdlet, parameters: Record<string, unknown>, bind: Binder, hostGuards = true): unknown {
  const p = bind(cmdlet, parameters);
  switch (cmdlet) {
    case 'Get-CsOnlinePstnUsage':
      return routing.getPstnUsage(cmdlet, str(cmdlet, p, 'Identity'));
    case 'Set-CsOnlinePstnUsage': {
      const change = listChange(cmdlet, p, 'Usage');
      if (change === undefined) throw teamsErrors.missingParameter(cmdlet, ['Usage']);
      if (hostGuards && (change.replace !== undefined || (change.add === undefined) === (change.remove === undefined))) {
        throw hostRefusal('Set-CsOnlinePstnUsage -Usage takes only @{Add=...} or @{Remove=...} of named entries: the list is tenant-wide, and Dialtone never replaces it.');
      }
      routing.setPstnUsage(cmdlet, str(cmdlet, p, 'Identity'), change);
      return null;
    }
    case 'Get-CsOnlineVoiceRoute':
      return routing.getVoiceRoutes(cmdlet, str(cmdlet, p, 'Identity'));
    case 'New-CsOnlineVoiceRoute':
    case 'Set-CsOnlineVoiceRoute': {
      const args = {
        ...optional('numberPattern', str(cmdlet, p, 'NumberPattern')),
        ...optional('gateways', listChange(cmdlet, p, 'OnlinePstnGatewayList')),
        ...optional('usages', listChange(cmdlet, p, 'OnlinePstnUsages')),
        ...optional('priority', int(cmdlet, p, 'Priority')),
        ...optional('description', str(cmdlet, p, 'Description')),
      };
      if (cmdlet === 'New-CsOnlineVoiceRoute') {
        const name = p.has('Identity') ? identity(cmdlet, p) : identity(cmdlet, p, 'Name');
        if (p.has('Identity') && p.has('Name')) throw teamsErrors.parameterSet(cmdlet);
        routing.newVoiceRoute(cmdlet, name, args);
      } else {
        routing.setVoiceRoute(cmdlet, identity(cmdlet, p), args);
      }
      return null;
    }
    case 'New-CsOnlineVoiceRoutingPolicy':
    case 'Set-CsOnlineVoiceRoutingPolicy': {
      const routeType = str(cmdlet, p, 'RouteType');
      if (routeType !== undefined && routeType !== 'BYOT') throw teamsErrors.badArgument(cmdlet, 'RouteType', `The argument "${routeType}" does not belong to the set "BYOT".`);
      const usages = listChange(cmdlet, p, 'OnlinePstnUsages');
      const description = str(cmdlet, p, 'Description');
      if (cmdlet === 'New-CsOnlineVoiceRoutingPolicy') routing.newVoiceRoutingPolicy(cmdlet, identity(cmdlet, p), usages, description);
      else routing.setVoiceRoutingPolicy(cmdlet, identity(cmdlet, p), usages, description);
      return null;
    }
    case 'New-CsTenantDialPlan':
    case 'Set-CsTenantDialPlan': {
      const options = {
        ...optional('description', str(cmdlet, p, 'Description')),
        ...optional('simpleName', str(cmdlet, p, 'SimpleName')),
        ...optional('rules', normalizationRules(cmdlet, p, bind, hostGuards)),
      };
      if (cmdlet === 'New-CsTenantDialPlan') routing.newDialPlan(cmdlet, identity(cmdlet, p), options);
      else routing.setDialPlan(cmdlet, identity(cmdlet, p), options);
      return null;
    }
    case 'Remove-CsCallingLineIdentity':
    case 'Remove-CsTenantDialPlan':
    case 'Remove-CsOnlineVoiceRoutingPolicy':
    case 'Remove-CsOnlineVoiceRoute':
      routing.remove(cmdlet, identity(cmdlet, p));
      return null;
    case 'New-CsVoiceNormalizationRule':
      // Only the host runs it, and only -InMemory: a rule object for a dial plan's list, never a
      // rule written into a dial plan of the tenant.
      if (hostGuards || p.get('InMemory') !== true) throw teamsErrors.notAllowed(cmdlet);
      return ruleObject(ruleFromParameters(p));
    case 'New-CsCallingLineIdentity':
    case 'Set-CsCallingLineIdentity': {
      const args = {
        ...optional('description', str(cmdlet, p, 'Description')),
        ...optional('callingIdSubstitute', str(cmdlet, p, 'CallingIDSubstitute')),
        ...optional('resourceAccount', str(cmdlet, p, 'ResourceAccount')),
        ...optional('companyName', str(cmdlet, p, 'CompanyName')),
        ...optional('enableUserOverride', bool(cmdlet, p, 'EnableUserOverride')),
        ...optional('blockIncomingPstnCallerId', bool(cmdlet, p, 'BlockIncomingPstnCallerID')),
      };
      if (cmdlet === 'New-CsCallingLineIdentity') routing.newCallingLineIdentity(cmdlet, identity(cmdlet, p), args);
      else routing.setCallingLineIdentity(cmdlet, identity(cmdlet, p), args);
      return null;
    }
    default:
      throw teamsErrors.notAllowed(cmdlet);
  }
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}
