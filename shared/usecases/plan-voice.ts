import { personSessionId } from '../domain/ids.js';
import {
  queueNames,
  type DirectoryUser,
  type UserChange,
  type VoiceCommand,
  type CommandReason,
} from '../contracts/messages.js';
import { deterministicId } from '../domain/ids.js';
import { hasTeamsPhone } from '../domain/licensing.js';
import { evaluatePolicy, managedPolicyTypes, mergeAttributes, type VoicePolicy } from '../domain/policy.js';
import type { StageOutcome } from '../domain/settlement.js';
import {
  canonicalDesiredState,
  sameDesiredState,
  voiceOffState,
  type DesiredVoiceState,
} from '../domain/voice-state.js';
import type { UseCaseResult } from '../handlers/stage-runner.js';
import { describeLeft, hasLeft, judgeChange, nextPlanVersion, storedFacts, type PersonFacts } from '../domain/ordering.js';
import type { Clock } from '../ports/clock.js';
import type { Directory } from '../ports/directory.js';
import type { AllocationOutcome, NumberInventory, NumberRecord } from '../ports/number-inventory.js';
import type { PolicyCatalog } from '../ports/policy-catalog.js';
import type { TeamsAdmin, TeamsUserConfiguration } from '../ports/teams-admin.js';
import { DialtoneError, isDialtoneError } from '../domain/errors.js';
import { judgeTeamsReadiness } from '../domain/teams-readiness.js';
import type { ProvisioningRecord, ProvisioningRecords } from '../ports/provisioning-records.js';
import { appendHistory, emptyRecord } from './record-history.js';
import { inTenant, type OneOrPerTenant } from '../ports/per-tenant.js';
import type { VoiceCommandRoute } from '../domain/tenants.js';

/** What plan needs, for one tenant. */
export interface TenantPlanDeps {
  directory: Directory;
  records: ProvisioningRecords;
  inventory: NumberInventory;
  catalog: PolicyCatalog;
  policy: VoicePolicy;
  clock: Clock;
  /** A forwarded Graph snapshot younger than this is used instead of a second Graph read. */
  snapshotMaxAgeMs: number;
  reservationTtlMs: number;
  /**
   * Teams' own view of the user (Graph `userConfigurations`), read before a command that needs
   * Teams to have provisioned the user; absent = do not wait for Teams (DIALTONE_TEAMS_READINESS=off).
   */
  teams?: Pick<TeamsAdmin, 'userConfiguration'>;
  /** Where this tenant's commands go (by its Teams backend); absent = voice-commands. */
  route?: VoiceCommandRoute;
}

/**
 * plan's dependencies: the tenant-specific ones (the directory, Teams' view, the voice policy and
 * the CallingLineIdentity catalogue) either one for the deployment or one per tenant; each change
 * is planned with those of its own tenant (the change's tenantId, else the record's).
 */
export interface PlanDeps extends Omit<TenantPlanDeps, 'directory' | 'catalog' | 'policy' | 'teams' | 'route'> {
  directory: OneOrPerTenant<Directory>;
  catalog: OneOrPerTenant<PolicyCatalog>;
  policy: OneOrPerTenant<VoicePolicy>;
  teams?: OneOrPerTenant<Pick<TeamsAdmin, 'userConfiguration'>>;
  route?: OneOrPerTenant<VoiceCommandRoute>;
}

/** The dependencies of one tenant; a tenant whose credential fails throws here, for its messages alone. */
async function inTenantPlan(deps: PlanDeps, tenantId: string | undefined): Promise<TenantPlanDeps> {
  const [directory, catalog, policy, teams, route] = await Promise.all([
    inTenant(deps.directory, tenantId),
    inTenant(deps.catalog, tenantId),
    inTenant(deps.policy, tenantId),
    deps.teams === undefined ? undefined : inTenant(deps.teams, tenantId),
    deps.route === undefined ? undefined : inTenant(deps.route, tenantId),
  ]);
  const { teams: _teams, route: _route, ...rest } = deps;
  // The person's numbers are in their tenant's own inventory (docs/NUMBERS.md "Tenants").
  return { ...rest, inventory: deps.inventory.forTenant(tenantId), directory, catalog, policy, ...(teams ? { teams } : {}), ...(route ? { route } : {}) };
}

/** Reads the user's Teams configuration once per plan; a missing permission is an operator's fix, not lag. */
function teamsReader(deps: TenantPlanDeps, userId: string): () => Promise<TeamsUserConfiguration | null> {
  let read: Promise<TeamsUserConfiguration | null> | undefined;
  return () => {
    read ??= (async () => {
      try {
        return (await deps.teams?.userConfiguration(userId)) ?? null;
      } catch (error) {
        if (isDialtoneError(error) && error.details.status === 403) {
          throw new DialtoneError(
            'ConfigInvalid',
            `Graph refused to read the Teams user configuration (403): the Function App identity needs TeamsUserConfiguration.Read.All. Run scripts/grant-graph-permissions.sh (or set DIALTONE_TEAMS_READINESS=off), then replay.`,
            { details: error.details },
          );
        }
        throw error;
      }
    })();
    return read;
  };
}

type Intent =
  | { kind: 'outcome'; outcome: StageOutcome }
  | {
      kind: 'command';
      desired: DesiredVoiceState;
      reason: CommandReason;
      allocation: { pool: string; number: string } | null;
      /** Why, when it is not the change itself (a sticky HR leaver). */
      because?: string;
    };

/** user-changes → voice-commands: decide the full desired voice state and allocate its number. */
export async function planVoice(change: UserChange, planDeps: PlanDeps): Promise<UseCaseResult> {
  const now = planDeps.clock.now();
  const record = await planDeps.records.get(change.userId);

  // A person belongs to one tenant: a change naming another tenant than the record's is misrouted.
  if (record?.tenantId !== undefined && change.tenantId !== undefined && record.tenantId !== change.tenantId) {
    return { outcome: { kind: 'permanent', code: 'InvalidMessage', message: `tenantId: ${change.userId} belongs to tenant ${record.tenantId}, not ${change.tenantId}; nothing of it is planned` } };
  }
  // The person's tenant: the change's, else the record's (a resync, replay or notification may name none).
  const tenantId = change.tenantId ?? record?.tenantId;
  const deps = await inTenantPlan(planDeps, tenantId);
  const judgement = judgeChange(record, change);
  if (judgement.kind === 'stale') {
    await remember(deps, change, record, null, 'stale', judgement.summary, null);
    return { outcome: { kind: 'stale', summary: judgement.summary } };
  }
  const facts = judgement.facts;
  if (deps.route && !deps.route.ok) {
    await remember(deps, change, record, null, 'ConfigInvalid', deps.route.reason, null);
    return { outcome: { kind: 'permanent', code: 'ConfigInvalid', message: deps.route.reason } };
  }

  const read = await readUser(change, record, deps, now);
  const user = read?.user;
  const seen: Seen = { facts, directoryReadAt: read?.readAt ?? null };
  const held = (await deps.inventory.list({ userId: change.userId })).filter(
    (n) => n.state === 'reserved' || n.state === 'assigned',
  );
  if (!user && (change.changeType === 'deleted' || change.changeType === 'leaver' || hasLeft(facts))) {
    return releaseDeletedUser(change, record, seen, held, deps);
  }
  const intent = await decide(change, user, record, facts, held, deps);
  if (intent.kind === 'outcome') {
    if (intent.outcome.kind === 'permanent') {
      await remember(deps, change, record, seen, intent.outcome.code, intent.outcome.message, null);
    }
    return { outcome: intent.outcome };
  }

  const releases = held
    .filter((n) => n.number !== intent.allocation?.number)
    .map((n) => ({ pool: n.pool, number: n.number }));
  const upn = user?.userPrincipalName ?? record?.userPrincipalName ?? change.userId;
  const because = intent.because ? `${intent.because}; ` : '';

  if (!change.reapply && record?.lastApplied && sameDesiredState(record.lastApplied, intent.desired) && releases.length === 0) {
    const summary = `${upn}: ${because}desired voice state already applied by ${record.lastCommandId ?? 'an earlier command'}; nothing to send`;
    await remember(deps, change, record, seen, 'skipped', summary, null, upn);
    return { outcome: { kind: 'done', summary } };
  }

  const commandId = deterministicId('cmd', change.userId, change.eventId, canonicalDesiredState(intent.desired));
  const summary = `${upn}: ${because}${describeDesired(intent.desired)}${releases.length > 0 ? `; then quarantine ${releases.map((r) => r.number).join(', ')}` : ''}`;
  const stored = await remember(deps, change, record, seen, 'command', summary, commandId, upn, true);
  const command: VoiceCommand = {
    commandId,
    userId: change.userId,
    // Planned in that tenant, so applied there: never the home tenant's for a registered tenant's person.
    ...(tenantId !== undefined ? { tenantId } : {}),
    userPrincipalName: upn,
    correlationId: change.correlationId,
    eventId: change.eventId,
    occurredAt: change.occurredAt,
    issuedAt: now.toISOString(),
    reason: intent.reason,
    desired: intent.desired,
    allocation: intent.allocation,
    releases,
    ...(stored.planVersion !== undefined ? { version: stored.planVersion } : {}),
  };
  return {
    outcome: { kind: 'done', summary },
    send: [
      {
        queue: deps.route?.ok ? deps.route.queue : queueNames.voiceCommands,
        messages: [
          {
            body: command,
            messageId: command.commandId,
            sessionId: personSessionId(command.userId, command.tenantId),
            correlationId: command.correlationId,
            contentType: 'application/json',
            subject: command.reason,
          },
        ],
      },
    ],
  };
}

/** What this plan learned: the facts after the change, and when the directory was read. */
interface Seen {
  facts: PersonFacts;
  directoryReadAt: string | null;
}

/**
 * The account is gone from the directory: Teams drops its number with it and no cmdlet can reach
 * it any more, so the numbers are quarantined here instead of through a command.
 */
async function releaseDeletedUser(
  change: UserChange,
  record: ProvisioningRecord | undefined,
  seen: Seen,
  held: NumberRecord[],
  deps: TenantPlanDeps,
): Promise<UseCaseResult> {
  const actor = { now: deps.clock.now(), correlationId: change.correlationId };
  for (const n of held) await deps.inventory.release(n.number, change.userId, actor);
  const numbers = held.map((n) => n.number);
  const summary = `${record?.userPrincipalName ?? change.userId} is no longer in the directory; ${
    numbers.length > 0 ? `${numbers.join(', ')} quarantined` : 'no number to release'
  }`;
  await remember(deps, change, record, seen, 'released', summary, null);
  await deps.records.update(change.userId, (current) => ({
    ...(current ?? emptyRecord(change.userId, change.userId)),
    lastApplied: voiceOffState(managedPolicyTypes(deps.policy)),
    lastAppliedAt: actor.now.toISOString(),
  }));
  return { outcome: { kind: 'done', summary } };
}

/**
 * A forwarded snapshot is used while it is young and not older than a directory read an earlier
 * plan already used for the person (a rescheduled HR event must not bring back older Entra facts).
 */
async function readUser(
  change: UserChange,
  record: ProvisioningRecord | undefined,
  deps: TenantPlanDeps,
  now: Date,
): Promise<{ user: DirectoryUser; readAt: string } | undefined> {
  const snapshot = change.snapshot;
  const newestRead = record?.directoryReadAt ? Date.parse(record.directoryReadAt) : undefined;
  const readAt = snapshot ? Date.parse(snapshot.readAt) : NaN;
  if (snapshot && now.getTime() - readAt <= deps.snapshotMaxAgeMs && (newestRead === undefined || readAt >= newestRead)) {
    return { user: snapshot.user, readAt: snapshot.readAt };
  }
  const user = await deps.directory.getUser(change.userId);
  return user ? { user, readAt: now.toISOString() } : undefined;
}

/** How a number is obtained: a reservation when planning, a look without touching anything for a preview. */
type Allocator = (pool: string, userId: string) => Promise<AllocationOutcome>;

async function decide(
  change: UserChange,
  user: DirectoryUser | undefined,
  record: ProvisioningRecord | undefined,
  facts: PersonFacts,
  held: NumberRecord[],
  deps: TenantPlanDeps,
  allocate: Allocator = (pool, userId) =>
    deps.inventory.allocate(pool, userId, { now: deps.clock.now(), correlationId: change.correlationId, reservationTtlMs: deps.reservationTtlMs }),
  readTeams: () => Promise<TeamsUserConfiguration | null> = teamsReader(deps, change.userId),
): Promise<Intent> {
  const off = (reason: CommandReason): Extract<Intent, { kind: 'command' }> => ({
    kind: 'command',
    desired: voiceOffState(managedPolicyTypes(deps.policy)),
    reason,
    allocation: null,
  });
  if (change.changeType === 'leaver' || change.changeType === 'deleted') return off('leaver');
  // Sticky: HR said the person left; no Entra change, resync or replay gives voice back until a
  // newer HR joiner (a rehire) does. HR dates lead account disablement, so Entra may still say enabled.
  if (facts.lifecycle && hasLeft(facts)) return { ...off('leaver'), because: describeLeft(facts.lifecycle) };
  if (!user) {
    return wait('UserNotFound', `Entra ID user ${change.userId} is not visible in Microsoft Graph yet (directory sync can lag).`);
  }
  if (user.accountEnabled === false) return off('leaver');

  const attributes = mergeAttributes(user, facts.person ?? undefined);
  const decision = evaluatePolicy(deps.policy, attributes, {
    callingLineIdentities: await deps.catalog.callingLineIdentities(),
  });
  if (decision.kind === 'error') return permanent(decision.code, `${user.userPrincipalName}: ${decision.message}`);
  if (decision.kind === 'no-voice') return off('voice-disabled');

  if (!hasTeamsPhone(user.assignedPlans)) {
    if (held.length > 0 || record?.lastApplied?.enterpriseVoiceEnabled) return off('unlicensed');
    // A directory change (a notification, or the resync re-planning everyone once a day) of someone
    // without voice: nothing to take away, and no HR event asking for voice that a licence would
    // let through, so there is nothing to wait for (waiting dead-lettered NotLicensed a day later).
    // An HR joiner or mover still waits for its licence.
    if (change.source !== 'hr') {
      return { kind: 'outcome', outcome: { kind: 'done', summary: `${user.userPrincipalName}: no Teams Phone licence and no voice; nothing to do` } };
    }
    return wait(
      'NotLicensed',
      `${user.userPrincipalName} has no enabled Teams Phone (MCOEV) service plan yet; group-based licensing can take hours. Assign a licence that includes Teams Phone.`,
    );
  }

  // Licensed in Entra ID is not provisioned in Teams: wait for Teams before sending a command it would refuse.
  if (deps.teams) {
    const readiness = judgeTeamsReadiness(await readTeams(), { voice: decision.enterpriseVoice }, user.userPrincipalName);
    if (!readiness.ready) return wait('TeamsNotProvisioned', readiness.message);
  }

  const reason: CommandReason = change.changeType === 'joiner' || change.changeType === 'mover' ? change.changeType : 'update';
  if (!decision.enterpriseVoice) {
    return {
      kind: 'command',
      desired: { enterpriseVoiceEnabled: false, phoneNumber: null, phoneNumberType: 'DirectRouting', policies: decision.policies },
      reason,
      allocation: null,
    };
  }
  if (!decision.numberPool) {
    const site = attributes['site'] ?? '(none)';
    return permanent(
      'PoolNotFound',
      `${user.userPrincipalName}: no policy rule names a number pool for this person (site '${String(site)}', rules matched: ${decision.matchedRules.join(', ') || 'none'}). Add a rule with numberPool to the voice policy, then replay.`,
    );
  }
  const allocation = await allocate(decision.numberPool, change.userId);
  if (!allocation.ok) return permanent(allocation.reason, `${user.userPrincipalName}: ${allocation.message}`);
  return {
    kind: 'command',
    desired: {
      enterpriseVoiceEnabled: true,
      phoneNumber: allocation.number,
      phoneNumberType: 'DirectRouting',
      policies: decision.policies,
    },
    reason,
    allocation: { pool: allocation.pool, number: allocation.number },
  };
}

function wait(code: 'UserNotFound' | 'NotLicensed' | 'TeamsNotProvisioned', message: string): Intent {
  return { kind: 'outcome', outcome: { kind: 'wait', code, message } };
}

function permanent(code: Extract<StageOutcome, { kind: 'permanent' }>['code'], message: string): Intent {
  return { kind: 'outcome', outcome: { kind: 'permanent', code, message } };
}

export function describeDesired(desired: DesiredVoiceState): string {
  if (!desired.enterpriseVoiceEnabled && desired.phoneNumber === null) return 'no Teams Phone (number removed, Enterprise Voice off, policies reset)';
  const policies = Object.entries(desired.policies)
    .map(([type, name]) => `${type}=${name ?? 'Global'}`)
    .join(', ');
  return `Enterprise Voice ${desired.enterpriseVoiceEnabled ? 'on' : 'off'}, number ${desired.phoneNumber ?? 'none'}${policies ? `, ${policies}` : ''}`;
}

/**
 * Writes what this plan concluded to the record: the history entry always, the facts only when
 * the change was not stale (stale input never overwrites newer stored facts), and a new plan
 * version when a command is issued. Returns the stored record.
 */
async function remember(
  deps: TenantPlanDeps,
  change: UserChange,
  record: ProvisioningRecord | undefined,
  seen: Seen | null,
  outcome: string,
  detail: string,
  commandId: string | null,
  upn?: string,
  issuesCommand = false,
): Promise<ProvisioningRecord> {
  const at = deps.clock.now().toISOString();
  return deps.records.update(change.userId, (current) => {
    const base = current ?? emptyRecord(change.userId, upn ?? record?.userPrincipalName ?? change.userId);
    // Judged again on the current row: another plan may have stored newer facts meanwhile.
    const again = seen ? judgeChange(base, change) : undefined;
    const facts = again?.kind === 'fresh' ? again.facts : undefined;
    const readAt = seen?.directoryReadAt;
    const newerRead = readAt && (!base.directoryReadAt || Date.parse(readAt) > Date.parse(base.directoryReadAt));
    const version = issuesCommand && commandId ? nextPlanVersion(base, commandId) : undefined;
    return appendHistory(
      {
        ...base,
        ...(change.tenantId !== undefined && base.tenantId === undefined ? { tenantId: change.tenantId } : {}),
        userPrincipalName: upn ?? base.userPrincipalName,
        ...(facts
          ? { lastEventAt: facts.lastEventAt, lastEventId: facts.lastEventId, person: facts.person, lifecycle: facts.lifecycle }
          : {}),
        ...(newerRead ? { directoryReadAt: readAt } : {}),
        ...(version !== undefined ? { planVersion: version, plannedCommandId: commandId } : {}),
      },
      {
        at,
        correlationId: change.correlationId,
        eventId: change.eventId,
        commandId,
        stage: 'plan',
        outcome,
        detail: version !== undefined ? `${detail} (plan version ${version})` : detail,
        source: change.source,
      },
    );
  });
}

export type VoicePreview =
  | { kind: 'command'; desired: DesiredVoiceState; reason: CommandReason; number: { pool: string; number: string } | null; releases: string[] }
  | { kind: 'outcome'; outcome: StageOutcome };

/**
 * `dialtone plan`: what `plan` would decide for a user now, without reserving a number or
 * writing anything. The number shown is the one the user holds in the pool, or the one a
 * reservation would take now (the lowest free one).
 */
export async function previewVoice(
  userId: string,
  planDeps: PlanDeps,
  tenantId?: string,
): Promise<{ user: DirectoryUser | undefined; record: ProvisioningRecord | undefined; preview: VoicePreview; live: LiveTeamsState }> {
  const known = await planDeps.records.get(userId);
  const deps = await inTenantPlan(planDeps, tenantId ?? known?.tenantId);
  const [user, record] = await Promise.all([deps.directory.getUser(userId), deps.records.get(userId)]);
  const held = (await deps.inventory.list({ userId })).filter((n) => n.state === 'reserved' || n.state === 'assigned');
  const change: UserChange = { userId, source: 'resync', changeType: 'updated', eventId: 'preview', correlationId: 'preview', occurredAt: deps.clock.now().toISOString() };
  const peek: Allocator = async (pool, id) => {
    const mine = (await deps.inventory.list({ pool, userId: id })).find((n) => n.state !== 'blocked' && n.state !== 'free');
    if (mine) return { ok: true, number: mine.number, pool, state: mine.state === 'assigned' ? 'assigned' : 'reserved', reused: true };
    const free = (await deps.inventory.list({ pool, state: 'free' }))[0];
    if (free) return { ok: true, number: free.number, pool, state: 'reserved', reused: false };
    const pools = await deps.inventory.pools();
    return pools.some((p) => p.pool === pool)
      ? { ok: false, reason: 'PoolExhausted', message: `pool '${pool}' has no free number right now` }
      : { ok: false, reason: 'PoolNotFound', message: `pool '${pool}' does not exist` };
  };
  const readTeams = teamsReader(deps, userId);
  const intent = await decide(change, user, record, storedFacts(record), held, deps, peek, readTeams);
  const live = await liveState(deps, readTeams);
  if (intent.kind === 'outcome') return { user, record, preview: intent, live };
  return {
    user,
    record,
    live,
    preview: {
      kind: 'command',
      desired: intent.desired,
      reason: intent.reason,
      number: intent.allocation,
      releases: held.filter((n) => n.number !== intent.allocation?.number).map((n) => n.number),
    },
  };
}

/** What Teams itself says now, from the same read readiness uses (or why it could not be read). */
export type LiveTeamsState =
  | { kind: 'read'; configuration: TeamsUserConfiguration | null }
  | { kind: 'unavailable'; reason: string };

async function liveState(deps: TenantPlanDeps, readTeams: () => Promise<TeamsUserConfiguration | null>): Promise<LiveTeamsState> {
  if (!deps.teams) return { kind: 'unavailable', reason: 'no Teams read configured (DIALTONE_TEAMS_READINESS=off)' };
  try {
    return { kind: 'read', configuration: await readTeams() };
  } catch (error) {
    return { kind: 'unavailable', reason: error instanceof Error ? error.message : String(error) };
  }
}
