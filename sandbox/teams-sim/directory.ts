/**
 * The directory side of the simulated tenant: who exists, under which names, and which
 * service plans they hold at the current (simulated) time. Directory-sync lag
 * (appearsAfterMs), group-licensing lag (licensedAfterMs) and scheduled directory changes
 * all count from the tenant's start.
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
  constructor(
    private readonly users: readonly SandboxUser[],
    private readonly changes: readonly DirectoryChange[],
    private readonly clock: Clock,
    readonly startedAtMs: number,
  ) {}

  elapsedMs(): number {
    return this.clock.now().getTime() - this.startedAtMs;
  }

  /** By object id, UPN or sip:UPN, case-insensitively; includes users not synced yet. */
  find(identity: string): SandboxUser | undefined {
    const key = identity.replace(/^sip:/i, '').toLowerCase();
    return this.users.find((u) => u.id.toLowerCase() === key || this.upn(u).toLowerCase() === key);
  }

  /** Directory sync has brought the user into Teams. */
  visible(user: SandboxUser): boolean {
    return this.elapsedMs() >= (user.appearsAfterMs ?? 0);
  }

  upn(user: SandboxUser): string {
    return this.changed(user, 'userPrincipalName') ?? user.userPrincipalName;
  }

  accountEnabled(user: SandboxUser): boolean {
    return this.changed(user, 'accountEnabled') ?? user.accountEnabled ?? true;
  }

  /** Service plans held now: none before licensedAfterMs. */
  plans(user: SandboxUser): string[] {
    if (this.elapsedMs() < (user.licensedAfterMs ?? 0)) return [];
    return [...(this.changed(user, 'servicePlans') ?? user.servicePlans ?? [])];
  }

  phoneSystem(user: SandboxUser): boolean {
    return this.plans(user).some((p) => featureByPlan[p] === 'PhoneSystem');
  }

  features(user: SandboxUser): string[] {
    const features = new Set<string>();
    for (const plan of this.plans(user)) {
      const feature = featureByPlan[plan];
      if (feature) features.add(feature);
    }
    return [...features].sort();
  }

  licensedAt(user: SandboxUser): Date {
    return new Date(this.startedAtMs + (user.licensedAfterMs ?? 0));
  }

  /** The value after every scheduled change to this user that is due. */
  private changed<K extends 'servicePlans' | 'accountEnabled' | 'userPrincipalName'>(user: SandboxUser, key: K): SandboxUser[K] | undefined {
    let value: unknown;
    const elapsed = this.elapsedMs();
    for (const change of this.changes) {
      if (change.userId === user.id && change.atMs <= elapsed && change.set[key] !== undefined) value = change.set[key];
    }
    return value as SandboxUser[K] | undefined;
  }
}
