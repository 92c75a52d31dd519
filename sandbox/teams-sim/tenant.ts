/**
 * The simulated Teams tenant: users' voice state, Direct Routing number assignments, policies
 * and batch policy operations, with the MicrosoftTeams cmdlets' semantics and errors. One
 * instance serves every stand-in process, so a pool of "pwsh" sessions sees one tenant.
 * Cmdlet parameters are parsed in cmdlets.ts; this class takes typed arguments.
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../../shared/ports/clock.js';
import { policyTypes, type PolicyType } from '../../shared/domain/voice-state.js';
import { CmdletError, teamsErrors } from './cmdlet-error.js';
import { BatchOperations } from './batch-operations.js';
import { Directory } from './directory.js';
import { TeamsTenantStateSchema, type TeamsTenantState } from './tenant-state.js';
import { bareName, type SandboxPolicy, type SandboxTenantFile, type SandboxUser } from './tenant-file.js';
import { emptyVoiceRouting, VoiceRouting } from './voice-routing.js';

/** The policy types whose policies are part of the tenant's voice routing (created by `dialtone tenant apply`). */
const routingPolicyTypes = ['CallingLineIdentity', 'OnlineVoiceRoutingPolicy', 'TenantDialPlan'] as const;
type RoutingPolicyType = (typeof routingPolicyTypes)[number];
const isRoutingType = (type: PolicyType): type is RoutingPolicyType => (routingPolicyTypes as readonly string[]).includes(type);

export type PolicyAssignment = { Authority: 'Tenant'; Name: string } | null;

export interface SimUserView {
  id: string;
  userPrincipalName: string;
  enterpriseVoiceEnabled: boolean;
  /** `tel:+…` as Teams shows LineURI, or null. */
  lineUri: string | null;
  phoneNumber: string | null;
  phoneSystemLicensed: boolean;
  policies: Record<PolicyType, string | null>;
}

export interface PhoneNumberRow {
  TelephoneNumber: string;
  NumberType: 'DirectRouting';
  AssignedPstnTargetId: string | null;
  AssignmentCategory: 'Primary' | 'Private' | 'Alternate' | null;
  PstnAssignmentStatus: 'UserAssigned' | 'Unassigned';
  ActivationState: 'Activated';
  Capability: string[];
  NumberSource: 'OnPremises';
  LocationId: string | null;
}

export interface AssignmentFilter {
  assignedPstnTargetId?: string;
  telephoneNumber?: string;
  telephoneNumberContain?: string;
  telephoneNumberStartsWith?: string;
  numberType?: string;
  pstnAssignmentStatus?: string;
}

interface UserState {
  file: SandboxUser;
  enterpriseVoiceEnabled: boolean;
  policies: Record<PolicyType, string | null>;
}

interface NumberState {
  number: string;
  assignedTo: string | null;
  category: PhoneNumberRow['AssignmentCategory'];
  locationId: string | null;
}

/** A stable object id for an external holder known only by a label (e.g. a UPN outside the file). */
export function externalObjectId(label: string): string {
  const h = createHash('sha1').update(label).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function toLineUri(number: string | null): string | null {
  return number === null ? null : `tel:${number}`;
}

export class SimTenant {
  readonly tenantId: string;
  /**
   * Entra's check of the certificate at sign-in: when set, Connect-MicrosoftTeams with a certificate
   * whose thumbprint the app registration does not hold fails as Entra refuses it (AADSTS700027).
   * Unset (the default), any well-formed certificate is accepted.
   */
  certificateTrust: ((applicationId: string, thumbprint: string) => boolean) | undefined;
  readonly startedAtMs: number;
  private readonly directory: Directory;
  private readonly users = new Map<string, UserState>();
  private readonly numbers = new Map<string, NumberState>();
  /** Object id → the numbers assigned to that user: O(1) owner lookups. */
  private readonly byOwner = new Map<string, Set<NumberState>>();
  /** Every number, sorted, rebuilt only when a number Teams did not know appears. */
  private sortedNumbers: NumberState[] | undefined;
  private readonly policyLists = new Map<PolicyType, SandboxPolicy[]>();
  private readonly batches: BatchOperations;
  /** PSTN usages, routes, routing policies, dial plans and CLI policies: what `dialtone tenant apply` manages. */
  readonly voiceRouting: VoiceRouting;

  constructor(file: SandboxTenantFile, private readonly clock: Clock, startedAtMs?: number, batchDurationMs?: (users: number) => number) {
    this.tenantId = file.tenantId;
    this.startedAtMs = startedAtMs ?? (clock as { startedAt?: number }).startedAt ?? clock.now().getTime();
    this.directory = new Directory(file.users, file.directoryChanges ?? [], clock, this.startedAtMs, file.teamsSimulator?.provisioningLagMs ?? 0);
    for (const type of policyTypes) if (!isRoutingType(type)) this.policyLists.set(type, [...(file.policies?.[type] ?? [])]);
    const seed = emptyVoiceRouting(file.pstnGateways ?? []);
    for (const p of file.policies?.OnlineVoiceRoutingPolicy ?? []) seed.voiceRoutingPolicies.push({ name: bareName(p.identity), usages: [], description: p.description ?? null });
    for (const p of file.policies?.TenantDialPlan ?? []) {
      seed.dialPlans.push({ name: bareName(p.identity), normalizationRules: [], description: p.description ?? null, simpleName: bareName(p.identity) });
    }
    for (const p of file.policies?.CallingLineIdentity ?? []) {
      seed.callingLineIdentities.push({
        name: bareName(p.identity),
        description: p.description ?? null,
        callingIdSubstitute: 'LineUri',
        serviceNumber: null,
        resourceAccount: null,
        companyName: null,
        enableUserOverride: false,
        blockIncomingPstnCallerId: false,
      });
    }
    this.voiceRouting = new VoiceRouting(seed);
    for (const user of file.users) {
      const policies = Object.fromEntries(policyTypes.map((t) => [t, null])) as Record<PolicyType, string | null>;
      for (const type of policyTypes) {
        const name = user.teams?.policies?.[type];
        if (name) policies[type] = this.policy(type, name)?.name ?? bareName(name);
      }
      this.users.set(user.id, { file: user, enterpriseVoiceEnabled: user.teams?.enterpriseVoiceEnabled ?? false, policies });
      const line = user.teams?.lineUri?.replace(/^tel:/i, '');
      if (line) this.putNumber({ number: line, assignedTo: user.id, category: 'Primary', locationId: null });
    }
    for (const external of file.externalAssignments ?? []) {
      const holder = this.find(external.assignedTo);
      const id = holder?.file.id ?? externalObjectId(external.assignedTo);
      this.putNumber({ number: external.number, assignedTo: id, category: 'Primary', locationId: null });
    }
    this.batches = new BatchOperations(clock, (type, name, identity) => this.applyBatchGrant(type, name, identity), batchDurationMs);
  }

  // ---- inspection (tests, sandbox report) ----

  /** The user's current Teams state by object id or UPN, whether or not synced yet. */
  user(idOrUpn: string): SimUserView | undefined {
    this.settleNow();
    const state = this.find(idOrUpn);
    return state === undefined ? undefined : this.view(state);
  }

  usersView(): SimUserView[] {
    this.settleNow();
    return [...this.users.values()].map((u) => this.view(u));
  }

  /** Every number Teams knows, as Get-CsPhoneNumberAssignment rows, sorted. */
  assignments(): PhoneNumberRow[] {
    this.settleNow();
    return this.sorted().map((n) => row(n));
  }

  /** What cmdlets changed, as JSON to persist between sandbox runs. */
  exportState(): TeamsTenantState {
    this.settleNow();
    return {
      version: 1,
      tenantId: this.tenantId,
      users: [...this.users.values()].map((u) => ({ id: u.file.id, enterpriseVoiceEnabled: u.enterpriseVoiceEnabled, policies: { ...u.policies } })),
      numbers: [...this.numbers.values()].map((n) => ({ ...n })),
      voiceRouting: this.voiceRouting.exportState(),
    };
  }

  /** Continues from a saved state; users in the state but no longer in the tenant file are skipped. */
  importState(value: unknown): void {
    const state = TeamsTenantStateSchema.parse(value);
    if (state.tenantId !== this.tenantId) throw new Error(`saved Teams state is for tenant ${state.tenantId}, not ${this.tenantId}`);
    for (const saved of state.users) {
      const user = this.users.get(saved.id);
      if (user === undefined) continue;
      user.enterpriseVoiceEnabled = saved.enterpriseVoiceEnabled;
      for (const type of policyTypes) user.policies[type] = saved.policies[type] ?? null;
    }
    this.numbers.clear();
    this.byOwner.clear();
    this.sortedNumbers = undefined;
    for (const n of state.numbers) this.putNumber({ ...n });
    // A state saved before the tenant's voice routing was kept has none: the tenant file's stays.
    if (state.voiceRouting !== undefined) this.voiceRouting.importState(state.voiceRouting);
  }

  /** The CallingLineIdentity policies as the planner's catalogue lists them (Identity and Description). */
  callingLineIdentityCatalog(): { identity: string; description: string | null }[] {
    return this.voiceRouting.policies('CallingLineIdentity');
  }

  // ---- cmdlet semantics ----

  /** Get-CsOnlineUser -Identity */
  onlineUser(cmdlet: string, identity: string): Record<string, unknown> {
    const user = this.resolve(cmdlet, identity);
    const number = this.numberOf(user.file.id);
    const plans = this.directory.plans(user.file);
    const assignedAt = this.directory.licensedAt(user.file).toISOString();
    const upn = this.directory.upn(user.file);
    const result: Record<string, unknown> = {
      Identity: user.file.id,
      UserPrincipalName: upn,
      SipAddress: `sip:${upn}`,
      DisplayName: user.file.displayName ?? null,
      Department: user.file.department ?? null,
      UsageLocation: user.file.usageLocation ?? null,
      AccountEnabled: this.directory.accountEnabled(user.file),
      TenantId: this.tenantId,
      EnterpriseVoiceEnabled: user.enterpriseVoiceEnabled,
      LineURI: toLineUri(number),
      FeatureTypes: this.directory.features(user.file),
      AssignedPlan: plans.map((p) => ({ Capability: p, CapabilityStatus: 'Enabled', AssignedTimestamp: assignedAt })),
      ProvisionedPlan: plans.map((p) => ({ Capability: p, CapabilityStatus: 'Enabled', ProvisioningStatus: 'Success' })),
    };
    for (const type of policyTypes) {
      const name = user.policies[type];
      result[type] = name === null ? null : ({ Authority: 'Tenant', Name: name } satisfies PolicyAssignment);
    }
    return result;
  }

  /** Set-CsPhoneNumberAssignment -Identity -PhoneNumber -PhoneNumberType */
  assignNumber(
    cmdlet: string,
    identity: string,
    phoneNumber: string,
    numberType: string,
    options: { locationId?: string; assignmentCategory?: 'Primary' | 'Private' | 'Alternate' } = {},
  ): void {
    const user = this.resolve(cmdlet, identity);
    if (/^tel:/i.test(phoneNumber)) throw teamsErrors.telUriRefused(cmdlet, phoneNumber);
    const number = /^\d/.test(phoneNumber) ? `+${phoneNumber}` : phoneNumber;
    if (!/^\+[1-9]\d{6,14}(;ext=\d{1,10})?$/.test(number)) throw teamsErrors.invalidNumber(cmdlet, phoneNumber);
    if (numberType !== 'DirectRouting') throw teamsErrors.numberNotInTenant(cmdlet, number, this.tenantId);
    if (!this.directory.phoneSystem(user.file)) throw teamsErrors.notLicensed(cmdlet, user.file.id, "assign a 'DirectRouting' number");
    const held = this.numbers.get(number);
    if (held?.assignedTo && held.assignedTo !== user.file.id) throw teamsErrors.numberTaken(cmdlet, number);
    const category = options.assignmentCategory ?? 'Primary';
    for (const other of [...(this.byOwner.get(user.file.id.toLowerCase()) ?? [])]) {
      // A user has one primary number: assigning another releases the old one.
      if (other.number !== number && other.category === 'Primary' && category === 'Primary') this.unassign(other);
    }
    this.putNumber({ number, assignedTo: user.file.id, category, locationId: options.locationId ?? null });
    user.enterpriseVoiceEnabled = true;
  }

  /** Set-CsPhoneNumberAssignment -Identity -EnterpriseVoiceEnabled */
  setEnterpriseVoice(cmdlet: string, identity: string, enabled: boolean): void {
    const user = this.resolve(cmdlet, identity);
    if (enabled && !this.directory.phoneSystem(user.file)) throw teamsErrors.notLicensed(cmdlet, user.file.id, 'enable Enterprise Voice');
    user.enterpriseVoiceEnabled = enabled;
  }

  /** Remove-CsPhoneNumberAssignment -Identity (-PhoneNumber -PhoneNumberType | -RemoveAll) */
  removeNumber(cmdlet: string, identity: string, phoneNumber: string | 'all', numberType?: string): void {
    const user = this.resolve(cmdlet, identity);
    if (phoneNumber !== 'all') {
      const number = phoneNumber.replace(/^tel:/i, '');
      const held = this.numbers.get(number);
      if (held === undefined || numberType !== 'DirectRouting') throw teamsErrors.numberNotInTenant(cmdlet, number, this.tenantId);
      if (held.assignedTo !== user.file.id) throw teamsErrors.numberNotAssignedToUser(cmdlet, number, user.file.id);
    }
    for (const n of [...(this.byOwner.get(user.file.id.toLowerCase()) ?? [])]) {
      if (phoneNumber === 'all' || n.number === phoneNumber.replace(/^tel:/i, '')) this.unassign(n);
    }
    user.enterpriseVoiceEnabled = false;
  }

  /** Get-CsPhoneNumberAssignment with its filters; paging is applied by the caller. */
  findAssignments(cmdlet: string, filter: AssignmentFilter): PhoneNumberRow[] {
    let target: string | undefined;
    if (filter.assignedPstnTargetId !== undefined) {
      target = this.find(filter.assignedPstnTargetId)?.file.id ?? filter.assignedPstnTargetId;
    }
    const wantStatus = filter.pstnAssignmentStatus?.toLowerCase();
    this.settleNow();
    // The indexes narrow the rows first (one user's numbers, one number); the filters then apply as before.
    let candidates: NumberState[];
    if (target !== undefined) {
      candidates = [...(this.byOwner.get(target.toLowerCase()) ?? [])].sort((a, b) => compare(a.number, b.number));
    } else if (filter.telephoneNumber !== undefined) {
      const one = this.numbers.get(normaliseDigits(filter.telephoneNumber));
      candidates = one === undefined ? [] : [one];
    } else {
      candidates = this.sorted();
    }
    return candidates.map((n) => row(n)).filter((r) => {
      if (target !== undefined && r.AssignedPstnTargetId?.toLowerCase() !== target.toLowerCase()) return false;
      if (filter.telephoneNumber !== undefined && r.TelephoneNumber !== normaliseDigits(filter.telephoneNumber)) return false;
      if (filter.telephoneNumberContain !== undefined && !r.TelephoneNumber.includes(filter.telephoneNumberContain)) return false;
      if (filter.telephoneNumberStartsWith !== undefined && !r.TelephoneNumber.startsWith(normaliseDigits(filter.telephoneNumberStartsWith))) {
        return false;
      }
      if (filter.numberType !== undefined && r.NumberType.toLowerCase() !== filter.numberType.toLowerCase()) return false;
      if (wantStatus !== undefined && r.PstnAssignmentStatus.toLowerCase() !== wantStatus) return false;
      return true;
    });
  }

  /** Grant-Cs<PolicyType> -Identity -PolicyName (null = back to Global). */
  grantPolicy(cmdlet: string, type: PolicyType, identity: string, policyName: string | null): void {
    const user = this.resolve(cmdlet, identity);
    user.policies[type] = this.checkedPolicyName(cmdlet, type, policyName);
  }

  /** Get-CsCallingLineIdentity / Get-CsOnlineVoiceRoutingPolicy / Get-CsTenantDialPlan */
  listPolicies(cmdlet: string, type: PolicyType, identity?: string): Record<string, unknown>[] {
    if (type === 'CallingLineIdentity') return this.voiceRouting.getCallingLineIdentities(cmdlet, identity);
    if (type === 'OnlineVoiceRoutingPolicy') return this.voiceRouting.getVoiceRoutingPolicies(cmdlet, identity);
    if (type === 'TenantDialPlan') return this.voiceRouting.getDialPlans(cmdlet, identity);
    const rows = [{ Identity: 'Global', Description: null as string | null }].concat(
      (this.policyLists.get(type) ?? []).map((p) => ({ Identity: `Tag:${bareName(p.identity)}`, Description: p.description ?? null })),
    );
    if (identity === undefined) return rows;
    const match = rows.filter((r) => bareName(r.Identity).toLowerCase() === bareName(identity).toLowerCase());
    if (match.length === 0) throw teamsErrors.policyNotFound(cmdlet, type, bareName(identity));
    return match;
  }

  /** New-CsBatchPolicyAssignmentOperation: validates the policy now, grants on completion. */
  newBatch(cmdlet: string, type: PolicyType, policyName: string | null, identities: string[], operationName?: string): string {
    const name = this.checkedPolicyName(cmdlet, type, policyName);
    return this.batches.create(type, name, identities, operationName);
  }

  /** Get-CsBatchPolicyAssignmentOperation [-OperationId] */
  getBatch(cmdlet: string, operationId?: string): Record<string, unknown> | Record<string, unknown>[] {
    if (operationId === undefined) return this.batches.list();
    const op = this.batches.poll(operationId);
    if (op === undefined) throw teamsErrors.operationNotFound(cmdlet, operationId);
    return op;
  }

  /** Whether the tenant has a policy of this type and name (Graph's getPolicyId). */
  hasPolicy(type: PolicyType, name: string): boolean {
    return this.policy(type, name) !== undefined;
  }

  /** Sandbox milliseconds since the run started (the time window of a fault rule). */
  elapsedMs(): number {
    return this.clock.now().getTime() - this.startedAtMs;
  }

  /** Resolves an Identity (object id, UPN, sip:UPN) among users already synced, for fault matching. */
  identitiesOf(identity: string): string[] {
    const user = this.find(identity);
    return user === undefined ? [identity] : [identity, user.file.id, this.directory.upn(user.file)];
  }

  // ---- internals ----

  private applyBatchGrant(type: PolicyType, name: string | null, identity: string): string {
    try {
      this.grantPolicy('New-CsBatchPolicyAssignmentOperation', type, identity, name);
      return 'Success';
    } catch (error) {
      if (error instanceof CmdletError) return error.message;
      throw error;
    }
  }

  private checkedPolicyName(cmdlet: string, type: PolicyType, policyName: string | null): string | null {
    if (policyName === null || bareName(policyName).toLowerCase() === 'global') return null;
    const found = this.policy(type, policyName);
    if (found === undefined) throw teamsErrors.policyNotFound(cmdlet, type, bareName(policyName));
    return found.name;
  }

  private policy(type: PolicyType, name: string): { name: string } | undefined {
    const wanted = bareName(name).toLowerCase();
    const list = isRoutingType(type) ? this.voiceRouting.policies(type) : (this.policyLists.get(type) ?? []);
    const found = list.find((p) => bareName(p.identity).toLowerCase() === wanted);
    return found === undefined ? undefined : { name: bareName(found.identity) };
  }

  private find(identity: string): UserState | undefined {
    const user = this.directory.find(identity);
    return user === undefined ? undefined : this.users.get(user.id);
  }

  private resolve(cmdlet: string, identity: string): UserState {
    this.settleNow();
    const user = this.find(identity);
    if (user === undefined || !this.directory.visible(user.file)) throw teamsErrors.notFound(cmdlet, identity);
    return user;
  }

  private numberOf(userId: string): string | null {
    for (const n of this.byOwner.get(userId.toLowerCase()) ?? []) if (n.category === 'Primary') return n.number;
    return null;
  }

  /** Stores a number (replacing what was stored under it) and keeps the indexes in step. */
  /** Due batch operations finish, and accounts deleted from Entra ID lose their numbers and voice. */
  private settleNow(): void {
    this.batches.settle();
    for (const file of this.directory.deletedUsers()) {
      const user = this.users.get(file.id);
      if (user === undefined) continue;
      for (const n of [...(this.byOwner.get(user.file.id.toLowerCase()) ?? [])]) this.unassign(n);
      user.enterpriseVoiceEnabled = false;
    }
  }

  private putNumber(state: NumberState): void {
    const previous = this.numbers.get(state.number);
    if (previous !== undefined) this.unassign(previous);
    else this.sortedNumbers = undefined;
    this.numbers.set(state.number, state);
    if (state.assignedTo !== null) {
      const owner = state.assignedTo.toLowerCase();
      const owned = this.byOwner.get(owner) ?? new Set<NumberState>();
      owned.add(state);
      this.byOwner.set(owner, owned);
    }
    if (previous !== undefined && this.sortedNumbers !== undefined) {
      const i = this.sortedNumbers.indexOf(previous);
      if (i >= 0) this.sortedNumbers[i] = state;
    }
  }

  private unassign(n: NumberState): void {
    if (n.assignedTo !== null) {
      const owner = n.assignedTo.toLowerCase();
      const owned = this.byOwner.get(owner);
      owned?.delete(n);
      if (owned?.size === 0) this.byOwner.delete(owner);
    }
    n.assignedTo = null;
    n.category = null;
  }

  private sorted(): NumberState[] {
    this.sortedNumbers ??= [...this.numbers.values()].sort((a, b) => compare(a.number, b.number));
    return this.sortedNumbers;
  }

  private view(user: UserState): SimUserView {
    const number = this.numberOf(user.file.id);
    return {
      id: user.file.id,
      userPrincipalName: this.directory.upn(user.file),
      enterpriseVoiceEnabled: user.enterpriseVoiceEnabled,
      lineUri: toLineUri(number),
      phoneNumber: number,
      phoneSystemLicensed: this.directory.phoneSystem(user.file),
      policies: { ...user.policies },
    };
  }
}

function normaliseDigits(number: string): string {
  const n = number.replace(/^tel:/i, '');
  return /^\d/.test(n) ? `+${n}` : n;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function row(n: NumberState): PhoneNumberRow {
  return {
    TelephoneNumber: n.number,
    NumberType: 'DirectRouting',
    AssignedPstnTargetId: n.assignedTo,
    AssignmentCategory: n.category,
    PstnAssignmentStatus: n.assignedTo === null ? 'Unassigned' : 'UserAssigned',
    ActivationState: 'Activated',
    Capability: ['UserAssignment'],
    NumberSource: 'OnPremises',
    LocationId: n.locationId,
  };
}
