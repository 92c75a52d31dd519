/**
 * Graph's Teams administration endpoints (`/v1.0/admin/teams/...`) over the same simulated
 * Teams tenant the pwsh stand-ins use, so both backends see one tenant. Shapes and status codes
 * follow the v1.0 reference: user configurations; number assignment and unassignment as
 * asynchronous operations (202 + Location, notStarted → running → succeeded / failed, the
 * number `assignmentPending` meanwhile, 409 for a number another user holds); getPolicyId and
 * batched user policy assignment (204). Operations complete on the sandbox clock.
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../../shared/ports/clock.js';
import { policyTypes, type PolicyType } from '../../shared/domain/voice-state.js';
import { CmdletError } from '../teams-sim/cmdlet-error.js';
import type { SimTenant } from '../teams-sim/tenant.js';
import { GraphSimError } from './responses.js';

export interface TeamsAdminSimOptions {
  /** Sandbox ms from accepting a number order to its outcome (default 5 s). */
  operationMs?: number;
  /** Policy types userAssignments/assign refuses with 400 (the API's coverage is undocumented). */
  refusedPolicyTypes?: readonly string[];
}

interface Operation {
  id: string;
  kind: 'assign' | 'unassign';
  number: string;
  userId: string | null;
  createdAt: number;
  dueAt: number;
  status: 'notStarted' | 'running' | 'succeeded' | 'failed';
  detail: string | null;
}

export interface TeamsAdminAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

const ADMIN = /^\/v1\.0\/admin\/teams\/(.+)$/;
const numberTypes = ['directRouting', 'callingPlan', 'operatorConnect'];

export class SimTeamsAdmin {
  private readonly operations = new Map<string, Operation>();
  /** Orders not finished yet, by number: what settle() and the pending checks look at. */
  private readonly active = new Map<string, Operation>();
  private readonly operationMs: number;
  private readonly refused: Set<string>;
  private sequence = 0;

  constructor(
    private readonly tenant: SimTenant,
    private readonly clock: Clock,
    options: TeamsAdminSimOptions = {},
  ) {
    this.operationMs = options.operationMs ?? 5_000;
    this.refused = new Set((options.refusedPolicyTypes ?? []).map((t) => t.toLowerCase()));
  }

  /** Undefined when the path is not under /admin/teams (the caller's other routes apply). */
  handle(method: string, pathname: string, search: URLSearchParams, body: unknown, baseUrl: string): TeamsAdminAnswer | undefined {
    const match = ADMIN.exec(pathname);
    if (!match) return undefined;
    this.settle();
    const rest = decodeURIComponent(match[1] ?? '');
    const user = /^userConfigurations\/([^/]+)$/.exec(rest);
    if (method === 'GET' && user) return { status: 200, body: this.configuration(user[1] ?? '', baseUrl) };
    if (method === 'POST' && rest === 'telephoneNumberManagement/numberAssignments/assignNumber') return this.assign(body, baseUrl);
    if (method === 'POST' && rest === 'telephoneNumberManagement/numberAssignments/unassignNumber') return this.unassign(body, baseUrl);
    if (method === 'GET' && rest === 'telephoneNumberManagement/numberAssignments') return { status: 200, body: this.numbers(search, baseUrl) };
    const op = /^telephoneNumberManagement\/operations\('([^']+)'\)$/.exec(rest);
    if (method === 'GET' && op) return { status: 200, body: this.operation(op[1] ?? '', baseUrl) };
    const policy = /^policy\/getPolicyId\(type='((?:[^']|'')*)',name='((?:[^']|'')*)'\)$/.exec(rest);
    if (method === 'GET' && policy) return { status: 200, body: this.policyId(unquote(policy[1] ?? ''), unquote(policy[2] ?? '')) };
    if (method === 'POST' && rest === 'policy/userAssignments/assign') return this.policyAssignments(body, 'assign');
    if (method === 'POST' && rest === 'policy/userAssignments/unassign') return this.policyAssignments(body, 'unassign');
    throw new GraphSimError(400, 'BadRequest', `Resource not found for the segment '${rest.split('/').pop() ?? ''}'.`);
  }

  /** Completes every operation whose time has come (lazily, on each request). */
  settle(): void {
    const now = this.clock.now().getTime();
    for (const op of this.active.values()) {
      if (now < op.dueAt) {
        op.status = 'running';
        continue;
      }
      try {
        if (op.kind === 'assign') this.tenant.assignNumber('Set-CsPhoneNumberAssignment', op.userId ?? '', op.number, 'DirectRouting');
        else {
          const holder = this.row(op.number)?.AssignedPstnTargetId ?? null;
          if (holder === null) throw new GraphSimError(400, 'BadRequest', `Telephone number '${op.number}' is not assigned.`);
          this.tenant.removeNumber('Remove-CsPhoneNumberAssignment', holder, op.number, 'DirectRouting');
        }
        op.status = 'succeeded';
      } catch (error) {
        op.status = 'failed';
        op.detail = error instanceof Error ? error.message : String(error);
      }
      this.active.delete(op.number);
    }
  }

  private configuration(id: string, baseUrl: string): Record<string, unknown> {
    const user = this.onlineUser(id);
    const userId = String(user.Identity);
    const telephoneNumbers = this.tenant
      .findAssignments('Get-CsPhoneNumberAssignment', { assignedPstnTargetId: userId })
      .map((r) => ({ telephoneNumber: r.TelephoneNumber, assignmentCategory: (r.AssignmentCategory ?? 'Primary').toLowerCase() }));
    const effectivePolicyAssignments = policyTypes.map((type) => {
      const assigned = user[type] as { Name?: string } | null;
      const name = assigned?.Name ?? 'Global';
      return {
        policyType: type,
        policyAssignment: { displayName: name, policyId: policyIdOf(type, name), assignmentType: assigned ? 'direct' : null, groupId: null },
      };
    });
    return {
      '@odata.context': `${baseUrl}/$metadata#admin/teams/userConfigurations/$entity`,
      id: userId,
      userPrincipalName: user.UserPrincipalName,
      tenantId: user.TenantId,
      accountType: 'user',
      isEnterpriseVoiceEnabled: user.EnterpriseVoiceEnabled === true,
      featureTypes: user.FeatureTypes,
      telephoneNumbers,
      effectivePolicyAssignments,
    };
  }

  private assign(body: unknown, baseUrl: string): TeamsAdminAnswer {
    const b = object(body);
    const telephoneNumber = required(b, 'telephoneNumber');
    const targetId = required(b, 'assignmentTargetId');
    const numberType = required(b, 'numberType');
    if (!numberTypes.includes(numberType)) throw badEnum('numberType', numberType);
    const number = e164(telephoneNumber);
    this.onlineUser(targetId);
    // Direct Routing numbers are the customer's own: Teams takes any valid number it does not see held.
    const holder = this.row(number);
    if (holder?.AssignedPstnTargetId && holder.AssignedPstnTargetId !== targetId) {
      throw new GraphSimError(409, 'Conflict', `Telephone number '${number}' has already been assigned to another user.`);
    }
    if (this.pendingFor(number)) throw new GraphSimError(409, 'Conflict', `Telephone number '${number}' has an order in progress.`);
    return this.accept({ kind: 'assign', number, userId: targetId }, baseUrl, 'Assignment');
  }

  private unassign(body: unknown, baseUrl: string): TeamsAdminAnswer {
    const b = object(body);
    const number = e164(required(b, 'telephoneNumber'));
    const numberType = required(b, 'numberType');
    if (!numberTypes.includes(numberType)) throw badEnum('numberType', numberType);
    if (this.row(number) === undefined) {
      throw new GraphSimError(404, 'NotFound', `Telephone number '${number}' was not found in the tenant.`);
    }
    if (this.pendingFor(number)) throw new GraphSimError(409, 'Conflict', `Telephone number '${number}' has an order in progress.`);
    return this.accept({ kind: 'unassign', number, userId: null }, baseUrl, 'Unassignment');
  }

  private accept(order: Pick<Operation, 'kind' | 'number' | 'userId'>, baseUrl: string, label: string): TeamsAdminAnswer {
    const now = this.clock.now().getTime();
    this.sequence += 1;
    const id = Buffer.from(`${label}|${createHash('sha256').update(`${this.sequence}|${order.number}|${now}`).digest('hex').slice(0, 32)}`)
      .toString('base64')
      .replace(/=+$/, '');
    const op: Operation = { id, ...order, createdAt: now, dueAt: now + this.operationMs, status: 'notStarted', detail: null };
    this.operations.set(id, op);
    this.active.set(order.number, op);
    return { status: 202, headers: { location: `${baseUrl}/admin/teams/telephoneNumberManagement/operations('${id}')` } };
  }

  private operation(id: string, baseUrl: string): Record<string, unknown> {
    const op = this.operations.get(id);
    if (!op) throw new GraphSimError(404, 'NotFound', `Operation '${id}' was not found.`);
    return {
      '@odata.context': `${baseUrl}/$metadata#admin/teams/telephoneNumberManagement/operations/$entity`,
      id: op.id,
      createdDateTime: new Date(op.createdAt).toISOString(),
      status: op.status,
      numbers: [
        {
          resourceLocation: `${baseUrl}/admin/teams/telephoneNumberManagement/numberAssignments('${op.number}')`,
          status: op.status,
          statusDetail: op.detail,
        },
      ],
    };
  }

  private numbers(search: URLSearchParams, baseUrl: string): Record<string, unknown> {
    const filter = search.get('$filter');
    let wanted: string | undefined;
    if (filter !== null) {
      const m = /^telephoneNumber eq '((?:[^']|'')*)'$/.exec(filter.trim());
      if (!m) throw new GraphSimError(400, 'BadRequest', `Invalid filter clause: '${filter.slice(0, 100)}'.`);
      wanted = e164(unquote(m[1] ?? ''));
    }
    const rows: { TelephoneNumber: string; AssignedPstnTargetId: string | null; AssignmentCategory: string | null; LocationId: string | null }[] =
      wanted === undefined ? this.tenant.assignments() : this.tenant.findAssignments('Get-CsPhoneNumberAssignment', { telephoneNumber: wanted });
    // A Direct Routing number Teams has not seen yet shows up once an order for it is accepted.
    for (const op of this.active.values()) {
      if ((wanted === undefined || op.number === wanted) && !rows.some((r) => r.TelephoneNumber === op.number)) {
        rows.push({ TelephoneNumber: op.number, AssignedPstnTargetId: null, AssignmentCategory: null, LocationId: null });
      }
    }
    return {
      '@odata.context': `${baseUrl}/$metadata#admin/teams/telephoneNumberManagement/numberAssignments`,
      value: rows.map((r) => {
        const pending = this.pendingFor(r.TelephoneNumber);
        return {
          id: r.TelephoneNumber,
          telephoneNumber: r.TelephoneNumber,
          numberType: 'directRouting',
          assignmentTargetId: r.AssignedPstnTargetId,
          assignmentStatus: r.AssignedPstnTargetId === null ? 'unassigned' : 'userAssigned',
          assignmentCategory: (r.AssignmentCategory ?? 'primary').toLowerCase(),
          activationState: pending ? (pending.kind === 'assign' ? 'assignmentPending' : 'updatePending') : 'activated',
          locationId: r.LocationId,
        };
      }),
    };
  }

  private policyId(type: string, name: string): Record<string, unknown> {
    if (this.refused.has(type.toLowerCase())) throw refusedType(type);
    const policyType = policyTypes.find((t) => t.toLowerCase() === type.toLowerCase());
    if (policyType === undefined) throw new GraphSimError(400, 'BadRequest', `Policy type '${type}' is not supported.`);
    const known = name.toLowerCase() === 'global' || this.tenant.hasPolicy(policyType, name);
    return { value: known ? [{ name, policyId: policyIdOf(policyType, name) }] : [] };
  }

  private policyAssignments(body: unknown, action: 'assign' | 'unassign'): TeamsAdminAnswer {
    const value = object(body).value;
    if (!Array.isArray(value) || value.length === 0) throw new GraphSimError(400, 'BadRequest', "The request body must have a non-empty 'value' collection.");
    if (value.length > 5000) throw new GraphSimError(400, 'BadRequest', "At most 5000 assignments in one request.");
    const items = value.map((v) => {
      const o = object(v);
      return { userId: required(o, 'userId'), policyType: required(o, 'policyType'), policyId: required(o, 'policyId') };
    });
    // The whole request is refused when one item's type is: nothing is applied.
    for (const item of items) if (this.refused.has(item.policyType.toLowerCase())) throw refusedType(item.policyType);
    const resolved = items.map((item) => {
      const decoded = decodePolicyId(item.policyId);
      if (decoded === null || decoded.type.toLowerCase() !== item.policyType.toLowerCase()) {
        throw new GraphSimError(400, 'BadRequest', `Policy id '${item.policyId}' is not a ${item.policyType}.`);
      }
      return { ...item, type: decoded.type, name: decoded.name };
    });
    for (const item of resolved) {
      this.onlineUser(item.userId);
      try {
        this.tenant.grantPolicy(`Grant-Cs${item.type}`, item.type, item.userId, action === 'assign' ? item.name : null);
      } catch (error) {
        if (error instanceof CmdletError) throw new GraphSimError(404, 'NotFound', error.message);
        throw error;
      }
    }
    return { status: 204 };
  }

  private onlineUser(id: string): Record<string, unknown> {
    try {
      return this.tenant.onlineUser('Get-CsOnlineUser', id);
    } catch (error) {
      if (error instanceof CmdletError) throw new GraphSimError(404, 'NotFound', `User '${id}' was not found in Teams.`);
      throw error;
    }
  }

  private pendingFor(number: string): Operation | undefined {
    return this.active.get(number);
  }

  private row(number: string) {
    return this.tenant.findAssignments('Get-CsPhoneNumberAssignment', { telephoneNumber: number })[0];
  }
}

/** Policy ids are opaque in Graph; here a reversible token of type and name. */
export function policyIdOf(type: PolicyType | string, name: string): string {
  return Buffer.from(`${type}|${name}`).toString('base64url');
}

function decodePolicyId(id: string): { type: PolicyType; name: string } | null {
  const text = Buffer.from(id, 'base64url').toString('utf8');
  const [type, ...rest] = text.split('|');
  const policyType = policyTypes.find((t) => t === type);
  return policyType === undefined || rest.length === 0 ? null : { type: policyType, name: rest.join('|') };
}

function unquote(value: string): string {
  return value.replace(/''/g, "'");
}

function object(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new GraphSimError(400, 'BadRequest', 'The request body must be a JSON object.');
  return body as Record<string, unknown>;
}

function required(body: Record<string, unknown>, name: string): string {
  const v = body[name];
  if (typeof v !== 'string' || v.trim() === '') throw new GraphSimError(400, 'BadRequest', `The parameter '${name}' is required.`);
  return v;
}

function badEnum(name: string, value: string): GraphSimError {
  return new GraphSimError(400, 'BadRequest', `The value '${value}' is not valid for '${name}'.`);
}

function refusedType(type: string): GraphSimError {
  return new GraphSimError(400, 'BadRequest', `Policy type '${type}' is not supported for user assignment through this API.`);
}

function e164(value: string): string {
  const n = value.trim().replace(/^tel:/i, '');
  const withPlus = /^\d/.test(n) ? `+${n}` : n;
  if (!/^\+[1-9]\d{6,14}(;ext=\d{1,10})?$/.test(withPlus)) {
    throw new GraphSimError(400, 'BadRequest', `Telephone number '${value}' is not valid.`);
  }
  return withPlus;
}
