import { z } from 'zod';
import type { AppKeyCredential, AppRegistration, EntraAdmin, NewKeyCredential } from '../ports/entra-admin.js';
import { createGraphClient, graphCalls, type GraphClientOptions } from './graph-client.js';

const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';

const AppSchema = z.object({ id: z.string(), appId: z.string(), displayName: z.string() });
const AppsSchema = z.object({ value: z.array(AppSchema).max(1000) });
const KeyCredentialSchema = z.object({
  keyId: z.string(),
  displayName: z.string().nullable(),
  customKeyIdentifier: z.string().nullable(),
  startDateTime: z.string(),
  endDateTime: z.string(),
  key: z.string().nullable(),
  type: z.string(),
});
const AppKeysSchema = z.object({ keyCredentials: z.array(KeyCredentialSchema).max(1000) });
const IdSchema = z.object({ id: z.string() });
const IdsSchema = z.object({ value: z.array(IdSchema).max(1000) });
const GraphSpSchema = z.object({ id: z.string(), appRoles: z.array(z.object({ id: z.string(), value: z.string().nullable().optional(), allowedMemberTypes: z.array(z.string()) })) });
const AssignmentsSchema = z.object({ value: z.array(z.object({ appRoleId: z.string(), resourceId: z.string() })).max(10_000) });
const RoleAssignmentsSchema = z.object({ value: z.array(z.object({ roleDefinitionId: z.string(), directoryScopeId: z.string() })).max(10_000) });

const quote = (value: string): string => `'${value.replace(/'/g, "''")}'`;

/** customKeyIdentifier is the certificate's SHA-1 thumbprint, base64 in JSON. */
function thumbprintOf(customKeyIdentifier: string | null): string {
  if (!customKeyIdentifier) return '';
  return Buffer.from(customKeyIdentifier, 'base64').toString('hex').toUpperCase();
}

/** Entra applications, service principals and role assignments through the retry-free Graph client. */
export function createGraphEntraAdmin(options: GraphClientOptions & { defaultRetryAfterMs?: number }): EntraAdmin {
  const { client } = createGraphClient(options);
  const { call, send } = graphCalls(options.defaultRetryAfterMs ?? 30_000);
  const view = (a: z.infer<typeof AppSchema>): AppRegistration => ({ id: a.id, appId: a.appId, displayName: a.displayName });
  return {
    findApplication: async (displayName) =>
      (await call('find application', () => client.api('/applications').filter(`displayName eq ${quote(displayName)}`).select('id,appId,displayName').get(), AppsSchema, 'applications')).value.map(view),
    getApplicationByAppId: async (appId) =>
      (await call('find application', () => client.api('/applications').filter(`appId eq ${quote(appId)}`).select('id,appId,displayName').get(), AppsSchema, 'applications')).value.map(view)[0],
    createApplication: async (displayName) => view(await call('create application', () => client.api('/applications').post({ displayName, signInAudience: 'AzureADMyOrg' }), AppSchema, 'application')),
    keyCredentials: async (id): Promise<AppKeyCredential[]> => {
      const app = await call('read key credentials', () => client.api(`/applications/${encodeURIComponent(id)}`).select('keyCredentials').get(), AppKeysSchema, 'application');
      return app.keyCredentials
        .filter((k) => k.type === 'AsymmetricX509Cert')
        .map((k) => ({ keyId: k.keyId, displayName: k.displayName, thumbprint: thumbprintOf(k.customKeyIdentifier), startDateTime: k.startDateTime, endDateTime: k.endDateTime, key: k.key ?? '' }));
    },
    setKeyCredentials: (id, credentials: (NewKeyCredential | AppKeyCredential)[]) =>
      send('update key credentials', () =>
        client.api(`/applications/${encodeURIComponent(id)}`).patch({
          keyCredentials: credentials.map((c) => ({
            ...(c.keyId ? { keyId: c.keyId } : {}),
            type: 'AsymmetricX509Cert',
            usage: 'Verify',
            key: c.key,
            displayName: c.displayName,
            startDateTime: c.startDateTime,
            endDateTime: c.endDateTime,
          })),
        }),
      ),
    findServicePrincipal: async (appId) =>
      (await call('find service principal', () => client.api('/servicePrincipals').filter(`appId eq ${quote(appId)}`).select('id').get(), IdsSchema, 'service principals')).value[0],
    createServicePrincipal: (appId) => call('create service principal', () => client.api('/servicePrincipals').post({ appId }), IdSchema, 'service principal'),
    graphServicePrincipal: async () => {
      const sp = await call('find Microsoft Graph', () => client.api(`/servicePrincipals(appId='${GRAPH_APP_ID}')`).select('id,appRoles').get(), GraphSpSchema, 'service principal');
      return { id: sp.id, appRoles: sp.appRoles.filter((r) => r.allowedMemberTypes.includes('Application')).map((r) => ({ id: r.id, value: r.value ?? null })) };
    },
    appRoleAssignments: async (principalId) =>
      (await call('read app role assignments', () => client.api(`/servicePrincipals/${encodeURIComponent(principalId)}/appRoleAssignments`).get(), AssignmentsSchema, 'app role assignments')).value,
    assignAppRole: (principalId, resourceId, appRoleId) =>
      send('grant app role', () => client.api(`/servicePrincipals/${encodeURIComponent(principalId)}/appRoleAssignments`).post({ principalId, resourceId, appRoleId })),
    directoryRoleAssignments: async (principalId) =>
      (
        await call(
          'read directory role assignments',
          () => client.api('/roleManagement/directory/roleAssignments').filter(`principalId eq ${quote(principalId)}`).get(),
          RoleAssignmentsSchema,
          'role assignments',
        )
      ).value,
    assignDirectoryRole: (principalId, roleDefinitionId, directoryScopeId) =>
      send('assign directory role', () => client.api('/roleManagement/directory/roleAssignments').post({ principalId, roleDefinitionId, directoryScopeId })),
  };
}
