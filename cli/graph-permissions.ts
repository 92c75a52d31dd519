import { z } from 'zod';
import type { GraphPermissionFacts } from '../shared/domain/doctor.js';

const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';

const GraphSpSchema = z.object({
  id: z.string(),
  appRoles: z.array(z.object({ id: z.string(), value: z.string().nullable().optional(), allowedMemberTypes: z.array(z.string()) })),
});
const AssignmentsSchema = z.object({ value: z.array(z.object({ appRoleId: z.string(), resourceId: z.string() })).max(10_000) });

/** The Function App identity's appRoleAssignments and Graph's application roles: the same reads against Graph and its simulator. */
export async function readGraphPermissions(
  get: <T>(path: string, schema: z.ZodType<T>) => Promise<T>,
  principalId: string,
): Promise<GraphPermissionFacts> {
  const sp = await get(`/servicePrincipals(appId='${GRAPH_APP_ID}')?$select=id,appRoles`, GraphSpSchema);
  const assignments = await get(`/servicePrincipals/${encodeURIComponent(principalId)}/appRoleAssignments`, AssignmentsSchema);
  return {
    principalId,
    graphServicePrincipalId: sp.id,
    appRoles: sp.appRoles.filter((r) => r.allowedMemberTypes.includes('Application')).map((r) => ({ id: r.id, value: r.value ?? null })),
    assignments: assignments.value,
  };
}
