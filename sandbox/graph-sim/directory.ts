import type { AssignedPlan, DirectoryUser } from '../../shared/contracts/messages.js';
import { userProperties } from './odata.js';
import { servicePlanInfo } from './service-plans.js';
import type { DirectoryChangeEvent, GraphSimDirectoryChange, GraphSimTenant, GraphSimUserAttributes } from './tenant.js';

/** A deleted user as /users/delta reports it. */
export interface RemovedUser {
  id: string;
  '@removed': { reason: 'changed' | 'deleted' };
}

interface PlanState {
  effectiveFrom: number;
}

type ScalarKey = Exclude<(typeof userProperties)[number], 'id' | 'assignedPlans'>;
/** The user properties that are plain values (id and assignedPlans are kept apart). */
const scalarKeys = userProperties.filter((p): p is ScalarKey => p !== 'id' && p !== 'assignedPlans');
type ScalarAttributes = Pick<GraphSimUserAttributes, ScalarKey>;

/** Only the attributes Graph exposes; other keys of the tenant file belong to other simulators. */
function scalars(source: GraphSimUserAttributes): ScalarAttributes {
  const out: Record<string, unknown> = {};
  for (const key of scalarKeys) if (key in source) out[key] = source[key];
  return out as ScalarAttributes;
}

interface UserRecord {
  id: string;
  attributes: ScalarAttributes;
  visibleFrom: number;
  plans: Map<string, PlanState>;
  /** Plans taken away after they were in effect: Graph keeps them with capabilityStatus Deleted. */
  deletedPlans: Map<string, number>;
  planStatus: Record<string, string>;
  /** Last change that user delta reports (licence changes are not reported). */
  changedAt: number;
  /** When the account was deleted from the directory, if it was. */
  deletedAt?: number;
}

const licenceFields = new Set(['servicePlans', 'planStatus']);

function isVisible(record: UserRecord, now: number): boolean {
  return record.visibleFrom <= now && (record.deletedAt === undefined || record.deletedAt > now);
}

/**
 * The simulated Entra ID directory in sandbox time: who is visible, which plans are in effect,
 * and the scheduled changes, applied in order once the clock reaches them.
 */
export class SimDirectory {
  private readonly users = new Map<string, UserRecord>();
  /** Lower-case UPN → object id, kept in step with UPN changes, so a lookup is O(1). */
  private readonly byUpn = new Map<string, string>();
  private readonly pending: { at: number; change: GraphSimDirectoryChange }[];
  private readonly listeners: ((event: DirectoryChangeEvent) => void)[] = [];

  constructor(tenant: GraphSimTenant, startMs: number) {
    tenant.users.forEach((u, index) => {
      if (this.users.has(u.id)) throw new Error(`users.${index}.id: duplicate user id '${u.id}'`);
      const visibleFrom = startMs + (u.appearsAfterMs ?? 0);
      const licensedFrom = startMs + (u.licensedAfterMs ?? 0);
      const servicePlans = u.servicePlans ?? [];
      this.users.set(u.id, {
        id: u.id,
        attributes: scalars(u),
        visibleFrom,
        plans: new Map(servicePlans.map((name) => [name.toUpperCase(), { effectiveFrom: licensedFrom }])),
        deletedPlans: new Map(),
        planStatus: upperKeys(u.planStatus ?? {}),
        changedAt: visibleFrom,
      });
      if (u.userPrincipalName) this.byUpn.set(u.userPrincipalName.toLowerCase(), u.id);
    });
    this.pending = (tenant.directoryChanges ?? []).map((change, index) => {
      if (!this.users.has(change.userId)) {
        throw new Error(`directoryChanges.${index}.userId: unknown user '${change.userId}'`);
      }
      return { at: startMs + change.atMs, change };
    });
    this.pending.sort((a, b) => a.at - b.at);
  }

  onChange(listener: (event: DirectoryChangeEvent) => void): void {
    this.listeners.push(listener);
  }

  /** Applies every scheduled change due at `now`, oldest first. */
  advanceTo(now: number): void {
    while (this.pending.length > 0 && (this.pending[0]?.at ?? Infinity) <= now) {
      const next = this.pending.shift();
      if (!next) break;
      const fields = this.apply(next.change, next.at);
      const event: DirectoryChangeEvent = {
        userId: next.change.userId,
        changeType: next.change.set.deleted ? 'deleted' : 'updated',
        notify: next.change.notify ?? false,
        at: new Date(next.at),
        fields,
      };
      for (const listener of this.listeners) listener(event);
    }
  }

  /** The user as Graph shows it at `now`, or undefined while it is not synced yet. */
  visibleUser(id: string, now: number): DirectoryUser | undefined {
    const record = this.users.get(id);
    return record && isVisible(record, now) ? this.project(record, now) : undefined;
  }

  /** A visible user by object id or UPN (case-insensitive), as Graph resolves /users/{key}. */
  findVisible(key: string, now: number): DirectoryUser | undefined {
    const id = this.users.has(key) ? key : this.byUpn.get(key.toLowerCase());
    return id === undefined ? undefined : this.visibleUser(id, now);
  }

  /** Visible users in tenant-file order. */
  visibleUsers(now: number): DirectoryUser[] {
    return [...this.users.values()].filter((r) => isVisible(r, now)).map((r) => this.project(r, now));
  }

  /**
   * Users that appeared or changed (licences aside) in (since, until], as of `now`. A user
   * deleted by then is reported as Graph reports it, `{ id, "@removed": { reason } }`
   * (`changed`: soft-deleted, restorable for 30 days); the first round lists only live users.
   */
  changedUsers(since: number | undefined, until: number, now: number): (DirectoryUser | RemovedUser)[] {
    return [...this.users.values()]
      .filter((r) => r.visibleFrom <= until && (since === undefined || r.visibleFrom > since || (r.changedAt > since && r.changedAt <= until)))
      .filter((r) => since !== undefined || r.deletedAt === undefined || r.deletedAt > until)
      .map((r) => (r.deletedAt !== undefined && r.deletedAt <= until ? { id: r.id, '@removed': { reason: 'changed' } } : this.project(r, now)));
  }

  private apply(change: GraphSimDirectoryChange, at: number): string[] {
    const record = this.users.get(change.userId);
    if (!record) return [];
    const { servicePlans, planStatus, deleted } = change.set;
    if (deleted) record.deletedAt = at;
    const upnBefore = record.attributes.userPrincipalName;
    Object.assign(record.attributes, scalars(change.set));
    const upnAfter = record.attributes.userPrincipalName;
    if (upnBefore !== upnAfter) {
      if (upnBefore && this.byUpn.get(upnBefore.toLowerCase()) === record.id) this.byUpn.delete(upnBefore.toLowerCase());
      if (upnAfter) this.byUpn.set(upnAfter.toLowerCase(), record.id);
    }
    if (servicePlans) this.replacePlans(record, servicePlans, at);
    if (planStatus) Object.assign(record.planStatus, upperKeys(planStatus));
    const fields = Object.keys(change.set);
    if (fields.some((f) => !licenceFields.has(f))) record.changedAt = Math.max(record.changedAt, at);
    return fields;
  }

  private replacePlans(record: UserRecord, names: readonly string[], at: number): void {
    const wanted = new Set(names.map((n) => n.toUpperCase()));
    for (const [name, state] of record.plans) {
      if (wanted.has(name)) continue;
      record.plans.delete(name);
      if (state.effectiveFrom <= at) record.deletedPlans.set(name, at);
    }
    for (const name of wanted) {
      if (record.plans.has(name)) continue;
      record.plans.set(name, { effectiveFrom: at });
      record.deletedPlans.delete(name);
    }
  }

  private project(record: UserRecord, now: number): DirectoryUser {
    const a = record.attributes;
    return {
      id: record.id,
      userPrincipalName: a.userPrincipalName ?? record.id,
      mail: a.mail ?? null,
      employeeId: a.employeeId ?? null,
      displayName: a.displayName ?? null,
      department: a.department ?? null,
      officeLocation: a.officeLocation ?? null,
      jobTitle: a.jobTitle ?? null,
      accountEnabled: a.accountEnabled ?? true,
      usageLocation: a.usageLocation ?? null,
      assignedPlans: this.assignedPlans(record, now),
    };
  }

  private assignedPlans(record: UserRecord, now: number): AssignedPlan[] {
    const plans: AssignedPlan[] = [];
    for (const [name, state] of record.plans) {
      if (state.effectiveFrom > now) continue;
      plans.push(plan(name, record.planStatus[name] ?? 'Enabled', state.effectiveFrom));
    }
    for (const [name, removedAt] of record.deletedPlans) plans.push(plan(name, 'Deleted', removedAt));
    return plans;
  }
}

function plan(name: string, capabilityStatus: string, at: number): AssignedPlan {
  const info = servicePlanInfo(name);
  return {
    assignedDateTime: new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    capabilityStatus,
    service: info.service,
    servicePlanId: info.servicePlanId,
  };
}

function upperKeys(record: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k.toUpperCase(), v]));
}
