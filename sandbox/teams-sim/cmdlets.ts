/**
 * One "pwsh" session's view of the tenant: binds a request's parameters the way PowerShell
 * does (case-insensitive names, parameter sets, mandatory parameters), enforces the
 * Connect-MicrosoftTeams state, and calls the tenant. Pure apart from the tenant it is given.
 */
import type { PolicyType } from '../../shared/domain/voice-state.js';
import { policyTypes } from '../../shared/domain/voice-state.js';
import { bindParameterNames, type ModuleView } from '../../shared/domain/parameter-binding.js';
import { cmdletDefinition, definitionOf, hostParameterNames, moduleView } from '../../shared/teams/module-cmdlets.js';
import { allowedInScope, buildOnlyCmdlets, canonicalCmdlet, type AllowedCmdlet, type HostScope } from './allow-list.js';
import { CmdletError, teamsErrors, type HostError } from './cmdlet-error.js';
import type { SimTenant } from './tenant.js';
import { isVoiceRoutingCmdlet, runVoiceRoutingCmdlet } from './voice-routing-cmdlets.js';
import { parseEqualityFilter } from './filter.js';
import { inspectPfx } from '../../worker/certificate.js';

export interface TeamsSession {
  connected: boolean;
  /** The certificate the session connected with, when Entra checks certificates (SimTenant.certificateTrust). */
  thumbprint?: string;
  /** Set by an `unauthorized` fault: the token is gone until the next Connect-MicrosoftTeams. */
  tokenExpired: boolean;
}

export interface HostRequest {
  cmdlet: string;
  parameters: Record<string, unknown>;
  /** Only on Connect-MicrosoftTeams; checked, never stored or echoed. */
  certificate?: unknown;
  /**
   * 'module': the request comes from the stub MicrosoftTeams module inside real pwsh, so host.ps1
   * has already applied its own checks; otherwise the stand-in applies them as host.ps1 does.
   */
  layer?: 'host' | 'module';
  /** The scope the host was started in (`-Scope`); Worker when absent. */
  scope?: HostScope;
}

export type HostOutcome = { ok: true; result: unknown } | { ok: false; error: HostError };

export const MAX_BATCH_IDENTITIES = 5000;
const DEFAULT_TOP = 500;
const numberTypes = ['DirectRouting', 'CallingPlan', 'OperatorConnect'] as const;
const MAX_TOP = 1000;
/** The stand-in plays the current module (module-cmdlets.json's 'new' naming, old names as aliases). */
const simulatedModule: ModuleView = moduleView('new');

const grantTypes: Partial<Record<AllowedCmdlet, PolicyType>> = {
  'Grant-CsCallingLineIdentity': 'CallingLineIdentity',
  'Grant-CsOnlineVoiceRoutingPolicy': 'OnlineVoiceRoutingPolicy',
  'Grant-CsTenantDialPlan': 'TenantDialPlan',
  'Grant-CsTeamsCallingPolicy': 'TeamsCallingPolicy',
  'Grant-CsOnlineVoicemailPolicy': 'OnlineVoicemailPolicy',
  'Grant-CsTeamsEmergencyCallRoutingPolicy': 'TeamsEmergencyCallRoutingPolicy',
};
const listTypes: Partial<Record<AllowedCmdlet, PolicyType>> = {
  'Get-CsCallingLineIdentity': 'CallingLineIdentity',
  'Get-CsOnlineVoiceRoutingPolicy': 'OnlineVoiceRoutingPolicy',
  'Get-CsTenantDialPlan': 'TenantDialPlan',
};

export function newSession(): TeamsSession {
  return { connected: false, tokenExpired: false };
}

/** Runs one request in a session; every failure comes back as the host's error shape. */
export function runCmdlet(tenant: SimTenant, session: TeamsSession, request: HostRequest): HostOutcome {
  try {
    return { ok: true, result: dispatch(tenant, session, request) };
  } catch (error) {
    if (error instanceof CmdletError) return { ok: false, error: error.hostError };
    throw error;
  }
}

function dispatch(tenant: SimTenant, session: TeamsSession, request: HostRequest): unknown {
  const cmdlet = canonicalCmdlet(request.cmdlet);
  if (cmdlet === undefined) throw teamsErrors.notAllowed(request.cmdlet);
  if (request.layer !== 'module') {
    const scope = request.scope ?? 'Worker';
    if (!allowedInScope(cmdlet, scope) || buildOnlyCmdlets.includes(cmdlet)) throw teamsErrors.notAllowedInScope(cmdlet, scope);
  }
  if (request.layer !== 'module' && cmdlet !== 'Exit') hostChecks(cmdlet, request.parameters);
  if (cmdlet === 'Connect-MicrosoftTeams') {
    // host.ps1 passes the request's certificate field as -Certificate.
    const p = bind(cmdlet, { ...request.parameters, Certificate: request.certificate ?? null });
    p.delete('Certificate');
    return connect(tenant, session, p, request.certificate);
  }
  if (cmdlet === 'Disconnect-MicrosoftTeams' || cmdlet === 'Exit') {
    session.connected = false;
    return null;
  }
  if (!session.connected) throw teamsErrors.notConnected(cmdlet);
  if (session.tokenExpired) throw teamsErrors.unauthorized(cmdlet);

  if (isVoiceRoutingCmdlet(cmdlet)) return runVoiceRoutingCmdlet(tenant.voiceRouting, cmdlet, request.parameters, bind, request.layer !== 'module');

  const grantType = grantTypes[cmdlet];
  if (grantType !== undefined) {
    const p = bind(cmdlet, request.parameters);
    tenant.grantPolicy(cmdlet, grantType, requiredString(cmdlet, p, 'Identity'), optionalString(cmdlet, p, 'PolicyName') ?? null);
    return null;
  }
  const listType = listTypes[cmdlet];
  if (listType !== undefined) {
    const p = bind(cmdlet, request.parameters);
    return tenant.listPolicies(cmdlet, listType, optionalString(cmdlet, p, 'Identity'));
  }
  switch (cmdlet) {
    case 'Get-CsOnlineUser': {
      const p = bind(cmdlet, request.parameters);
      const identity = optionalString(cmdlet, p, 'Identity');
      const filter = optionalString(cmdlet, p, 'Filter');
      if (identity !== undefined && filter !== undefined) {
        throw teamsErrors.badArgument(cmdlet, 'Filter', 'Identity and Filter cannot be used together: pass one of them.');
      }
      if (identity === undefined) {
        const size = optionalInteger(cmdlet, p, 'ResultSize');
        if (size !== undefined && size < 0) throw teamsErrors.badArgument(cmdlet, 'ResultSize', `The ${size} argument is less than the minimum allowed range of 0.`);
        const users = filter === undefined ? tenant.usersView().map((u) => u.id) : filteredUsers(tenant, cmdlet, filter);
        const rows = users.flatMap((id) => {
          try {
            return [tenant.onlineUser(cmdlet, id)];
          } catch {
            return [];
          }
        });
        return size === undefined ? rows : rows.slice(0, size);
      }
      return tenant.onlineUser(cmdlet, identity);
    }
    case 'Set-CsPhoneNumberAssignment':
      return setAssignment(tenant, cmdlet, request.parameters);
    case 'Remove-CsPhoneNumberAssignment':
      return removeAssignment(tenant, cmdlet, request.parameters);
    case 'Get-CsPhoneNumberAssignment':
      return getAssignments(tenant, cmdlet, request.parameters);
    case 'New-CsBatchPolicyAssignmentOperation':
      return newBatch(tenant, cmdlet, request.parameters);
    case 'Get-CsBatchPolicyAssignmentOperation': {
      const p = bind(cmdlet, request.parameters);
      const all = tenant.getBatch(cmdlet, optionalString(cmdlet, p, 'Identity'));
      const status = optionalString(cmdlet, p, 'Status')?.toLowerCase();
      return status === undefined || !Array.isArray(all) ? all : all.filter((op) => String(op.OverallStatus).toLowerCase() === status);
    }
    default:
      throw teamsErrors.notAllowed(cmdlet);
  }
}

function connect(tenant: SimTenant, session: TeamsSession, p: Map<string, unknown>, certificate: unknown): unknown {
  const applicationId = p.get('ApplicationId');
  const tenantId = p.get('TenantId');
  if (typeof applicationId !== 'string' || applicationId === '' || typeof tenantId !== 'string' || tenantId === '') {
    throw teamsErrors.connectFailed('ApplicationId and TenantId are required for application (certificate) authentication.', 'System.ArgumentException');
  }
  const pfx = (certificate as { pfxBase64?: unknown } | null | undefined)?.pfxBase64;
  if (typeof pfx !== 'string' || pfx === '') {
    throw teamsErrors.connectFailed('A certificate is required: the request must carry certificate.pfxBase64.', 'System.ArgumentException');
  }
  if (!isBase64(pfx)) {
    throw teamsErrors.connectFailed('The certificate is not valid: certificate.pfxBase64 is not base64-encoded PKCS#12.', 'System.Security.Cryptography.CryptographicException');
  }
  if (tenantId.toLowerCase() !== tenant.tenantId.toLowerCase()) {
    session.connected = false;
    throw teamsErrors.connectFailed(
      `AADSTS90002: Tenant '${tenantId}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
    );
  }
  if (tenant.certificateTrust) {
    let thumbprint: string;
    try {
      thumbprint = inspectPfx(pfx, null, 'the connect request').thumbprint;
    } catch {
      throw teamsErrors.connectFailed('The certificate is not valid: certificate.pfxBase64 is not a readable PKCS#12.', 'System.Security.Cryptography.CryptographicException');
    }
    if (!tenant.certificateTrust(applicationId, thumbprint)) {
      session.connected = false;
      delete session.thumbprint;
      throw teamsErrors.connectFailed(
        `AADSTS700027: Client assertion contains an invalid signature. [Reason - The key was not found., Thumbprint of key used by client: '${thumbprint}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '${applicationId}'.]`,
      );
    }
    session.thumbprint = thumbprint;
  }
  session.connected = true;
  session.tokenExpired = false;
  return { Account: applicationId, Environment: 'AzureCloud', TenantId: tenant.tenantId, TokenType: 'AppOnly' };
}

function setAssignment(tenant: SimTenant, cmdlet: string, parameters: Record<string, unknown>): null {
  const p = bind(cmdlet, parameters);
  const identity = requiredString(cmdlet, p, 'Identity');
  if (p.has('EnterpriseVoiceEnabled')) {
    const enabled = p.get('EnterpriseVoiceEnabled');
    if (typeof enabled !== 'boolean') throw teamsErrors.badArgument(cmdlet, 'EnterpriseVoiceEnabled', 'The value must be $true or $false.');
    tenant.setEnterpriseVoice(cmdlet, identity, enabled);
    return null;
  }
  const numberType = checkSet(cmdlet, 'NumberType', requiredString(cmdlet, p, 'NumberType'), numberTypes);
  const rawCategory = optionalString(cmdlet, p, 'AssignmentCategory');
  const category = rawCategory === undefined ? undefined : checkSet(cmdlet, 'AssignmentCategory', rawCategory, ['Primary', 'Private', 'Alternate']);
  const locationId = optionalString(cmdlet, p, 'LocationId');
  tenant.assignNumber(cmdlet, identity, requiredString(cmdlet, p, 'TelephoneNumber'), numberType, {
    ...(locationId === undefined ? {} : { locationId }),
    ...(category === undefined ? {} : { assignmentCategory: category }),
  });
  return null;
}

function removeAssignment(tenant: SimTenant, cmdlet: string, parameters: Record<string, unknown>): null {
  const p = bind(cmdlet, parameters);
  const identity = requiredString(cmdlet, p, 'Identity');
  if (p.has('RemoveAll')) {
    if (p.get('RemoveAll') !== true) throw teamsErrors.badArgument(cmdlet, 'RemoveAll', 'The value must be $true (a switch).');
    tenant.removeNumber(cmdlet, identity, 'all');
    return null;
  }
  const numberType = checkSet(cmdlet, 'NumberType', requiredString(cmdlet, p, 'NumberType'), numberTypes);
  tenant.removeNumber(cmdlet, identity, requiredString(cmdlet, p, 'TelephoneNumber'), numberType);
  return null;
}

function getAssignments(tenant: SimTenant, cmdlet: string, parameters: Record<string, unknown>): unknown[] {
  const filters = ['AssignedPstnTargetId', 'TelephoneNumber', 'TelephoneNumberContain', 'TelephoneNumberStartsWith', 'NumberType', 'PstnAssignmentStatus'] as const;
  const p = bind(cmdlet, parameters);
  const top = optionalInteger(cmdlet, p, 'Top') ?? DEFAULT_TOP;
  if (top < 1) throw teamsErrors.badArgument(cmdlet, 'Top', `The ${top} argument is less than the minimum allowed range of 1. Supply an argument that is greater than or equal to 1 and then try the command again.`);
  if (top > MAX_TOP) {
    throw teamsErrors.badArgument(cmdlet, 'Top', `The ${top} argument is greater than the maximum allowed range of ${MAX_TOP}. Supply an argument that is less than or equal to ${MAX_TOP} and then try the command again.`);
  }
  const skip = optionalInteger(cmdlet, p, 'Skip') ?? 0;
  if (skip < 0) throw teamsErrors.badArgument(cmdlet, 'Skip', `The ${skip} argument is less than the minimum allowed range of 0.`);
  const filter: Record<string, string> = {};
  for (const name of filters) {
    const value = optionalString(cmdlet, p, name);
    if (value !== undefined) filter[name.charAt(0).toLowerCase() + name.slice(1)] = value;
  }
  const expression = optionalString(cmdlet, p, 'Filter');
  if (expression === undefined) return tenant.findAssignments(cmdlet, filter).slice(skip, skip + top);
  // -Filter: the union of its -or clauses, each narrowed by the other parameters, sorted by number.
  const parsed = parseEqualityFilter(expression, ['AssignedPstnTargetId', 'TargetId', 'TelephoneNumber']);
  if (!parsed.ok) throw teamsErrors.badArgument(cmdlet, 'Filter', parsed.message);
  const rows = new Map<string, ReturnType<SimTenant['findAssignments']>[number]>();
  for (const clause of parsed.clauses) {
    const key = clause.attribute.toLowerCase() === 'telephonenumber' ? 'telephoneNumber' : 'assignedPstnTargetId';
    if (filter[key] !== undefined && filter[key] !== clause.value) continue;
    for (const row of tenant.findAssignments(cmdlet, { ...filter, [key]: clause.value })) rows.set(row.TelephoneNumber, row);
  }
  return [...rows.values()].sort((a, b) => (a.TelephoneNumber < b.TelephoneNumber ? -1 : a.TelephoneNumber > b.TelephoneNumber ? 1 : 0)).slice(skip, skip + top);
}

/** Get-CsOnlineUser -Filter: the users its clauses name (by object id or UPN), in the order named, once each. */
function filteredUsers(tenant: SimTenant, cmdlet: string, expression: string): string[] {
  const parsed = parseEqualityFilter(expression, ['Identity', 'UserPrincipalName']);
  if (!parsed.ok) throw teamsErrors.badArgument(cmdlet, 'Filter', parsed.message);
  const ids = new Set<string>();
  for (const clause of parsed.clauses) {
    const user = tenant.user(clause.value);
    if (user === undefined) continue;
    const matches = clause.attribute.toLowerCase() === 'identity' ? user.id.toLowerCase() === clause.value.toLowerCase() : user.userPrincipalName.toLowerCase() === clause.value.toLowerCase();
    if (matches) ids.add(user.id);
  }
  return [...ids];
}

function newBatch(tenant: SimTenant, cmdlet: string, parameters: Record<string, unknown>): string {
  const p = bind(cmdlet, parameters);
  const type = checkSet(cmdlet, 'PolicyType', requiredString(cmdlet, p, 'PolicyType'), policyTypes);
  const raw = p.get('Identity');
  const identities = Array.isArray(raw) ? raw : [raw];
  if (identities.length === 0 || identities.some((i) => typeof i !== 'string' || i === '')) {
    throw teamsErrors.badArgument(cmdlet, 'Identity', 'The argument is null, empty, or an element of the argument collection contains a null value.');
  }
  if (identities.length > MAX_BATCH_IDENTITIES) {
    throw teamsErrors.badArgument(
      cmdlet,
      'Identity',
      `The number of provided arguments (${identities.length}) exceeds the maximum number of allowed arguments (${MAX_BATCH_IDENTITIES}). Provide fewer than ${MAX_BATCH_IDENTITIES} arguments, and then try the command again.`,
    );
  }
  return tenant.newBatch(cmdlet, type, optionalString(cmdlet, p, 'PolicyName') ?? null, identities as string[], optionalString(cmdlet, p, 'OperationName'));
}

/** What host.ps1 refuses before anything runs (docs/PWSH-PROTOCOL.md), with its wording. */
function hostChecks(cmdlet: AllowedCmdlet, parameters: Record<string, unknown>): void {
  const allowed = hostParameterNames(cmdlet);
  const seen = new Map<string, string>();
  for (const [key, value] of Object.entries(parameters)) {
    if (!allowed.some((a) => a.toLowerCase() === key.toLowerCase())) throw teamsErrors.parameterNotAllowed(cmdlet, key, allowed);
    const twin = seen.get(key.toLowerCase());
    if (twin !== undefined) throw teamsErrors.caseDuplicate(cmdlet, twin, key);
    seen.set(key.toLowerCase(), key);
    const type = definitionOf(cmdlet, key)?.type;
    if (!hostValueAllowed(type, value)) {
      const builder = definitionOf(cmdlet, key)?.builder;
      throw teamsErrors.looseValue(cmdlet, key, type === 'hashtable' ? { listModifier: true } : builder !== undefined ? { builder } : {});
    }
  }
  if (cmdletDefinition(cmdlet)?.requireIdentity) {
    const identity = Object.entries(parameters).find(([k]) => k.toLowerCase() === 'identity')?.[1];
    if (typeof identity !== 'string' || identity.trim() === '') throw teamsErrors.identityRequired(cmdlet);
  }
}

/** A JSON scalar, null, or an array of those: the only values the host passes on. */
function isLooseFree(value: unknown): boolean {
  const scalar = (v: unknown): boolean => v === null || ['string', 'number', 'boolean'].includes(typeof v);
  return scalar(value) || (Array.isArray(value) && value.every(scalar));
}

/** The keys of a PSListModifier, the only object a hashtable parameter takes (case-insensitive, each once). */
const listModifierKeys = ['add', 'remove', 'replace'];

/** `{"Add":["NL-Local"]}`: a non-empty object of Add/Remove/Replace holding plain values. */
function isListModifier(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value).map((k) => k.toLowerCase());
  return keys.length > 0 && new Set(keys).size === keys.length && keys.every((k) => listModifierKeys.includes(k)) && Object.values(value).every(isLooseFree);
}

/** One entry of a hashtable[] parameter: an object (its builder's binding checks its keys and values). */
function isObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Objects only where module-cmdlets.json types the parameter as hashtable (a list modifier) or hashtable[] (a list of objects). */
function hostValueAllowed(type: string | undefined, value: unknown): boolean {
  if (type === 'hashtable') return isLooseFree(value) || isListModifier(value);
  if (type === 'hashtable[]') return Array.isArray(value) && value.every(isObject);
  return isLooseFree(value);
}

/**
 * Binds parameters the way the module's parameter sets do (shared/teams/module-cmdlets.json):
 * names and aliases case-insensitively, sets that cannot be mixed, mandatory parameters of the
 * chosen set. The map is keyed by each parameter's current name.
 */
function bind(cmdlet: string, parameters: Record<string, unknown>): Map<string, unknown> {
  const spec = simulatedModule.cmdlets[cmdlet];
  if (!spec) throw teamsErrors.notAllowed(cmdlet);
  const binding = bindParameterNames(spec, Object.keys(parameters));
  if (!binding.ok) {
    switch (binding.error) {
      case 'NamedParameterNotFound':
        throw teamsErrors.unknownParameter(cmdlet, binding.parameter);
      case 'ParameterAlreadyBound':
        throw teamsErrors.parameterAlreadyBound(cmdlet, binding.parameter);
      case 'AmbiguousParameterSet':
        throw teamsErrors.parameterSet(cmdlet);
      case 'MissingMandatoryParameter':
        throw teamsErrors.missingParameter(cmdlet, binding.missing);
    }
  }
  const bound = new Map<string, unknown>();
  for (const [key, value] of Object.entries(parameters)) bound.set(binding.bound.get(key) ?? key, value);
  return bound;
}

function requiredString(cmdlet: string, p: Map<string, unknown>, name: string): string {
  if (!p.has(name)) throw teamsErrors.missingParameter(cmdlet, [name]);
  const value = p.get(name);
  if (typeof value !== 'string' || value.trim() === '') {
    throw teamsErrors.badArgument(cmdlet, name, 'The argument is null or empty. Provide an argument that is not null or empty, and then try the command again.');
  }
  return value;
}

/** undefined when absent; null when passed as $null. */
function optionalString(cmdlet: string, p: Map<string, unknown>, name: string): string | undefined {
  const value = p.get(name);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw teamsErrors.badArgument(cmdlet, name, `Cannot convert '${JSON.stringify(value)}' to the type 'System.String'.`);
  return value;
}

function optionalInteger(cmdlet: string, p: Map<string, unknown>, name: string): number | undefined {
  const value = p.get(name);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw teamsErrors.badArgument(cmdlet, name, `Cannot convert '${JSON.stringify(value)}' to the type 'System.Int32'.`);
  return value;
}

/** The canonical spelling of a ValidateSet value, which PowerShell matches case-insensitively. */
function checkSet<T extends string>(cmdlet: string, name: string, value: string, allowed: readonly T[]): T {
  const found = allowed.find((a) => a.toLowerCase() === value.toLowerCase());
  if (found === undefined) {
    throw teamsErrors.badArgument(
      cmdlet,
      name,
      `The argument "${value}" does not belong to the set "${allowed.join(',')}" specified by the ValidateSet attribute. Supply an argument that is in the set and then try the command again.`,
    );
  }
  return found;
}

function isBase64(text: string): boolean {
  return text.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(text);
}
