/**
 * The directory side of the simulated tenant: who exists, under which names, and which
 * service plans they hold at the current (simulated) time. Directory-sync lag
 * (appearsAfterMs), group-licensing lag (licensedAfterMs) and scheduled directory changes
 * all count from the tenant's start. Teams itself lags behind Entra ID: PhoneSystem shows in
 * a user's FeatureTypes (and numbers and Enterprise Voice are accepted) only
 * teamsProvisioningLagMs after Teams Phone arrived, as in a real tenant after licensing.
 */
import type { Clock } from '../../shared/ports/clock.js';
import { MCOEV_SERVICE_PLAN_ID } from '../../shared/contracts/messages.js';
import type { DirectoryChange, SandboxUser } from './tenant-file.js';

export const featureByPlan: Record<string, string> = {
  TEAMS1: 'Teams',
  MCOMEETADV: 'AudioConferencing',
  MCOEV: 'PhoneSystem',
  [MCOEV_SERVICE_PLAN_ID]: 'PhoneSystem',
  MCOPSTN1: 'CallingPlan',
  MCOPSTN2: 'CallingPlan',
  MCOPSTN5: 'CallingPlan',
};

export class Directory {
  /** Lower-case object id and every UPN a user has or will have → users, so find is O(1). */
  private readonly byKey = new Map<string, SandboxUser[]>();
  private readonly changesByUser = new Map<string, DirectoryChange[]>();
  /** Users some scheduled change deletes (or restores): the only ones `deleted` can be true for. */
  private readonly deletable: SandboxUser[] = [];

  constructor(
    private readonly users: readonly SandboxUser[],
    changes: readonly DirectoryChange[],
    private readonly clock: Clock,
    readonly startedAtMs: number,
    private readonly defaultProvisioningLagMs = 0,
  ) {
    const byId = new Map(users.map((u) => [u.id, u]));
    const order = new Map(users.map((u, i) => [u, i]));
    const index = (key: string, user: SandboxUser): void => {
      const list = this.byKey.get(key.toLowerCase()) ?? [];
      if (!list.includes(user)) list.push(user);
      list.sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
      this.byKey.set(key.toLowerCase(), list);
    };
    for (const user of users) {
      index(user.id, user);
      index(user.userPrincipalName, user);
    }
    for (const change of changes) {
      this.changesByUser.set(change.userId, [...(this.changesByUser.get(change.userId) ?? []), change]);
      const user = byId.get(change.userId);
      if (user && change.set.userPrincipalName) index(change.set.userPrincipalName, user);
      if (user && change.set.deleted !== undefined && !this.deletable.includes(user)) this.deletable.push(user);
    }
  }

  /**
   * The users deleted from Entra ID now, in tenant-file order of their first deleting change:
   * only users a scheduled change deletes are looked at, so asking costs nothing per user.
   */
  deletedUsers(): SandboxUser[] {
    return this.deletable.filter((u) => this.deleted(u));
  }

  elapsedMs(): number {
    return this.clock.now().getTime() - this.startedAtMs;
  }

  /** By object id, UPN or sip:UPN, case-insensitively; includes users not synced yet. */
  find(identity: string): SandboxUser | undefined {
    const key = identity.replace(/^sip:/i, '').toLowerCase();
    const candidates = this.byKey.get(key) ?? [];
    // Tenant-file order, as a scan would find them; a UPN counts only while the user holds it.
    return candidates.find((u) => u.id.toLowerCase() === key || this.upn(u).toLowerCase() === key);
  }

  /** Directory sync has brought the user into Teams. */
  visible(user: SandboxUser): boolean {
    return this.elapsedMs() >= (user.appearsAfterMs ?? 0) && !this.deleted(user);
  }

  /** Deleted from Entra ID: Teams drops the account and the numbers assigned to it. */
  deleted(user: SandboxUser): boolean {
    return this.changed(user, 'deleted') === true;
  }

  upn(user: SandboxUser): string {
    return this.changed(user, 'userPrincipalName') ?? user.userPrincipalName;
  }

  accountEnabled(user: SandboxUser): boolean {
    return this.changed(user, 'accountEnabled') ?? user.accountEnabled ?? true;
  }

  /** Service plans held now (Entra ID's view): none before licensedAfterMs. */
  plans(user: SandboxUser): string[] {
    return this.plansAt(user, this.elapsedMs());
  }

  private plansAt(user: SandboxUser, elapsed: number): string[] {
    if (elapsed < (user.licensedAfterMs ?? 0)) return [];
    let value = user.servicePlans ?? [];
    for (const change of this.changesByUser.get(user.id) ?? []) {
      if (change.atMs <= elapsed && change.set.servicePlans !== undefined) value = change.set.servicePlans;
    }
    return [...value];
  }

  /**
   * Since when (elapsed sandbox ms) the user has held Teams Phone without a break, or undefined
   * when they do not hold it now: the provisioning lag counts from there.
   */
  private phoneSystemSince(user: SandboxUser): number | undefined {
    const elapsed = this.elapsedMs();
    const points = [0, user.licensedAfterMs ?? 0, ...(this.changesByUser.get(user.id) ?? []).map((c) => c.atMs)]
      .filter((t) => t <= elapsed)
      .sort((a, b) => a - b);
    let since: number | undefined;
    for (const at of points) {
      const holds = this.plansAt(user, at).some((p) => featureByPlan[p] === 'PhoneSystem');
      if (!holds) since = undefined;
      else if (since === undefined) since = at;
    }
    return since;
  }

  /** Teams' view: Teams Phone is held and Teams has finished provisioning it. */
  phoneSystem(user: SandboxUser): boolean {
    const since = this.phoneSystemSince(user);
    return since !== undefined && this.elapsedMs() - since >= (user.teamsProvisioningLagMs ?? this.defaultProvisioningLagMs);
  }

  /** FeatureTypes as Teams lists them: PhoneSystem only once provisioned. */
  features(user: SandboxUser): string[] {
    const features = new Set<string>();
    for (const plan of this.plans(user)) {
      const feature = featureByPlan[plan];
      if (feature) features.add(feature);
    }
    if (!this.phoneSystem(user)) features.delete('PhoneSystem');
    return [...features].sort();
  }

  licensedAt(user: SandboxUser): Date {
    return new Date(this.startedAtMs + (user.licensedAfterMs ?? 0));
  }

  /** The value after every scheduled change to this user that is due. */
  private changed<K extends 'servicePlans' | 'accountEnabled' | 'userPrincipalName' | 'deleted'>(user: SandboxUser, key: K): (SandboxUser & { deleted?: boolean })[K] | undefined {
    let value: unknown;
    const elapsed = this.elapsedMs();
    for (const change of this.changesByUser.get(user.id) ?? []) {
      if (change.atMs <= elapsed && change.set[key] !== undefined) value = change.set[key];
    }
    return value as (SandboxUser & { deleted?: boolean })[K] | undefined;
  }
}
