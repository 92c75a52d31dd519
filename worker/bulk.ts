/**
 * The bulk path of the hybrid worker (issue 11, item 3): while a burst of people is in flight,
 * their reads, policy grants and verification are shared, and only what is per person by nature
 * (the number, a bare Enterprise Voice switch) runs per person.
 *
 * Per person the behaviour is the one `applyVoiceCommand` specifies: read the actual state,
 * plan only what differs (shared/domain/voice-diff.ts), run it in order (number and Enterprise
 * Voice first, then the policies), read back and verify, and publish only once verified. What
 * changes is how the cmdlets are shared:
 *
 * - reads: the people waiting to be read within `windowMs` are read together, one filtered
 *   Get-CsOnlineUser and one filtered, paged Get-CsPhoneNumberAssignment per `usersPerRead`;
 *   the read-back that verifies is the same shared read;
 * - grants: a person whose number steps succeeded hands their differing policies to an
 *   aggregation stage that collects the same (policy type, name) across people for
 *   `grantWindowMs`, submits New-CsBatchPolicyAssignmentOperation (at most 5,000 users, at most
 *   `operationsInFlight` operations at once), polls Get-CsBatchPolicyAssignmentOperation and
 *   grants one by one (Grant-Cs*) whoever the operation reports as failed, and whoever was in a
 *   group too small for an operation;
 * - anything unexpected (a person the shared read does not return, a cmdlet error, a difference
 *   after verification, a module that lacks -Filter) hands the person to the per-user path,
 *   `applyVoiceCommand`, which starts from a fresh read and has the retries and the error
 *   classification; the steps already run stay in the result.
 */
import type { CmdletStep, VoiceCommand, VoiceResult } from '../shared/contracts/messages.js';
import { assignmentFilter, bulkReadable, onlineUserFilter, splitBulkRead } from '../shared/domain/bulk-read.js';
import { MAX_USERS_PER_BATCH_OPERATION, grantCmdletPolicyType, operationIdOf, operationProgress, succeeded } from '../shared/domain/batch-policy.js';
import { toDialtoneError } from '../shared/domain/errors.js';
import type { ModuleView } from '../shared/domain/parameter-binding.js';
import { planSteps, verify, type Step } from '../shared/domain/voice-diff.js';
import { voiceResultFields } from '../shared/domain/voice-result.js';
import type { ActualVoiceState, PolicyType } from '../shared/domain/voice-state.js';
import { applyVoiceCommand, fromThrown, run, type ApplyDeps } from './apply.js';
import { adaptToModule } from './module-compat.js';
import type { SessionLease } from './session.js';
import { sleep, type Timers } from './timers.js';

export interface BulkSettings {
  /** How long shared reads gather people before they run (sandbox or real ms). */
  windowMs: number;
  /**
   * While every session is wanted by someone else (people waiting to set their number), a read
   * keeps gathering past `windowMs`, up to this long: it costs two session calls whatever its
   * size, and the sessions have no time to spare.
   */
  readMaxWaitMs: number;
  /** People per filtered read (Get-CsPhoneNumberAssignment pages by 1,000 rows beneath it). */
  usersPerRead: number;
  /** How long the grant stage gathers people for one (policy type, name). */
  grantWindowMs: number;
  /** Users per batch operation (Microsoft's limit: 5,000). */
  usersPerOperation: number;
  /** Batch operations in flight at once ("do not submit more than a few", Microsoft). */
  operationsInFlight: number;
  /** A group smaller than this is granted one by one (an operation costs a minute at least). */
  minUsersPerOperation: number;
  /** First poll after submitting: this much, plus `pollPerUserMs` per user in it. */
  firstPollMs: number;
  pollPerUserMs: number;
  pollIntervalMs: number;
  /** An operation not completed after this long: its users are granted one by one. */
  operationTimeoutMs: number;
  /**
   * How many people the bulk path may hold at once (the worker's DIALTONE_BULK_USERS); 0: not
   * known. While fewer are in flight, the whole burst is: the grant stage then times its
   * operations by what is left of the burst instead of by `grantWindowMs` (see GrantStage).
   */
  peopleInFlight: number;
  /** A group held for more of the burst's people goes after this long at the latest. */
  grantMaxWaitMs: number;
}

/** The defaults: the field figures of issue 11 (a batch takes about 60 s + 0.05 s per user). */
export const defaultBulkSettings: BulkSettings = Object.freeze({
  windowMs: 2_000,
  readMaxWaitMs: 60_000,
  usersPerRead: 100,
  grantWindowMs: 10_000,
  usersPerOperation: MAX_USERS_PER_BATCH_OPERATION,
  operationsInFlight: 4,
  minUsersPerOperation: 3,
  firstPollMs: 60_000,
  pollPerUserMs: 50,
  pollIntervalMs: 15_000,
  operationTimeoutMs: 30 * 60_000,
  peopleInFlight: 0,
  grantMaxWaitMs: 5 * 60_000,
});

export interface BulkDeps extends Omit<ApplyDeps, 'signal'> {
  settings: BulkSettings;
  /** The clock the windows and polls wait on (the sandbox's simulated one there). */
  bulkTimers: Timers;
}

export interface BulkStats {
  sharedReads: number;
  operations: number;
  grantedInOperations: number;
  grantedOneByOne: number;
  handedToPerUser: number;
  /** Why people were handed to the per-user path (the first few distinct reasons). */
  handOverReasons: string[];
}

class HandOver extends Error {}

/** Applies voice commands, sharing reads, grants and verification between the people in flight. */
export class BulkApplier {
  private readonly reader: SharedReader;
  private readonly grants: GrantStage;
  private readonly counters: BulkStats = { sharedReads: 0, operations: 0, grantedInOperations: 0, grantedOneByOne: 0, handedToPerUser: 0, handOverReasons: [] };
  /** People in apply() who have not reached the grant stage yet (they may still join a group). */
  private beforeGrants = 0;
  /** People in apply() on the bulk path. */
  private active = 0;

  private readonly tenant: string;
  /**
   * What one Grant-Cs* takes on this tenant, as measured on the bulk timers' clock (before the
   * first is measured: a second, what admins report).
   */
  private grantMs = 1_000;
  /** What one person's number and Enterprise Voice steps take, measured the same way (before: 2.5 s, a Set). */
  private directMs = 2_500;
  private directMeasured = 0;
  /** Grants per person among the people who reached the grant stage with something to write. */
  private readonly grantsSeen = { people: 0, grants: 0 };

  constructor(private readonly deps: BulkDeps) {
    this.tenant = deps.tenantId.toLowerCase();
    this.reader = new SharedReader(deps, this.counters, () => this.active);
    this.grants = new GrantStage(deps, this.counters, () => this.reader.module, {
      mayJoin: () => this.beforeGrants,
      active: () => this.active,
      grantMs: () => this.grantMs,
      directMs: () => this.directMs,
      grantsPerPerson: () => (this.grantsSeen.people === 0 ? 0 : this.grantsSeen.grants / this.grantsSeen.people),
    });
  }

  stats(): BulkStats {
    return { ...this.counters, handOverReasons: [...this.counters.handOverReasons] };
  }

  async apply(command: VoiceCommand, signal: AbortSignal): Promise<VoiceResult> {
    // One tenant's people share reads and operations: the default tenant's. Others go one by one.
    const tenant = (command.tenantId ?? this.deps.tenantId).toLowerCase();
    if (!bulkReadable(command.userId) || tenant !== this.tenant) return this.perUser(command, signal, []);
    const log = this.deps.logger.child({ correlationId: command.correlationId, userId: command.userId, commandId: command.commandId });
    const steps: CmdletStep[] = [];
    const person = { beforeGrants: true, active: true };
    this.beforeGrants += 1;
    this.active += 1;
    // A burst: its sessions connect together (Connect-MicrosoftTeams takes seconds) rather than
    // one by one as each is first wanted.
    if (this.active > 1) this.deps.sessions.warm?.(this.tenant, this.active);
    const reachedGrants = (): void => {
      if (!person.beforeGrants) return;
      person.beforeGrants = false;
      this.beforeGrants -= 1;
    };
    /** Out of the bulk path (done, or handed over): the shared stages stop waiting for this person. */
    const leave = (): void => {
      reachedGrants();
      if (!person.active) return;
      person.active = false;
      this.active -= 1;
      this.reader.poke();
      this.grants.poke();
    };
    try {
      const actual = await this.reader.read(command.userId, steps);
      if (actual === undefined) throw new HandOver('not in the shared read');
      const plan = planSteps(command.desired, actual, command.userId);
      if (plan.length === 0) return this.result(command, 'noop', steps, actual);
      // Not reached on a noop: the finally below gives the count back either way.
      const module = this.reader.module;
      if (plan.some((step) => !adaptToModule(module, step.cmdlet, step.parameters).ok)) throw new HandOver('a step does not bind in the installed module');
      const direct = plan.filter((step) => grantCmdletPolicyType(step.cmdlet) === undefined);
      const grants = plan.filter((step) => grantCmdletPolicyType(step.cmdlet) !== undefined);
      if (direct.length > 0) await this.runOneByOne(direct, steps, signal, false);
      this.grantsSeen.people += 1;
      this.grantsSeen.grants += grants.length;
      reachedGrants();
      // One fewer who may join a group: the grant stage looks again (grant() below does so itself).
      if (grants.length === 0) this.grants.poke();
      if (grants.length > 0) {
        if (signal.aborted) throw new HandOver('the message lock was lost');
        // Each grant falls back on its own as soon as its group answers: one group's operation
        // does not hold back the grants another group handed back.
        const settled = await Promise.allSettled(
          this.grants.grant(grants, command.userId, steps).map((outcome, i) => outcome.then((ok) => (ok ? undefined : this.runOneByOne([grants[i]!], steps, signal, true)))),
        );
        const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw failed.reason;
      }
      const after = await this.reader.read(command.userId, steps);
      if (after === undefined) throw new HandOver('not in the shared read-back');
      const differences = verify(command.desired, after);
      if (differences.length > 0) throw new HandOver(`after applying: ${differences.join('; ')}`);
      log.info('voice command applied', { writes: steps.filter((s) => s.write && s.ok).length, bulk: true });
      return this.result(command, 'applied', steps, after);
    } catch (error) {
      const reason = error instanceof HandOver ? error.message : toDialtoneError(error).message;
      log.info('voice command handed to the per-user path', { reason });
      const reasons = this.counters.handOverReasons;
      if (reasons.length < 5 && !reasons.includes(reason)) reasons.push(reason);
      leave();
      return this.perUser(command, signal, steps);
    } finally {
      leave();
    }
  }

  /** Steps that are per person by nature, on one session, in order. */
  private async runOneByOne(plan: Step[], steps: CmdletStep[], signal: AbortSignal, grants: boolean): Promise<void> {
    const lease = await this.deps.sessions.acquire(this.deps.tenantId.toLowerCase());
    try {
      const began = this.deps.bulkTimers.now();
      for (const step of plan) {
        if (signal.aborted) throw new HandOver('the message lock was lost');
        const started = this.deps.bulkTimers.now();
        await run(lease.session, step.cmdlet, step.parameters, true, this.deps, steps);
        if (grants) {
          this.counters.grantedOneByOne += 1;
          const took = Math.max(0, this.deps.bulkTimers.now() - started);
          this.grantMs = this.counters.grantedOneByOne === 1 ? took : 0.8 * this.grantMs + 0.2 * took;
        }
      }
      if (!grants) {
        const took = Math.max(0, this.deps.bulkTimers.now() - began);
        this.directMeasured += 1;
        this.directMs = this.directMeasured === 1 ? took : 0.8 * this.directMs + 0.2 * took;
      }
      lease.release();
    } catch (error) {
      settleLease(lease, error);
      throw error;
    }
  }

  /** The per-user path from a fresh read; what the bulk path already ran stays in the result. */
  private async perUser(command: VoiceCommand, signal: AbortSignal, before: CmdletStep[]): Promise<VoiceResult> {
    this.counters.handedToPerUser += 1;
    const { settings: _settings, bulkTimers: _timers, ...deps } = this.deps;
    const result = await applyVoiceCommand(command, { ...deps, signal });
    if (before.length === 0) return result;
    const wrote = before.some((s) => s.write && s.ok);
    return { ...result, steps: [...before, ...result.steps], status: result.status === 'noop' && wrote ? 'applied' : result.status };
  }

  private result(command: VoiceCommand, status: 'applied' | 'noop', steps: CmdletStep[], actual: ActualVoiceState): VoiceResult {
    return { ...voiceResultFields(command, this.deps.clock.now(), steps, actual, 1), status };
  }
}

function settleLease(lease: SessionLease, error: unknown): void {
  const failure = fromThrown(error);
  if (failure.classification.replaceSession) lease.discard(failure.message);
  else lease.release();
}

interface Waiting<T> {
  resolve(value: T): void;
}

/** Reads that gather people for a short window and run as one filtered read per kind. */
class SharedReader {
  private pending: { userId: string; steps: CmdletStep[]; waiter: Waiting<ActualVoiceState | undefined> }[] = [];
  private timer: unknown;
  /** When the oldest pending read arrived. */
  private since = 0;
  /** The module of the sessions the last shared read ran on. */
  module: ModuleView | undefined;

  constructor(
    private readonly deps: BulkDeps,
    private readonly counters: BulkStats,
    /** People on the bulk path now: when all of them wait here, nobody else will join the read. */
    private readonly active: () => number,
  ) {}

  read(userId: string, steps: CmdletStep[]): Promise<ActualVoiceState | undefined> {
    return new Promise((resolve) => {
      if (this.pending.length === 0) this.since = this.deps.bulkTimers.now();
      this.pending.push({ userId, steps, waiter: { resolve } });
      this.poke();
    });
  }

  /**
   * Runs the pending reads when a group is full or everyone on the bulk path waits for one; else
   * arms the window. When the window ends while every session is wanted by someone else, the read
   * gathers on (up to `readMaxWaitMs`): it would take a session from a write for the same two
   * calls that could serve more people a little later.
   */
  poke(): void {
    if (this.pending.length === 0) return;
    if (this.pending.length >= this.deps.settings.usersPerRead || this.pending.length >= this.active()) return this.flush();
    this.arm(this.deps.settings.windowMs - (this.deps.bulkTimers.now() - this.since));
  }

  private arm(ms: number): void {
    this.timer ??= this.deps.bulkTimers.setTimeout(() => {
      this.timer = undefined;
      this.windowEnded();
    }, Math.max(0, ms));
  }

  private windowEnded(): void {
    if (this.pending.length === 0) return;
    const s = this.deps.settings;
    const waited = this.deps.bulkTimers.now() - this.since;
    const load = this.deps.sessions.load?.(this.deps.tenantId.toLowerCase());
    if (load !== undefined && load.waiting > 0 && waited < s.readMaxWaitMs) return this.arm(Math.min(Math.max(1, s.windowMs), s.readMaxWaitMs - waited));
    this.flush();
  }

  private flush(): void {
    this.deps.bulkTimers.clearTimeout(this.timer);
    this.timer = undefined;
    while (this.pending.length > 0) {
      const group = this.pending.splice(0, this.deps.settings.usersPerRead);
      void this.readGroup(group);
    }
  }

  private async readGroup(group: SharedReader['pending']): Promise<void> {
    const ids = [...new Set(group.map((g) => g.userId.toLowerCase()))];
    let found = new Map<string, ActualVoiceState>();
    const ran: CmdletStep[] = [];
    let lease: SessionLease | undefined;
    try {
      lease = await this.deps.sessions.acquire(this.deps.tenantId.toLowerCase(), { priority: true });
      this.module = lease.session.module;
      const userParameters = { Filter: onlineUserFilter(ids), ResultSize: ids.length };
      const numberParameters = { Filter: assignmentFilter(ids), Top: 1000 };
      // A module without -Filter on either cmdlet: everyone is read one by one.
      if (adaptToModule(this.module, 'Get-CsOnlineUser', userParameters).ok && adaptToModule(this.module, 'Get-CsPhoneNumberAssignment', numberParameters).ok) {
        const users = await run(lease.session, 'Get-CsOnlineUser', userParameters, false, this.deps, ran);
        const rows: unknown[] = [];
        for (let skip = 0; ; skip += 1000) {
          const page = await run(lease.session, 'Get-CsPhoneNumberAssignment', skip === 0 ? numberParameters : { ...numberParameters, Skip: skip }, false, this.deps, ran);
          const list = Array.isArray(page) ? page : page === null || page === undefined ? [] : [page];
          rows.push(...list);
          if (list.length < 1000) break;
        }
        found = splitBulkRead(ids, users, rows);
        this.counters.sharedReads += 1;
      }
      lease.release();
    } catch (error) {
      if (lease) settleLease(lease, error);
      this.deps.logger.warn('a shared read failed; its people are read one by one', { users: ids.length, reason: toDialtoneError(error).message });
      found = new Map();
    }
    for (const entry of group) {
      const own = `${entry.userId.toLowerCase()}`;
      for (const step of ran) entry.steps.push(describeShared(step, own, ids.length));
      entry.waiter.resolve(found.get(own));
    }
  }
}

/** One person's record of a shared cmdlet: their own clause of the filter, and how many it served. */
function describeShared(step: CmdletStep, userId: string, users: number): CmdletStep {
  const filter = step.parameters.Filter;
  const own = typeof filter === 'string' ? `${filter.split(' -or ')[0]?.replace(/'[^']*'/, `'${userId}'`)} (one of ${users})` : filter;
  return { ...step, parameters: { ...step.parameters, Filter: own } };
}

interface GrantRequest {
  userId: string;
  steps: CmdletStep[];
  waiter: Waiting<boolean>;
}

interface Group {
  type: PolicyType;
  policyName: string | null;
  since: number;
  requests: GrantRequest[];
}

/** What the grant stage knows of the people on the bulk path, and the measured cmdlet times. */
interface BurstView {
  /** People who may still join a group soon; none: a burst has ended, its groups go at once. */
  mayJoin(): number;
  /** People on the bulk path now (below `peopleInFlight`: the whole burst is in flight). */
  active(): number;
  /** What one Grant-Cs* takes, as measured. */
  grantMs(): number;
  /** What one person's number steps take, as measured. */
  directMs(): number;
  /** Grants per person so far. */
  grantsPerPerson(): number;
}

/**
 * The aggregation stage for policy grants: people with the same differing (type, name) go into
 * one New-CsBatchPolicyAssignmentOperation. `grant` resolves true when the operation reported
 * the user's grant as a success, false when the caller must grant it one by one (a small group,
 * a failed user, an operation that failed or timed out).
 *
 * When a group goes: while the bulk path is full (more people queued than it holds), after
 * `grantWindowMs`. While the whole burst is in flight, by what is left of it: an operation takes
 * a minute whatever its size, and a person's grants may only start once their number is set, so
 * the best a burst can do is one operation for the people set early and one-by-one grants for
 * the people set in its last minute. A group is held while the burst's remaining work (the
 * number steps and one-by-one grants of everyone still before the grant stage) would outlast an
 * operation submitted now, and goes as soon as it would not; grants that the sessions can do one
 * by one before an operation could complete go one by one.
 */
class GrantStage {
  private readonly groups = new Map<string, Group>();
  private inFlight = 0;
  private timer: unknown;
  private timerDue = Number.POSITIVE_INFINITY;

  constructor(
    private readonly deps: BulkDeps,
    private readonly counters: BulkStats,
    private readonly module: () => ModuleView | undefined,
    private readonly burst: BurstView,
  ) {}

  private mayJoin(): number {
    return this.burst.mayJoin();
  }

  private sessions(): number {
    return this.deps.sessions.load?.(this.deps.tenantId.toLowerCase()).sessions ?? 1;
  }

  /** How long an operation over `users` takes from its submission to the poll that sees it done. */
  private operationMs(users: number): number {
    const s = this.deps.settings;
    return s.firstPollMs + s.pollPerUserMs * users + 2 * this.burst.grantMs();
  }

  /**
   * At the end of a burst (nobody can join a group any more, so every number is set and the
   * sessions are free), the grants still waiting go one by one when that takes the tenant's
   * sessions less time than an operation takes to complete: a burst's last few people do not
   * wait a minute for an operation of a handful.
   */
  private oneByOneIsFaster(groups: Group[]): boolean {
    const s = this.deps.settings;
    const grants = groups.reduce((n, g) => n + g.requests.length, 0);
    const largest = groups.reduce((n, g) => Math.max(n, g.requests.length), 0);
    if (grants === 0) return false;
    const sessions = this.sessions();
    // Each person's grants run in turn on one session, so a lone person's three take three calls.
    const people = new Set(groups.flatMap((g) => g.requests.map((r) => r.userId))).size;
    const oneByOneMs = (this.burst.grantMs() * grants) / Math.min(sessions, Math.max(1, people));
    return oneByOneMs < s.firstPollMs + s.pollPerUserMs * largest;
  }

  /** One person's differing grants, all joining their groups before anything is submitted; one outcome per grant. */
  grant(grantSteps: Step[], userId: string, steps: CmdletStep[]): Promise<boolean>[] {
    const outcomes = grantSteps.map(
      (step) =>
        new Promise<boolean>((resolve) => {
          const type = grantCmdletPolicyType(step.cmdlet)!;
          const policyName = (step.parameters.PolicyName as string | null | undefined) ?? null;
          const key = `${type}|${policyName?.toLowerCase() ?? ''}`;
          let group = this.groups.get(key);
          if (group === undefined) {
            group = { type, policyName, since: this.deps.bulkTimers.now(), requests: [] };
            this.groups.set(key, group);
          }
          group.requests.push({ userId, steps, waiter: { resolve } });
        }),
    );
    this.pump();
    return outcomes;
  }

  /** Someone left the bulk path: a group that waited for them may go now. */
  poke(): void {
    if (this.groups.size > 0) this.pump();
  }

  /** Submits what is ready while there is room; hands small groups back at the end of their window. */
  private pump(): void {
    const s = this.deps.settings;
    if (s.peopleInFlight > 0 && this.burst.active() < s.peopleInFlight) return this.pumpBurst();
    const now = this.deps.bulkTimers.now();
    let nextDue = Number.POSITIVE_INFINITY;
    const ending = this.mayJoin() === 0;
    const tail = ending && this.oneByOneIsFaster([...this.groups.values()].filter((g) => g.requests.length < s.usersPerOperation));
    for (const [key, group] of [...this.groups].sort((a, b) => a[1].since - b[1].since)) {
      const full = group.requests.length >= s.usersPerOperation;
      const due = now - group.since >= s.grantWindowMs || ending;
      if (!full && !due) {
        nextDue = Math.min(nextDue, group.since + s.grantWindowMs);
        continue;
      }
      if (group.requests.length < s.minUsersPerOperation || (tail && !full)) {
        this.handBack(key, group);
        continue;
      }
      if (this.inFlight >= s.operationsInFlight) continue;
      this.submit(key, group, now);
    }
    this.armAt(nextDue, now);
  }

  /**
   * The whole burst is in flight: each group goes when the burst's remaining work no longer
   * outlasts an operation of it, or one by one when the sessions would be done with everything
   * left before such an operation completed.
   */
  private pumpBurst(): void {
    const s = this.deps.settings;
    const now = this.deps.bulkTimers.now();
    const sessions = this.sessions();
    const grantMs = this.burst.grantMs();
    const waitingGrants = [...this.groups.values()].reduce((n, g) => n + g.requests.length, 0);
    // Session time still needed by the people before the grant stage, granted one by one.
    const tailMs = (this.mayJoin() * (this.burst.directMs() + this.burst.grantsPerPerson() * grantMs)) / sessions;
    // The same, with every grant waiting here one by one too.
    const allMs = tailMs + (waitingGrants * grantMs) / Math.max(1, Math.min(sessions, waitingGrants));
    let nextDue = Number.POSITIVE_INFINITY;
    for (const [key, group] of [...this.groups].sort((a, b) => a[1].since - b[1].since)) {
      const size = Math.min(group.requests.length, s.usersPerOperation);
      const operationMs = this.operationMs(size);
      const full = group.requests.length >= s.usersPerOperation;
      if (!full && allMs <= operationMs) {
        this.handBack(key, group);
        continue;
      }
      const held = now - group.since < s.grantMaxWaitMs;
      if (!full && held && tailMs > operationMs) {
        nextDue = Math.min(nextDue, group.since + s.grantMaxWaitMs);
        continue;
      }
      if (group.requests.length < s.minUsersPerOperation) {
        this.handBack(key, group);
        continue;
      }
      if (this.inFlight >= s.operationsInFlight) continue;
      this.submit(key, group, now);
    }
    this.armAt(nextDue, now);
  }

  private handBack(key: string, group: Group): void {
    this.groups.delete(key);
    for (const r of group.requests) r.waiter.resolve(false);
  }

  private submit(key: string, group: Group, now: number): void {
    const batch = group.requests.splice(0, this.deps.settings.usersPerOperation);
    if (group.requests.length === 0) this.groups.delete(key);
    else group.since = now;
    this.inFlight += 1;
    void this.operation(group.type, group.policyName, batch).finally(() => {
      this.inFlight -= 1;
      this.pump();
    });
  }

  private armAt(nextDue: number, now: number): void {
    if (this.groups.size === 0 && this.timer !== undefined) {
      // Nothing left to wait for: a stale timer would only keep the clock going.
      this.deps.bulkTimers.clearTimeout(this.timer);
      this.timer = undefined;
      this.timerDue = Number.POSITIVE_INFINITY;
    }
    if (nextDue >= this.timerDue) return;
    this.deps.bulkTimers.clearTimeout(this.timer);
    this.timerDue = nextDue;
    this.timer = this.deps.bulkTimers.setTimeout(() => {
      this.timer = undefined;
      this.timerDue = Number.POSITIVE_INFINITY;
      this.pump();
    }, Math.max(0, nextDue - now));
  }

  private async operation(type: PolicyType, policyName: string | null, batch: GrantRequest[]): Promise<void> {
    const s = this.deps.settings;
    const ids = [...new Set(batch.map((r) => r.userId))];
    const parameters = { PolicyType: type, PolicyName: policyName, Identity: ids, OperationName: `Dialtone ${type} ${policyName ?? 'Global'} (${ids.length} users)` };
    const started = this.deps.bulkTimers.now();
    let results = new Map<string, string>();
    let operationId: string | undefined;
    const ran: CmdletStep[] = [];
    try {
      if (!adaptToModule(this.module(), 'New-CsBatchPolicyAssignmentOperation', parameters).ok) throw new Error('New-CsBatchPolicyAssignmentOperation does not bind in the installed module');
      operationId = operationIdOf(await this.withSession((lease) => run(lease.session, 'New-CsBatchPolicyAssignmentOperation', parameters, true, this.deps, ran)));
      if (operationId === undefined) throw new Error('New-CsBatchPolicyAssignmentOperation returned no operation id');
      this.counters.operations += 1;
      const id = operationId;
      await sleep(this.deps.bulkTimers, s.firstPollMs + s.pollPerUserMs * ids.length);
      for (;;) {
        const progress = operationProgress(await this.withSession((lease) => run(lease.session, 'Get-CsBatchPolicyAssignmentOperation', { Identity: id }, false, this.deps, [])));
        if (progress.done) {
          results = progress.results;
          break;
        }
        if (this.deps.bulkTimers.now() - started >= s.operationTimeoutMs) throw new Error(`operation ${id} did not complete within ${s.operationTimeoutMs} ms`);
        await sleep(this.deps.bulkTimers, s.pollIntervalMs);
      }
    } catch (error) {
      this.deps.logger.warn('a batch policy operation failed; its users are granted one by one', {
        policyType: type,
        users: ids.length,
        ...(operationId ? { operationId } : {}),
        reason: toDialtoneError(error).message,
      });
    }
    for (const request of batch) {
      const outcome = results.get(request.userId.toLowerCase());
      const ok = succeeded(outcome);
      if (ok) this.counters.grantedInOperations += 1;
      request.steps.push({
        cmdlet: 'New-CsBatchPolicyAssignmentOperation',
        parameters: { PolicyType: type, PolicyName: policyName, Identity: request.userId, ...(operationId ? { OperationId: operationId } : {}), Users: ids.length, ...(ok || outcome === undefined ? {} : { Result: outcome }) },
        write: true,
        ok,
        durationMs: Math.max(0, this.deps.bulkTimers.now() - started),
      });
      request.waiter.resolve(ok);
    }
  }

  private async withSession<T>(fn: (lease: SessionLease) => Promise<T>): Promise<T> {
    const lease = await this.deps.sessions.acquire(this.deps.tenantId.toLowerCase(), { priority: true });
    try {
      const value = await fn(lease);
      lease.release();
      return value;
    } catch (error) {
      settleLease(lease, error);
      throw error;
    }
  }
}

