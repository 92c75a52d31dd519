import { ResponseType } from '@microsoft/microsoft-graph-client';
import { z } from 'zod';
import { DialtoneError, isDialtoneError } from '../domain/errors.js';
import type {
  NumberAssignmentRequest,
  NumberOperation,
  NumberUnassignmentRequest,
  PolicyUserAssignment,
  TeamsAdmin,
  TeamsUserConfiguration,
  TenantNumber,
} from '../ports/teams-admin.js';
import { createGraphClient, graphCalls, type GraphClientOptions } from './graph-client.js';
import { toGraphDialtoneError } from './graph-errors.js';

export interface GraphTeamsAdminOptions extends GraphClientOptions {
  /** Delay to ask for when Graph throttles or fails without Retry-After (default 30 s). */
  defaultRetryAfterMs?: number;
}

const ConfigurationSchema = z.object({
  id: z.string().min(1).max(128),
  userPrincipalName: z.string().max(1024).nullable().optional(),
  featureTypes: z.array(z.string().max(200)).max(200).nullable().optional(),
  isEnterpriseVoiceEnabled: z.boolean().nullable().optional(),
  telephoneNumbers: z
    .array(z.object({ telephoneNumber: z.string().max(64), assignmentCategory: z.string().max(64).nullable().optional() }))
    .max(100)
    .nullable()
    .optional(),
  effectivePolicyAssignments: z
    .array(
      z.object({
        policyType: z.string().max(200),
        policyAssignment: z
          .object({
            displayName: z.string().max(1024).nullable().optional(),
            policyId: z.string().max(1024).nullable().optional(),
            assignmentType: z.string().max(64).nullable().optional(),
          })
          .nullable()
          .optional(),
      }),
    )
    .max(500)
    .nullable()
    .optional(),
});

const OperationSchema = z.object({
  id: z.string().max(512).optional(),
  status: z.string().max(64),
  numbers: z
    .array(z.object({ status: z.string().max(64).nullable().optional(), statusDetail: z.string().max(4096).nullable().optional() }))
    .nullable()
    .optional(),
});

const NumberPageSchema = z.object({
  value: z.array(
    z.object({
      telephoneNumber: z.string().max(64),
      assignmentTargetId: z.string().max(128).nullable().optional(),
      activationState: z.string().max(64).nullable().optional(),
    }),
  ),
});

const PolicyIdPageSchema = z.object({ value: z.array(z.object({ name: z.string().nullable().optional(), policyId: z.string().max(1024) })) });

/** Operation ids are base64-like tokens; anything else in a Location header is refused, not followed. */
const OPERATION_ID = /^[A-Za-z0-9+/=_-]{1,400}$/;
const operationPath = (id: string) => `/admin/teams/telephoneNumberManagement/operations('${id}')`;
const odataString = (value: string) => `'${value.replace(/'/g, "''")}'`;

/** The TeamsAdmin port over Microsoft Graph v1.0 `/admin/teams`, one request per call, no in-process retries. */
export function createGraphTeamsAdmin(options: GraphTeamsAdminOptions): TeamsAdmin {
  const { client } = createGraphClient(options);
  const defaultRetryAfterMs = options.defaultRetryAfterMs ?? 30_000;

  const { call } = graphCalls(defaultRetryAfterMs);
  /** A GET whose body must match `schema`: a failure is the usual DialtoneError, a malformed body `Unexpected`. */
  const get = <T>(operation: string, path: string, schema: z.ZodType<T>, what: string): Promise<T> => call(operation, () => client.api(path).get(), schema, what);

  /** POST, raw, so a 202's Location can be read; a non-2xx answer becomes the usual DialtoneError. */
  const post = async (operation: string, path: string, body: unknown): Promise<Response> => {
    let response: Response;
    try {
      response = (await client.api(path).responseType(ResponseType.RAW).post(body)) as Response;
    } catch (error) {
      throw toGraphDialtoneError(error, operation, defaultRetryAfterMs);
    }
    if (response.ok) return response;
    const text = await response.text().catch(() => '');
    let code: string | null = null;
    let message = text.slice(0, 500);
    try {
      const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
      code = typeof parsed.error?.code === 'string' ? parsed.error.code : null;
      message = typeof parsed.error?.message === 'string' ? parsed.error.message : message;
    } catch {
      // not JSON: keep the text
    }
    throw toGraphDialtoneError({ statusCode: response.status, code, message, headers: response.headers }, operation, defaultRetryAfterMs);
  };

  const startOperation = async (operation: string, path: string, body: unknown): Promise<{ operationId: string }> => {
    let response: Response;
    try {
      response = await post(operation, path, body);
    } catch (error) {
      if (isDialtoneError(error) && error.details.status === 409) {
        throw new DialtoneError('NumberConflict', `Graph ${operation}: ${error.message}`, { details: error.details });
      }
      throw error;
    }
    const location = response.headers.get('location') ?? '';
    const id = /operations\('([^']+)'\)/.exec(location)?.[1] ?? '';
    if (response.status !== 202 || !OPERATION_ID.test(id)) {
      throw new DialtoneError('Unexpected', `Graph ${operation} answered ${response.status} without an operation Location`, {
        details: { status: response.status },
      });
    }
    return { operationId: id };
  };

  const policyCall = async (operation: string, path: string, assignments: PolicyUserAssignment[]): Promise<void> => {
    if (assignments.length === 0) return;
    try {
      await post(operation, path, { value: assignments.map((a) => ({ '@odata.type': '#microsoft.graph.teamsAdministration.teamsPolicyUserAssignment', ...a })) });
    } catch (error) {
      // Which policy types the API accepts is not documented: a 400 that names one of ours is a refusal of that type.
      if (isDialtoneError(error) && error.details.status === 400) {
        const refused = assignments.find((a) => error.message.toLowerCase().includes(a.policyType.toLowerCase()));
        if (refused) {
          throw new DialtoneError('GraphUnsupported', `Graph refused policy type ${refused.policyType}: ${error.message}`, {
            details: { ...error.details, policyType: refused.policyType },
          });
        }
      }
      throw error;
    }
  };

  return {
    async userConfiguration(userId: string): Promise<TeamsUserConfiguration | null> {
      let c: z.infer<typeof ConfigurationSchema>;
      try {
        c = await get('read Teams user configuration', `/admin/teams/userConfigurations/${encodeURIComponent(userId)}`, ConfigurationSchema, 'Teams user configuration');
      } catch (error) {
        if (isDialtoneError(error) && error.details.status === 404) return null;
        throw error;
      }
      return {
        id: c.id,
        userPrincipalName: c.userPrincipalName ?? null,
        featureTypes: c.featureTypes ?? [],
        isEnterpriseVoiceEnabled: c.isEnterpriseVoiceEnabled ?? false,
        telephoneNumbers: (c.telephoneNumbers ?? []).map((t) => ({ telephoneNumber: t.telephoneNumber, assignmentCategory: t.assignmentCategory ?? null })),
        effectivePolicyAssignments: (c.effectivePolicyAssignments ?? []).map((a) => ({
          policyType: a.policyType,
          displayName: a.policyAssignment?.displayName ?? null,
          policyId: a.policyAssignment?.policyId ?? null,
          assignmentType: a.policyAssignment?.assignmentType ?? null,
        })),
      };
    },

    assignNumber: (request: NumberAssignmentRequest) =>
      startOperation('assign number', '/admin/teams/telephoneNumberManagement/numberAssignments/assignNumber', request),

    unassignNumber: (request: NumberUnassignmentRequest) =>
      startOperation('unassign number', '/admin/teams/telephoneNumberManagement/numberAssignments/unassignNumber', request),

    async operation(operationId: string): Promise<NumberOperation> {
      if (!OPERATION_ID.test(operationId)) throw new DialtoneError('InvalidMessage', `not a Graph operation id: '${operationId.slice(0, 40)}'`);
      const op = await get('read number operation', operationPath(operationId), OperationSchema, 'number operation');
      const detail = op.numbers?.find((n) => n.statusDetail)?.statusDetail ?? null;
      return { id: op.id ?? operationId, status: op.status, detail };
    },

    async number(telephoneNumber: string): Promise<TenantNumber | null> {
      const filter = encodeURIComponent(`telephoneNumber eq ${odataString(telephoneNumber)}`);
      const page = await get('find number', `/admin/teams/telephoneNumberManagement/numberAssignments?$filter=${filter}`, NumberPageSchema, 'numbers page');
      const row = page.value[0];
      return row === undefined
        ? null
        : { telephoneNumber: row.telephoneNumber, assignmentTargetId: row.assignmentTargetId ?? null, activationState: row.activationState ?? null };
    },

    async policyId(policyType: string, name: string): Promise<string | null> {
      const path = `/admin/teams/policy/getPolicyId(type=${encodeURIComponent(odataString(policyType))},name=${encodeURIComponent(odataString(name))})`;
      let page: z.infer<typeof PolicyIdPageSchema>;
      try {
        page = await get('resolve policy id', path, PolicyIdPageSchema, 'policy id');
      } catch (error) {
        if (isDialtoneError(error) && error.details.status === 404) return null;
        if (isDialtoneError(error) && error.details.status === 400 && error.message.toLowerCase().includes(policyType.toLowerCase())) {
          throw new DialtoneError('GraphUnsupported', `Graph refused policy type ${policyType}: ${error.message}`, { details: { ...error.details, policyType } });
        }
        throw error;
      }
      return page.value.find((p) => (p.name ?? '').toLowerCase() === name.toLowerCase())?.policyId ?? page.value[0]?.policyId ?? null;
    },

    assignPolicies: (assignments) => policyCall('assign policies', '/admin/teams/policy/userAssignments/assign', assignments),
    unassignPolicies: (assignments) => policyCall('unassign policies', '/admin/teams/policy/userAssignments/unassign', assignments),
  };
}
