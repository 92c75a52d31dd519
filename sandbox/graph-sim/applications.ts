/**
 * The Entra objects `dialtone setup` and `dialtone cert rotate` create and read: applications
 * (with their keyCredentials), their service principals, app role assignments on Microsoft
 * Graph's service principal, and directory role assignments. Refuses what Graph refuses: a
 * missing or invalid field (400 Request_BadRequest naming it), a key credential whose key is not
 * an X.509 certificate or whose dates fall outside it, a second service principal for one app,
 * an app role Graph does not publish, and a duplicate assignment (the errors Graph answers).
 * The operator's own rights (Application.ReadWrite.All, RoleManagement.ReadWrite.Directory) are
 * not checked.
 */
import { createHash, randomUUID } from 'node:crypto';
import forge from 'node-forge';
import { z } from 'zod';
import { GRAPH_APP_ID, SIM_GRAPH_SERVICE_PRINCIPAL_ID, appRoleId, publishedRoles, type SimPermissions } from './permissions.js';
import { GraphSimError } from './responses.js';

/** Directory role templates the simulator knows (template ids as Entra publishes them). */
export const directoryRoleTemplates: Record<string, string> = {
  'baf37b3a-610e-45da-9e62-d9d1e5e8914b': 'Teams Communications Administrator',
  '69091246-20e8-4a56-aa4d-066075b2a7a8': 'Teams Administrator',
  '62e90394-69f5-4237-9190-012177145e10': 'Global Administrator',
  'e8611ab8-c189-46e8-94e1-60213ab1f814': 'Privileged Role Administrator',
};

const KeyCredentialStored = z.object({
  keyId: z.string(),
  type: z.string(),
  usage: z.string(),
  key: z.string(),
  displayName: z.string().nullable(),
  startDateTime: z.string(),
  endDateTime: z.string(),
  thumbprint: z.string(),
});
type StoredKeyCredential = z.infer<typeof KeyCredentialStored>;

export const EntraSimStateSchema = z.object({
  applications: z.array(z.object({ id: z.string(), appId: z.string(), displayName: z.string(), createdDateTime: z.string(), keyCredentials: z.array(KeyCredentialStored) })),
  servicePrincipals: z.array(z.object({ id: z.string(), appId: z.string(), displayName: z.string() })),
  appRoleAssignments: z.array(z.object({ id: z.string(), principalId: z.string(), resourceId: z.string(), appRoleId: z.string(), createdDateTime: z.string() })),
  roleAssignments: z.array(z.object({ id: z.string(), principalId: z.string(), roleDefinitionId: z.string(), directoryScopeId: z.string() })),
});
export type EntraSimState = z.infer<typeof EntraSimStateSchema>;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface EntraAnswer {
  status: number;
  body?: unknown;
}

export class SimEntra {
  private readonly state: EntraSimState;

  constructor(
    private readonly permissions: SimPermissions,
    private readonly now: () => Date,
    saved?: EntraSimState,
  ) {
    this.state = saved ? structuredClone(saved) : { applications: [], servicePrincipals: [], appRoleAssignments: [], roleAssignments: [] };
    // Grants made by an earlier command to the Function App identity count for its requests again.
    for (const a of this.state.appRoleAssignments) {
      if (a.principalId.toLowerCase() === permissions.principalId.toLowerCase()) {
        const role = publishedRoles.find((r) => appRoleId(r) === a.appRoleId);
        if (role) permissions.grant(role);
      }
    }
  }

  exportState(): EntraSimState {
    return structuredClone(this.state);
  }

  /** Answers the request when it is one of these routes; undefined otherwise (SimPermissions and the rest take it). */
  handle(method: string, path: string, search: URLSearchParams, body: () => Promise<unknown>, baseUrl: string): Promise<EntraAnswer> | undefined {
    const p = safeDecode(path).replace(/^\/v1\.0/, '');
    if (/^\/applications/i.test(p)) return this.applications(method, p.slice('/applications'.length), search, body, baseUrl);
    if (/^\/roleManagement\/directory\/roleAssignments\/?$/i.test(p)) return this.roleAssignments(method, search, body, baseUrl);
    // The appId alternate key, as Graph serves it: 404 when the app has no service principal here (no consent).
    const byAppId = /^\/servicePrincipals\(appId='([^']+)'\)\/?$/i.exec(p);
    // (Microsoft Graph's own service principal, with its app roles, is SimPermissions'.)
    if (byAppId && method === 'GET' && byAppId[1]?.toLowerCase() !== GRAPH_APP_ID) {
      const appId = byAppId[1] ?? '';
      const found = this.state.servicePrincipals.find((s) => s.appId.toLowerCase() === appId.toLowerCase());
      if (!found) return Promise.reject(notFound(`appId='${appId}'`));
      return Promise.resolve({ status: 200, body: { '@odata.context': `${baseUrl}/$metadata#servicePrincipals/$entity`, ...spView(found) } });
    }
    const sp = /^\/servicePrincipals(\/([^/]+)(\/appRoleAssignments)?)?\/?$/i.exec(p);
    if (!sp) return undefined;
    const id = sp[2];
    if (id === undefined) {
      if (method === 'GET' && search.has('$filter')) return Promise.resolve(this.listServicePrincipals(search, baseUrl));
      if (method === 'POST') return this.createServicePrincipal(body);
      return undefined;
    }
    if (sp[3] && method === 'POST') return this.assignAppRole(id, body);
    const own = this.state.servicePrincipals.find((s) => s.id.toLowerCase() === id.toLowerCase());
    if (own && method === 'GET') {
      if (sp[3]) return Promise.resolve({ status: 200, body: { value: this.state.appRoleAssignments.filter((a) => a.principalId === own.id).map((a) => this.assignmentView(a)) } });
      return Promise.resolve({ status: 200, body: { '@odata.context': `${baseUrl}/$metadata#servicePrincipals/$entity`, ...spView(own) } });
    }
    return undefined;
  }

  private async applications(method: string, rest: string, search: URLSearchParams, body: () => Promise<unknown>, baseUrl: string): Promise<EntraAnswer> {
    if (rest === '' || rest === '/') {
      if (method === 'GET') {
        const filter = parseEq(search.get('$filter'), ['displayName', 'appId'], 'Application');
        const value = this.state.applications.filter((a) => !filter || (filter.property === 'displayName' ? a.displayName === filter.value : a.appId.toLowerCase() === filter.value.toLowerCase()));
        return { status: 200, body: { '@odata.context': `${baseUrl}/$metadata#applications`, value: value.map((a) => appView(a, false)) } };
      }
      if (method === 'POST') {
        const input = object(await body());
        const displayName = input['displayName'];
        if (typeof displayName !== 'string' || displayName.trim() === '' || displayName.length > 256) throw invalid('displayName', 'Application');
        const app = { id: randomUUID(), appId: randomUUID(), displayName, createdDateTime: this.now().toISOString(), keyCredentials: [] as StoredKeyCredential[] };
        if (input['keyCredentials'] !== undefined) app.keyCredentials = this.keyCredentials(input['keyCredentials']);
        this.state.applications.push(app);
        return { status: 201, body: { '@odata.context': `${baseUrl}/$metadata#applications/$entity`, ...appView(app, false) } };
      }
      throw new GraphSimError(405, 'Request_BadRequest', `The simulator does not serve ${method} /applications.`);
    }
    const byAppId = /^\(appId='([^']+)'\)$/i.exec(rest);
    const byId = /^\/([^/]+)$/.exec(rest);
    const key = byAppId?.[1] ?? byId?.[1];
    if (key === undefined) throw new GraphSimError(400, 'BadRequest', `Resource not found for the segment '${rest.split('/').pop() ?? ''}'.`);
    const app = this.state.applications.find((a) => (byAppId ? a.appId : a.id).toLowerCase() === key.toLowerCase());
    if (!app) throw notFound(key);
    if (method === 'GET') {
      const select = (search.get('$select') ?? '').split(',').map((s) => s.trim().toLowerCase());
      return { status: 200, body: { '@odata.context': `${baseUrl}/$metadata#applications/$entity`, ...appView(app, select.includes('keycredentials')) } };
    }
    if (method === 'PATCH') {
      const input = object(await body());
      for (const k of Object.keys(input)) {
        if (k !== 'keyCredentials' && k !== 'displayName') throw new GraphSimError(400, 'Request_BadRequest', `The simulator updates only keyCredentials and displayName, not '${k}'.`);
      }
      if (input['displayName'] !== undefined) {
        if (typeof input['displayName'] !== 'string' || input['displayName'].trim() === '') throw invalid('displayName', 'Application');
        app.displayName = input['displayName'];
      }
      // PATCH replaces the whole collection, as Graph does: what the request leaves out is removed.
      if (input['keyCredentials'] !== undefined) app.keyCredentials = this.keyCredentials(input['keyCredentials'], app.keyCredentials);
      return { status: 204 };
    }
    throw new GraphSimError(405, 'Request_BadRequest', `The simulator does not serve ${method} on an application.`);
  }

  private keyCredentials(raw: unknown, existing: StoredKeyCredential[] = []): StoredKeyCredential[] {
    if (!Array.isArray(raw)) throw invalid('keyCredentials', 'Application');
    const out: StoredKeyCredential[] = [];
    for (const entry of raw) {
      const c = object(entry);
      if (c['type'] !== 'AsymmetricX509Cert') throw invalid('keyCredentials.type', 'Application');
      if (c['usage'] !== 'Verify') throw invalid('keyCredentials.usage', 'Application');
      if (typeof c['key'] !== 'string' || c['key'] === '') throw invalid('keyCredentials.key', 'Application');
      const cert = readCertificate(c['key']);
      if (!cert) throw new GraphSimError(400, 'Request_BadRequest', "Invalid value specified for property 'keyCredentials.key' of resource 'Application': not a base64 X.509 certificate.");
      const start = c['startDateTime'] === undefined ? cert.notBefore : new Date(String(c['startDateTime']));
      const end = c['endDateTime'] === undefined ? cert.notAfter : new Date(String(c['endDateTime']));
      if (Number.isNaN(start.getTime()) || start < cert.notBefore) throw new GraphSimError(400, 'Request_BadRequest', 'Key credential start date is invalid.');
      if (Number.isNaN(end.getTime()) || end > cert.notAfter || end <= start) throw new GraphSimError(400, 'Request_BadRequest', 'Key credential end date is invalid.');
      const keyId = c['keyId'] === undefined ? randomUUID() : String(c['keyId']);
      if (!GUID.test(keyId)) throw invalid('keyCredentials.keyId', 'Application');
      if (out.some((o) => o.keyId.toLowerCase() === keyId.toLowerCase() || o.thumbprint === cert.thumbprint)) {
        throw new GraphSimError(400, 'Request_BadRequest', "Invalid value specified for property 'keyCredentials' of resource 'Application': a key credential is listed twice.");
      }
      const displayName = typeof c['displayName'] === 'string' ? c['displayName'].slice(0, 90) : null;
      const kept = existing.find((e) => e.keyId.toLowerCase() === keyId.toLowerCase());
      if (kept && kept.thumbprint !== cert.thumbprint) throw new GraphSimError(400, 'Request_BadRequest', 'A key credential cannot change its key: give the new key a new keyId.');
      out.push({ keyId, type: 'AsymmetricX509Cert', usage: 'Verify', key: c['key'], displayName, startDateTime: start.toISOString(), endDateTime: end.toISOString(), thumbprint: cert.thumbprint });
    }
    return out;
  }

  private listServicePrincipals(search: URLSearchParams, baseUrl: string): EntraAnswer {
    const filter = parseEq(search.get('$filter'), ['appId'], 'ServicePrincipal');
    const value: Record<string, unknown>[] = this.state.servicePrincipals.filter((s) => !filter || s.appId.toLowerCase() === filter.value.toLowerCase()).map(spView);
    if (filter?.value.toLowerCase() === GRAPH_APP_ID) value.push({ id: SIM_GRAPH_SERVICE_PRINCIPAL_ID, appId: GRAPH_APP_ID, displayName: 'Microsoft Graph', servicePrincipalType: 'Application', accountEnabled: true });
    return { status: 200, body: { '@odata.context': `${baseUrl}/$metadata#servicePrincipals`, value } };
  }

  private async createServicePrincipal(body: () => Promise<unknown>): Promise<EntraAnswer> {
    const input = object(await body());
    const appId = input['appId'];
    if (typeof appId !== 'string' || !GUID.test(appId)) throw invalid('appId', 'ServicePrincipal');
    const app = this.state.applications.find((a) => a.appId.toLowerCase() === appId.toLowerCase());
    if (!app) throw new GraphSimError(400, 'Request_BadRequest', `The appId '${appId}' of the service principal does not reference a valid application object.`);
    if (this.state.servicePrincipals.some((s) => s.appId.toLowerCase() === appId.toLowerCase())) {
      throw new GraphSimError(409, 'Request_MultipleObjectsWithSameKeyValue', 'The service principal cannot be created, updated, or restored because the service principal name is already in use.');
    }
    const sp = { id: randomUUID(), appId: app.appId, displayName: app.displayName };
    this.state.servicePrincipals.push(sp);
    return { status: 201, body: spView(sp) };
  }

  private async assignAppRole(pathId: string, body: () => Promise<unknown>): Promise<EntraAnswer> {
    const principal = this.principal(pathId);
    const input = object(await body());
    for (const field of ['principalId', 'resourceId', 'appRoleId'] as const) {
      if (typeof input[field] !== 'string' || !GUID.test(input[field])) throw invalid(field, 'AppRoleAssignment');
    }
    const { principalId, resourceId, appRoleId: roleId } = input as Record<'principalId' | 'resourceId' | 'appRoleId', string>;
    if (principalId.toLowerCase() !== principal.toLowerCase()) throw invalid('principalId', 'AppRoleAssignment');
    if (resourceId.toLowerCase() !== SIM_GRAPH_SERVICE_PRINCIPAL_ID) throw notFound(resourceId);
    const role = publishedRoles.find((r) => appRoleId(r) === roleId.toLowerCase());
    if (!role) throw new GraphSimError(400, 'Request_BadRequest', `Permission being assigned was not found on application '${GRAPH_APP_ID}'.`);
    const isFunction = principal.toLowerCase() === this.permissions.principalId.toLowerCase();
    const exists = isFunction ? this.permissions.holds(role) : this.state.appRoleAssignments.some((a) => a.principalId === principal && a.appRoleId === roleId.toLowerCase());
    if (exists) throw new GraphSimError(400, 'Request_BadRequest', 'Permission being assigned already exists on the object');
    const assignment = { id: createHash('sha256').update(`${principal}|${role}`).digest('base64url').slice(0, 43), principalId: principal, resourceId: SIM_GRAPH_SERVICE_PRINCIPAL_ID, appRoleId: roleId.toLowerCase(), createdDateTime: this.now().toISOString() };
    this.state.appRoleAssignments.push(assignment);
    if (isFunction) this.permissions.grant(role);
    return { status: 201, body: this.assignmentView(assignment) };
  }

  private async roleAssignments(method: string, search: URLSearchParams, body: () => Promise<unknown>, baseUrl: string): Promise<EntraAnswer> {
    if (method === 'GET') {
      const filters = (search.get('$filter') ?? '').split(/\s+and\s+/i).filter((f) => f.trim() !== '').map((f) => parseEq(f, ['principalId', 'roleDefinitionId'], 'UnifiedRoleAssignment'));
      const value = this.state.roleAssignments.filter((r) => filters.every((f) => !f || r[f.property as 'principalId' | 'roleDefinitionId'].toLowerCase() === f.value.toLowerCase()));
      return { status: 200, body: { '@odata.context': `${baseUrl}/$metadata#roleManagement/directory/roleAssignments`, value } };
    }
    if (method !== 'POST') throw new GraphSimError(405, 'Request_BadRequest', `The simulator does not serve ${method} on role assignments.`);
    const input = object(await body());
    for (const field of ['principalId', 'roleDefinitionId'] as const) {
      if (typeof input[field] !== 'string' || !GUID.test(input[field])) throw invalid(field, 'UnifiedRoleAssignment');
    }
    if (typeof input['directoryScopeId'] !== 'string' || !input['directoryScopeId'].startsWith('/')) throw invalid('directoryScopeId', 'UnifiedRoleAssignment');
    const principalId = this.principal(input['principalId'] as string);
    const roleDefinitionId = (input['roleDefinitionId'] as string).toLowerCase();
    if (!directoryRoleTemplates[roleDefinitionId]) throw notFound(roleDefinitionId);
    const directoryScopeId = input['directoryScopeId'];
    if (this.state.roleAssignments.some((r) => r.principalId === principalId && r.roleDefinitionId === roleDefinitionId && r.directoryScopeId === directoryScopeId)) {
      throw new GraphSimError(400, 'Request_BadRequest', 'A conflicting object with one or more of the specified property values is present in the directory.');
    }
    const assignment = { id: randomUUID(), principalId, roleDefinitionId, directoryScopeId };
    this.state.roleAssignments.push(assignment);
    return { status: 201, body: { '@odata.context': `${baseUrl}/$metadata#roleManagement/directory/roleAssignments/$entity`, ...assignment } };
  }

  /** A service principal the simulated directory holds: one created here, or the Function App identity. */
  private principal(id: string): string {
    if (id.toLowerCase() === this.permissions.principalId.toLowerCase()) return this.permissions.principalId;
    const own = this.state.servicePrincipals.find((s) => s.id.toLowerCase() === id.toLowerCase());
    if (!own) throw notFound(id);
    return own.id;
  }

  private assignmentView(a: EntraSimState['appRoleAssignments'][number]): Record<string, unknown> {
    return { ...a, deletedDateTime: null, principalType: 'ServicePrincipal', resourceDisplayName: 'Microsoft Graph' };
  }
}

function appView(app: EntraSimState['applications'][number], withKeys: boolean): Record<string, unknown> {
  return {
    id: app.id,
    appId: app.appId,
    displayName: app.displayName,
    createdDateTime: app.createdDateTime,
    signInAudience: 'AzureADMyOrg',
    keyCredentials: app.keyCredentials.map((k) => ({
      customKeyIdentifier: Buffer.from(k.thumbprint, 'hex').toString('base64'),
      displayName: k.displayName,
      endDateTime: k.endDateTime,
      key: withKeys ? k.key : null,
      keyId: k.keyId,
      startDateTime: k.startDateTime,
      type: k.type,
      usage: k.usage,
    })),
  };
}

function spView(sp: EntraSimState['servicePrincipals'][number]): Record<string, unknown> {
  return { id: sp.id, appId: sp.appId, displayName: sp.displayName, servicePrincipalType: 'Application', accountEnabled: true };
}

function readCertificate(base64: string): { thumbprint: string; notBefore: Date; notAfter: Date } | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return undefined;
  try {
    const der = forge.util.decode64(base64);
    const cert = forge.pki.certificateFromAsn1(forge.asn1.fromDer(der));
    return { thumbprint: createHash('sha1').update(Buffer.from(der, 'binary')).digest('hex').toUpperCase(), notBefore: cert.validity.notBefore, notAfter: cert.validity.notAfter };
  } catch {
    return undefined;
  }
}

function object(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new GraphSimError(400, 'BadRequest', 'Empty Payload. JSON content expected.');
  return value as Record<string, unknown>;
}

function invalid(property: string, resource: string): GraphSimError {
  return new GraphSimError(400, 'Request_BadRequest', `Invalid value specified for property '${property}' of resource '${resource}'.`);
}

function notFound(key: string): GraphSimError {
  return new GraphSimError(404, 'Request_ResourceNotFound', `Resource '${key}' does not exist or one of its queried reference-property objects are not present.`);
}

function parseEq(raw: string | null, properties: string[], resource: string): { property: string; value: string } | undefined {
  if (raw === null || raw.trim() === '') return undefined;
  const match = /^\s*([A-Za-z]+)\s+eq\s+'((?:[^']|'')*)'\s*$/.exec(raw);
  const property = properties.find((p) => p.toLowerCase() === match?.[1]?.toLowerCase());
  if (!match || !property) throw new GraphSimError(400, 'Request_UnsupportedQuery', `Unsupported or invalid query filter clause specified for resource '${resource}'.`);
  return { property, value: (match[2] ?? '').replace(/''/g, "'") };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
