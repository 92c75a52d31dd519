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
import type { Clock } from '../ports/clock.js';
import type { Directory } from '../ports/directory.js';
import type { AllocationOutcome, NumberInventory, NumberRecord } from '../ports/number-inventory.js';
import type { PolicyCatalog } from '../ports/policy-catalog.js';
import type { ProvisioningRecord, ProvisioningRecords } from '../ports/provisioning-records.js';
import { appendHistory, emptyRecord } from './record-history.js';

export interface PlanDeps {
  directory: Directory;
  records: ProvisioningRecords;
  inventory: NumberInventory;
  catalog: PolicyCatalog;
  policy: VoicePolicy;
  clock: Clock;
  /** A forwarded Graph snapshot younger than this is used instead of a second Graph read. */
  snapshotMaxAgeMs: number;
  reservationTtlMs: number;
}

type Intent =
  | { kind: 'outcome'; outcome: StageOutcome }
  | { kind: 'command'; desired: DesiredVoiceState; reason: CommandReason; allocation: { pool: string; number: string } | null };

/** user-changes → voice-commands: decide the full desired voice state and allocate its number. */
export async function planVoice(change: UserChange, deps: PlanDeps): Promise<UseCaseResult> {
  const now = deps.clock.now();
  const record = await deps.records.get(change.userId);

  if (isStale(change, record)) {
    const summary = `event ${change.eventId} (${change.occurredAt}) is older than ${record?.lastEventId} (${record?.lastEventAt}), which already applies`;
    await remember(deps, change, record, 'stale', summary, null);
    return { outcome: { kind: 'stale', summary } };
  }

  const user = await readUser(change, deps, now);
  const held = (await deps.inventory.list({ userId: change.userId })).filter(
    (n) => n.state === 'reserved' || n.state === 'assigned',
  );
  if (!user && (change.changeType === 'deleted' || change.changeType === 'leaver')) {
    return releaseDeletedUser(change, record, held, deps);
  }
  const intent = await decide(change, user, record, held, deps);
  if (intent.kind === 'outcome') {
    if (intent.outcome.kind === 'permanent') {
      await remember(deps, change, record, intent.outcome.code, intent.outcome.message, null);
    }
    return { outcome: intent.outcome };
  }

  const releases = held
    .filter((n) => n.number !== intent.allocation?.number)
    .map((n) => ({ pool: n.pool, number: n.number }));
  const upn = user?.userPrincipalName ?? record?.userPrincipalName ?? change.userId;

  if (record?.lastApplied && sameDesiredState(record.lastApplied, intent.desired) && releases.length === 0) {
    const summary = `${upn}: desired voice state already applied by ${record.lastCommandId ?? 'an earlier command'}; nothing to send`;
    await remember(deps, change, record, 'skipped', summary, null, upn);
    return { outcome: { kind: 'done', summary } };
  }

  const command: VoiceCommand = {
    commandId: deterministicId('cmd', change.userId, change.eventId, canonicalDesiredState(intent.desired)),
    userId: change.userId,
    userPrincipalName: upn,
    correlationId: change.correlationId,
    eventId: change.eventId,
    occurredAt: change.occurredAt,
    issuedAt: now.toISOString(),
    reason: intent.reason,
    desired: intent.desired,
    allocation: intent.allocation,
    releases,
  };
  const summary = `${upn}: ${describeDesired(intent.desired)}${releases.length > 0 ? `; then quarantine ${releases.map((r) => r.number).join(', ')}` : ''}`;
  await remember(deps, change, record, 'command', summary, command.commandId, upn);
  return {
    outcome: { kind: 'done', summary },
    send: [
      {
        queue: queueNames.voiceCommands,
        messages: [
          {
            body: command,
            messageId: command.commandId,
            sessionId: command.userId,
            correlationId: command.correlationId,
            contentType: 'application/json',
            subject: command.reason,
          },
        ],
      },
    ],
  };
}

/**
 * The account is gone from the directory: Teams drops its number with it and no cmdlet can reach
 * it any more, so the numbers are quarantined here instead of through a command.
 */
async function releaseDeletedUser(
  change: UserChange,
  record: ProvisioningRecord | undefined,
  held: NumberRecord[],
  deps: PlanDeps,
): Promise<UseCaseResult> {
  const actor = { now: deps.clock.now(), correlationId: change.correlationId };
  for (const n of held) await deps.inventory.release(n.number, change.userId, actor);
  const numbers = held.map((n) => n.number);
  const summary = `${record?.userPrincipalName ?? change.userId} is no longer in the directory; ${
    numbers.length > 0 ? `${numbers.join(', ')} quarantined` : 'no number to release'
  }`;
  await remember(deps, change, record, 'released', summary, null);
  await deps.records.update(change.userId, (current) => ({
    ...(current ?? emptyRecord(change.userId, change.userId)),
    lastApplied: voiceOffState(managedPolicyTypes(deps.policy)),
    lastAppliedAt: actor.now.toISOString(),
  }));
  return { outcome: { kind: 'done', summary } };
}

function isStale(change: UserChange, record: ProvisioningRecord | undefined): boolean {
  if (change.source !== 'hr' || !record?.lastEventAt || record.lastEventId === change.eventId) return false;
  return Date.parse(change.occurredAt) < Date.parse(record.lastEventAt);
}

async function readUser(change: UserChange, deps: PlanDeps, now: Date): Promise<DirectoryUser | undefined> {
  const snapshot = change.snapshot;
  if (snapshot && now.getTime() - Date.parse(snapshot.readAt) <= deps.snapshotMaxAgeMs) return snapshot.user;
  return deps.directory.getUser(change.userId);
}

/** How a number is obtained: a reservation when planning, a look without touching anything for a preview. */
type Allocator = (pool: string, userId: string) => Promise<AllocationOutcome>;

async function decide(
  change: UserChange,
  user: DirectoryUser | undefined,
  record: ProvisioningRecord | undefined,
  held: NumberRecord[],
  deps: PlanDeps,
  allocate: Allocator = (pool, userId) =>
    deps.inventory.allocate(pool, userId, { now: deps.clock.now(), correlationId: change.correlationId, reservationTtlMs: deps.reservationTtlMs }),
): Promise<Intent> {
  const off = (reason: CommandReason): Intent => ({
    kind: 'command',
    desired: voiceOffState(managedPolicyTypes(deps.policy)),
    reason,
    allocation: null,
  });
  if (change.changeType === 'leaver' || change.changeType === 'deleted') return off('leaver');
  if (!user) {
    return wait('UserNotFound', `Entra ID user ${change.userId} is not visible in Microsoft Graph yet (directory sync can lag).`);
  }
  if (user.accountEnabled === false) return off('leaver');

  const attributes = mergeAttributes(user, change.person ?? record?.person ?? undefined);
  const decision = evaluatePolicy(deps.policy, attributes, {
    callingLineIdentities: await deps.catalog.callingLineIdentities(),
  });
  if (decision.kind === 'error') return permanent(decision.code, `${user.userPrincipalName}: ${decision.message}`);
  if (decision.kind === 'no-voice') return off('voice-disabled');

  if (!hasTeamsPhone(user.assignedPlans)) {
    if (held.length > 0 || record?.lastApplied?.enterpriseVoiceEnabled) return off('unlicensed');
    return wait(
      'NotLicensed',
      `${user.userPrincipalName} has no enabled Teams Phone (MCOEV) service plan yet; group-based licensing can take hours. Assign a licence that includes Teams Phone.`,
    );
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

function wait(code: 'UserNotFound' | 'NotLicensed', message: string): Intent {
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

async function remember(
  deps: PlanDeps,
  change: UserChange,
  record: ProvisioningRecord | undefined,
  outcome: string,
  detail: string,
  commandId: string | null,
  upn?: string,
): Promise<void> {
  const at = deps.clock.now().toISOString();
  await deps.records.update(change.userId, (current) => {
    const base = current ?? emptyRecord(change.userId, upn ?? record?.userPrincipalName ?? change.userId);
    const newer = outcome !== 'stale' && change.source === 'hr' && (!base.lastEventAt || Date.parse(change.occurredAt) >= Date.parse(base.lastEventAt));
    return appendHistory(
      {
        ...base,
        userPrincipalName: upn ?? base.userPrincipalName,
        lastEventAt: newer ? change.occurredAt : base.lastEventAt,
        lastEventId: newer ? change.eventId : base.lastEventId,
        person: change.person ?? base.person ?? null,
      },
      { at, correlationId: change.correlationId, eventId: change.eventId, commandId, stage: 'plan', outcome, detail },
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
export async function previewVoice(userId: string, deps: PlanDeps): Promise<{ user: DirectoryUser | undefined; record: ProvisioningRecord | undefined; preview: VoicePreview }> {
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
  const intent = await decide(change, user, record, held, deps, peek);
  if (intent.kind === 'outcome') return { user, record, preview: intent };
  return {
    user,
    record,
    preview: {
      kind: 'command',
      desired: intent.desired,
      reason: intent.reason,
      number: intent.allocation,
      releases: held.filter((n) => n.number !== intent.allocation?.number).map((n) => n.number),
    },
  };
}
