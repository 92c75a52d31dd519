import { personSessionId } from '../domain/ids.js';
import { queueNames, type UserChange, type VoiceResult } from '../contracts/messages.js';
import { errorCodes, type ErrorCode } from '../domain/errors.js';
import { deterministicId } from '../domain/ids.js';
import { judgeVersion, type VersionJudgement } from '../domain/ordering.js';
import type { UseCaseResult } from '../handlers/stage-runner.js';
import type { OutgoingMessage } from '../ports/bus.js';
import type { Clock } from '../ports/clock.js';
import type { NumberInventory } from '../ports/number-inventory.js';
import type { ProvisioningRecord, ProvisioningRecords } from '../ports/provisioning-records.js';
import { describeDesired } from './plan-voice.js';
import { appendHistory, emptyRecord } from './record-history.js';

export interface RecordDeps {
  records: ProvisioningRecords;
  inventory: NumberInventory;
  clock: Clock;
}

/**
 * voice-results → provisioning record and inventory: confirm or roll back the number,
 * quarantine released ones, and re-plan a user whose number Teams says belongs to someone else.
 */
export async function recordResult(result: VoiceResult, given: RecordDeps, context: { replayCount?: number } = {}): Promise<UseCaseResult> {
  // The numbers of the result are in its tenant's inventory only (the record's tenant when it names none).
  const recordTenant = (await given.records.get(result.userId))?.tenantId;
  const deps: RecordDeps = { ...given, inventory: given.inventory.forTenant(result.tenantId ?? recordTenant) };
  const actor = { now: deps.clock.now(), correlationId: result.correlationId };
  const at = actor.now.toISOString();
  const entry = (outcome: string, detail: string) => ({
    at,
    correlationId: result.correlationId,
    eventId: result.eventId,
    commandId: result.commandId,
    stage: 'record' as const,
    outcome,
    detail,
  });

  // A person belongs to one tenant: a result naming another tenant than the record's touches nothing.
  if (result.tenantId !== undefined) {
    const owner = recordTenant;
    if (owner !== undefined && owner !== result.tenantId) {
      return { outcome: { kind: 'permanent', code: 'InvalidMessage', message: `tenantId: ${result.userId} belongs to tenant ${owner}, not ${result.tenantId}; nothing of this result is recorded` } };
    }
  }

  if (result.status === 'superseded') {
    const detail = `${result.commandId} was not run (plan version ${result.version ?? '?'}): a newer command for this person was already applied`;
    await deps.records.update(result.userId, (current) => appendHistory(base(current, result), entry('superseded', detail)));
    return { outcome: { kind: 'stale', summary: `${result.userPrincipalName}: ${detail}` } };
  }

  // A result of an older plan than the one already applied is never recorded as the truth: it
  // confirms, releases, blocks and rolls back nothing. The claim is made before the inventory
  // is touched, on the current row, so two results racing for one person cannot both win.
  let verdict = { kind: 'current' } as VersionJudgement;
  await deps.records.update(result.userId, (current) => {
    const record = base(current, result);
    verdict = judgeVersion(result.version, record.appliedVersion, `the result of ${result.commandId}`);
    if (verdict.kind === 'superseded') return appendHistory(record, entry('superseded', supersededDetail(result, verdict)));
    const applied = result.status === 'applied' || result.status === 'noop';
    return applied && result.version !== undefined ? { ...record, appliedVersion: result.version } : record;
  });
  if (verdict.kind === 'superseded') return superseded(result, verdict);

  if (result.status === 'failed' && (context.replayCount ?? 0) > 0) {
    // An operator replayed a failed result (dlq replay), once Teams recovered or the cause was
    // fixed: recording the same failure again would dead-letter it again. What they ask for is
    // another try: the person is re-planned from the newest truth, and plan sends a new command
    // (with the number still reserved for them, if the failure kept it).
    const code = result.error?.code ?? 'CmdletFailed';
    const detail = `${result.commandId} failed (${code}); replayed: re-planned from the newest truth`;
    await deps.records.update(result.userId, (current) => appendHistory(base(current, result), entry('replayed', detail)));
    return { outcome: { kind: 'done', summary: `${result.userPrincipalName}: ${detail}` }, send: [replanOf(result, `${result.eventId}~replay${context.replayCount}`)] };
  }

  if (result.status === 'applied' || result.status === 'noop') {
    // A result never confirms a number the person no longer holds (quarantined, rolled back, reclaimed).
    const confirmation = result.allocation ? await deps.inventory.confirm(result.allocation.number, result.userId, actor) : undefined;
    for (const release of result.releases) await deps.inventory.release(release.number, result.userId, actor);
    const released = result.releases.map((r) => r.number);
    const detail =
      `${result.status === 'noop' ? 'already in place' : 'applied'}: ${describeDesired(result.desired)}` +
      (released.length > 0 ? `; ${released.join(', ')} quarantined` : '') +
      (confirmation && !confirmation.confirmed ? `; the inventory did not confirm it (${confirmation.why})` : '');
    await deps.records.update(result.userId, (current) =>
      appendHistory(
        {
          ...base(current, result),
          // A newer result that won the race meanwhile keeps its state as the last applied one.
          ...(judgeVersion(result.version, current?.appliedVersion, '').kind === 'superseded'
            ? {}
            : { lastApplied: result.desired, lastAppliedAt: result.finishedAt, lastCommandId: result.commandId }),
        },
        entry(result.status, result.version !== undefined ? `${detail} (plan version ${result.version})` : detail),
      ),
    );
    return { outcome: { kind: 'done', summary: `${result.userPrincipalName} ${detail}` } };
  }

  const error = result.error ?? { class: 'permanent' as const, code: 'CmdletFailed', message: 'The worker reported a failure without details.' };
  const conflictNumber = error.number ?? result.allocation?.number ?? result.desired.phoneNumber;
  if (error.class === 'conflict' && conflictNumber) {
    // Teams is the truth about who holds a number: one of Dialtone's own people is adopted, anyone else blocks it.
    const held = await deps.inventory.heldInTeams(conflictNumber, error.owner ?? null, actor);
    const detail =
      held.kind === 'adopted'
        ? `${conflictNumber} is already assigned in Teams to ${held.userId}, who Dialtone gave it to; recorded it as theirs and re-planned with another number`
        : `${conflictNumber} is already assigned in Teams to ${error.owner ?? 'someone else'}; blocked it and re-planned with the next free number`;
    await deps.records.update(result.userId, (current) => appendHistory(base(current, result), entry('conflict', detail)));
    return { outcome: { kind: 'done', summary: `${result.userPrincipalName}: ${detail}` }, send: [replanOf(result, `${result.eventId}~conflict~${conflictNumber}`)] };
  }

  if (result.allocation) {
    // A later step (a policy grant), or a session that died after the write, can fail after Teams
    // took the number: then it is the user's. Otherwise a permanent failure gives it back; a
    // transient one keeps the reservation for the replay (which re-plans the same number).
    if (samePhoneNumber(result.actual?.phoneNumber, result.allocation.number)) {
      await deps.inventory.confirm(result.allocation.number, result.userId, actor);
    } else if (error.class === 'permanent') {
      await deps.inventory.rollback(result.allocation.number, result.userId, actor);
    }
  }
  const detail = `${error.class} failure${error.cmdlet ? ` in ${error.cmdlet}` : ''}: ${error.message}`;
  await deps.records.update(result.userId, (current) => appendHistory(base(current, result), entry(error.code, detail)));
  return {
    outcome: {
      kind: 'permanent',
      code: knownCode(error.code),
      message: `${result.userPrincipalName}: ${detail}${error.class === 'transient' ? ' (the worker gave up after retries; replay once Teams recovers)' : ''}`,
    },
  };
}

/** A re-plan of the result's person on user-changes (a directory re-read, in the person's session). */
function replanOf(result: VoiceResult, eventId: string): { queue: string; messages: OutgoingMessage[] } {
  const replan: UserChange = {
    userId: result.userId,
    ...(result.tenantId !== undefined ? { tenantId: result.tenantId } : {}),
    source: 'resync',
    changeType: 'updated',
    eventId: eventId.slice(0, 120),
    correlationId: result.correlationId,
    occurredAt: result.occurredAt,
  };
  return {
    queue: queueNames.userChanges,
    messages: [
      {
        body: replan,
        messageId: deterministicId('replan', result.userId, replan.eventId),
        sessionId: personSessionId(result.userId, result.tenantId),
        correlationId: result.correlationId,
        contentType: 'application/json',
        subject: 'replan',
      },
    ],
  };
}

function wroteTeams(result: VoiceResult): boolean {
  return result.status === 'applied' && result.steps.some((step) => step.write && step.ok);
}

function supersededDetail(result: VoiceResult, verdict: Extract<VersionJudgement, { kind: 'superseded' }>): string {
  return `${verdict.summary}; ignored${wroteTeams(result) ? ', and since it changed Teams, the person is re-planned from the newest truth' : ''}`;
}

/**
 * A superseded result that wrote to Teams (an old command replayed or run after a newer one)
 * left Teams out of step with the newest truth: a re-plan that re-applies it puts Teams back.
 */
function superseded(result: VoiceResult, verdict: Extract<VersionJudgement, { kind: 'superseded' }>): UseCaseResult {
  const summary = `${result.userPrincipalName}: ${supersededDetail(result, verdict)}`;
  if (!wroteTeams(result)) return { outcome: { kind: 'stale', summary } };
  const replan: UserChange = {
    userId: result.userId,
    ...(result.tenantId !== undefined ? { tenantId: result.tenantId } : {}),
    source: 'resync',
    changeType: 'updated',
    eventId: `${result.eventId}~superseded~v${verdict.version}~v${verdict.newer}`.slice(0, 120),
    correlationId: result.correlationId,
    occurredAt: result.finishedAt,
    reapply: true,
  };
  return {
    outcome: { kind: 'stale', summary },
    send: [
      {
        queue: queueNames.userChanges,
        messages: [
          {
            body: replan,
            messageId: deterministicId('replan', result.userId, replan.eventId, result.commandId),
            sessionId: personSessionId(result.userId, result.tenantId),
            correlationId: result.correlationId,
            contentType: 'application/json',
            subject: 'replan',
          },
        ],
      },
    ],
  };
}

function base(current: ProvisioningRecord | undefined, result: VoiceResult): ProvisioningRecord {
  return current ?? emptyRecord(result.userId, result.userPrincipalName);
}


function knownCode(code: string): ErrorCode {
  return (errorCodes as readonly string[]).includes(code) ? (code as ErrorCode) : 'CmdletFailed';
}

function samePhoneNumber(actual: string | null | undefined, number: string): boolean {
  if (!actual) return false;
  return actual.replace(/^tel:/i, '').toLowerCase() === number.toLowerCase();
}
