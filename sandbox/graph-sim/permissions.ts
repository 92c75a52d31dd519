/**
 * Application permissions of the app that calls the simulated Graph (the Function App's
 * identity), and the two reads `doctor` makes to check them: Microsoft Graph's own service
 * principal with its app roles, and the app's appRoleAssignments. A request the app holds no
 * permission for is refused with 403, as Graph refuses it. Role ids are the simulator's own
 * (stable, derived from the name): Dialtone never hard-codes them, it reads them from Graph.
 */
import { createHash } from 'node:crypto';
import { GraphSimError } from './responses.js';

export const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
/** The sandbox's Function App identity (object id of its service principal), unless the tenant file names one. */
export const SANDBOX_FUNCTION_PRINCIPAL_ID = 'f0f0f0f0-5a1d-4b0c-9d1e-00000000d1a1';
/** Microsoft Graph's service principal object id in the simulated tenant. */
export const SIM_GRAPH_SERVICE_PRINCIPAL_ID = '9b7e2c1a-0000-4000-8000-00000000a9a9';

/** What Dialtone's deployments grant (scripts/grant-graph-permissions.sh): the default when the tenant file does not say. */
export const dialtonePermissions = ['User.Read.All', 'TeamsUserConfiguration.Read.All', 'TeamsTelephoneNumber.ReadWrite.All', 'TeamsPolicyUserAssign.ReadWrite.All'];

/** The application roles the simulated Graph publishes (a subset of Graph's hundreds). */
export const publishedRoles = [
  ...dialtonePermissions,
  'User.ReadWrite.All',
  'Directory.Read.All',
  'Application.Read.All',
  'TeamsTelephoneNumber.Read.All',
  'TeamsPolicyUserAssign.Read.All',
];

export function appRoleId(permission: string): string {
  const h = createHash('sha256').update(`graph-app-role|${permission}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export interface GraphAppSettings {
  principalId?: string;
  permissions?: readonly string[];
}

/** Which permissions (any one suffices) a request needs; undefined when the simulator checks none. */
function needed(method: string, path: string): string[] | undefined {
  const p = path.replace(/^\/v1\.0/, '').toLowerCase();
  if (p.startsWith('/users') || p.startsWith('/subscriptions')) return ['User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All'];
  if (p.startsWith('/admin/teams/userconfigurations')) return ['TeamsUserConfiguration.Read.All'];
  if (p.startsWith('/admin/teams/telephonenumbermanagement')) {
    return method === 'GET' ? ['TeamsTelephoneNumber.Read.All', 'TeamsTelephoneNumber.ReadWrite.All'] : ['TeamsTelephoneNumber.ReadWrite.All'];
  }
  if (p.startsWith('/admin/teams/policy')) {
    return method === 'GET' ? ['TeamsPolicyUserAssign.Read.All', 'TeamsPolicyUserAssign.ReadWrite.All'] : ['TeamsPolicyUserAssign.ReadWrite.All'];
  }
  return undefined;
}

export class SimPermissions {
  readonly principalId: string;
  private readonly granted: Set<string>;

  constructor(settings: GraphAppSettings | undefined, private readonly createdAt: Date) {
    this.principalId = settings?.principalId ?? SANDBOX_FUNCTION_PRINCIPAL_ID;
    this.granted = new Set((settings?.permissions ?? dialtonePermissions).map((p) => p.toLowerCase()));
  }

  /** An app role assignment made through the simulated Graph (`dialtone setup`, sandbox/graph-sim/applications.ts). */
  grant(permission: string): void {
    this.granted.add(permission.toLowerCase());
  }

  holds(permission: string): boolean {
    return this.granted.has(permission.toLowerCase());
  }

  /** Throws Graph's 403 when the app holds none of the permissions the request needs. */
  check(method: string, path: string): void {
    const any = needed(method, path);
    if (any === undefined || any.some((p) => this.granted.has(p.toLowerCase()))) return;
    if (path.includes('/admin/teams/')) {
      throw new GraphSimError(403, 'Forbidden', `Missing role permissions on the request. API requires one of '${any.join(', ')}'.`);
    }
    throw new GraphSimError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
  }

  /** GET /servicePrincipals(appId='…') and /servicePrincipals/{id}/appRoleAssignments; undefined for other paths. */
  handle(method: string, path: string, search: URLSearchParams, baseUrl: string): Record<string, unknown> | undefined {
    const rest = /^\/v1\.0\/servicePrincipals(.*)$/i.exec(decode(path))?.[1];
    if (rest === undefined) return undefined;
    if (method !== 'GET') throw new GraphSimError(405, 'Request_BadRequest', 'The simulator serves only reads of service principals.');
    const byAppId = /^\(appId='([^']+)'\)$/i.exec(rest);
    if (byAppId) {
      if (byAppId[1]?.toLowerCase() !== GRAPH_APP_ID) throw notFound(byAppId[1] ?? '');
      return { '@odata.context': `${baseUrl}/$metadata#servicePrincipals/$entity`, ...this.graphServicePrincipal(search.get('$select')) };
    }
    const byId = /^\/([^/]+)(\/appRoleAssignments)?$/i.exec(rest);
    if (byId) {
      const id = (byId[1] ?? '').toLowerCase();
      if (!byId[2]) {
        if (id === SIM_GRAPH_SERVICE_PRINCIPAL_ID) return { '@odata.context': `${baseUrl}/$metadata#servicePrincipals/$entity`, ...this.graphServicePrincipal(search.get('$select')) };
        throw notFound(byId[1] ?? '');
      }
      if (id !== this.principalId.toLowerCase()) throw notFound(byId[1] ?? '');
      return {
        '@odata.context': `${baseUrl}/$metadata#servicePrincipals('${this.principalId}')/appRoleAssignments`,
        value: [...this.granted]
          .map((lower) => publishedRoles.find((r) => r.toLowerCase() === lower))
          .filter((r): r is string => r !== undefined)
          .map((permission) => ({
            id: createHash('sha256').update(`${this.principalId}|${permission}`).digest('base64url').slice(0, 43),
            deletedDateTime: null,
            appRoleId: appRoleId(permission),
            createdDateTime: this.createdAt.toISOString(),
            principalDisplayName: 'dialtone-func',
            principalId: this.principalId,
            principalType: 'ServicePrincipal',
            resourceDisplayName: 'Microsoft Graph',
            resourceId: SIM_GRAPH_SERVICE_PRINCIPAL_ID,
          })),
      };
    }
    throw new GraphSimError(400, 'Request_BadRequest', `Resource not found for the segment '${rest.split('/').pop() ?? ''}'.`);
  }

  private graphServicePrincipal(select: string | null): Record<string, unknown> {
    const full: Record<string, unknown> = {
      id: SIM_GRAPH_SERVICE_PRINCIPAL_ID,
      appId: GRAPH_APP_ID,
      displayName: 'Microsoft Graph',
      servicePrincipalType: 'Application',
      appRoles: publishedRoles.map((value) => ({
        allowedMemberTypes: ['Application'],
        description: `Allows the app to ${value} without a signed-in user.`,
        displayName: value,
        id: appRoleId(value),
        isEnabled: true,
        origin: 'Application',
        value,
      })),
    };
    if (select === null) return full;
    const keys = select.split(',').map((k) => k.trim()).filter(Boolean);
    return Object.fromEntries(Object.entries(full).filter(([k]) => keys.includes(k) || k === 'id'));
  }
}

function notFound(key: string): GraphSimError {
  return new GraphSimError(404, 'Request_ResourceNotFound', `Resource '${key}' does not exist or one of its queried reference-property objects are not present.`);
}

function decode(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}
