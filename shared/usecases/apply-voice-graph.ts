/**
 * voice-commands → Teams through Microsoft Graph (DIALTONE_TEAMS_BACKEND=graph). The same
 * contract as the hybrid worker: read the actual state, change only what differs, verify, publish
 * the same voice result. A number (un)assignment is an asynchronous Graph operation: it is
 * started, then polled by rescheduling the command (never by sleeping in the Function), and every
 * delivery starts again from a fresh read, so a lost poll or a duplicate delivery is harmless.
 */
import { personSessionId } from '../domain/ids.js';
import { queueNames, type CmdletStep, type VoiceCommand, type VoiceResult } from '../contracts/messages.js';
import { DialtoneError, isDialtoneError } from '../domain/errors.js';
import {
  actualFromConfiguration,
  isNumberTakenDetail,
  operationState,
  planGraphSteps,
  teamsReadyForVoice,
  type GraphStep,
} from '../domain/graph-voice.js';
import { verify } from '../domain/voice-diff.js';
import { voiceResultFields } from '../domain/voice-result.js';
import type { ActualVoiceState } from '../domain/voice-state.js';
import type { MessageMeta, UseCaseResult } from '../handlers/stage-runner.js';
import type { OutgoingMessage } from '../ports/bus.js';
import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { PolicyUserAssignment, TeamsAdmin } from '../ports/teams-admin.js';
import { judgeTeamsReadiness } from '../domain/teams-readiness.js';
import { inTenant, type OneOrPerTenant } from '../ports/per-tenant.js';
import type { VoiceCommandRoute } from '../domain/tenants.js';
import { judgeVersion } from '../domain/ordering.js';
import type { ProvisioningRecords } from '../ports/provisioning-records.js';

/** Application properties a polled command carries from one delivery to the next. */
export const graphProperties = {
  operation: 'dialtone-graph-operation',
  /** The number step the operation performs, so its failure can be explained. */
  operationStep: 'dialtone-graph-operation-step',
  /** Set once this command changed something, so the final result says applied, not noop. */
  wrote: 'dialtone-graph-wrote',
} as const;

/**
 * Policy ids resolved by name, per process and per tenant (the same policy name is another id in
 * another tenant): names change rarely and getPolicyId costs a request.
 */
export class PolicyIdCache {
  private readonly ids = new Map<string, string | null>();
  async resolve(admin: TeamsAdmin, policyType: string, name: string, tenantId?: string): Promise<string | null> {
    const key = `${tenantId ?? ''}/${policyType.toLowerCase()}/${name.toLowerCase()}`;
    if (this.ids.has(key)) return this.ids.get(key) ?? null;
    const id = await admin.policyId(policyType, name);
    this.ids.set(key, id);
    return id;
  }
}

export interface GraphApplyDeps {
  /** Graph's Teams administration, for the deployment or per tenant (a command is applied in its own tenant only). */
  admin: OneOrPerTenant<TeamsAdmin>;
  clock: Clock;
  logger: Logger;
  policyIds: PolicyIdCache;
  /** Policy types Graph refused (learned) or that are configured to go to PowerShell; lower case. */
  unsupportedPolicyTypes: Set<string>;
  /**
   * Where commands go for the steps Graph cannot take: the hybrid worker's queue when one is
   * deployed, null when not (the command then fails with GraphUnsupported, naming the step).
   */
  fallbackQueue: string | null;
  /** The first poll of a number operation (later ones back off with the retry policy). */
  pollAfterMs: number;
  /**
   * Where each tenant's commands belong (its Teams backend, else the deployment's): a command of a
   * tenant served by PowerShell is handed whole to the worker's queue, untouched by Graph.
   */
  route?: OneOrPerTenant<VoiceCommandRoute>;
  /**
   * The provisioning records, for the version already applied to the person: a command older than
   * it (a replay, a redelivery that lost the race to a newer plan) is not run, as the hybrid worker
   * does not run it, and its result says `superseded`. Without them every command runs and record
   * re-plans a person a superseded result changed.
   */
  records?: Pick<ProvisioningRecords, 'get'>;
}

/** The dependencies for one command's tenant. */
interface TenantGraphApplyDeps extends Omit<GraphApplyDeps, 'admin'> {
  admin: TeamsAdmin;
}

export async function applyVoiceCommandViaGraph(command: VoiceCommand, meta: MessageMeta, graphDeps: GraphApplyDeps): Promise<UseCaseResult> {
  const route = graphDeps.route === undefined ? undefined : await inTenant(graphDeps.route, command.tenantId);
  if (route && !route.ok) return { outcome: { kind: 'permanent', code: 'ConfigInvalid', message: route.reason } };
  if (route && route.queue !== queueNames.voiceCommands) {
    return {
      outcome: { kind: 'done', summary: `tenant ${command.tenantId ?? '(default)'} is served by PowerShell: handed to ${route.queue}` },
      send: [{ queue: route.queue, messages: [fallbackMessage(command, meta)] }],
    };
  }
  // A tenant whose credential fails throws here: its own command is settled, no other tenant's.
  const deps: TenantGraphApplyDeps = { ...graphDeps, admin: await inTenant(graphDeps.admin, command.tenantId) };
  const log = deps.logger.child({ correlationId: command.correlationId, userId: command.userId, commandId: command.commandId, backend: 'graph' });
  const steps: CmdletStep[] = [];
  let wrote = meta.properties?.[graphProperties.wrote] === true || meta.properties?.[graphProperties.wrote] === 'true';

  const operationId = meta.properties?.[graphProperties.operation];
  const polling = typeof operationId === 'string' && operationId !== '';
  // A command that started a number operation finishes it (its write is under way); only a fresh
  // one is judged against the version already applied.
  if (deps.records && command.version !== undefined && !polling) {
    const verdict = judgeVersion(command.version, (await deps.records.get(command.userId))?.appliedVersion, 'this command');
    if (verdict.kind === 'superseded') {
      log.warn('voice command superseded: not run', { version: command.version, newestApplied: verdict.newer });
      return publish(command, meta, { ...baseResult(command, deps.clock, [], null), status: 'superseded' });
    }
  }
  if (polling) {
    const op = await deps.admin.operation(operationId);
    const state = operationState(op.status);
    steps.push(readStep('GET operations', { operationId }));
    if (state === 'pending') {
      return pending(operationId, String(meta.properties?.[graphProperties.operationStep] ?? ''), wrote, `number operation ${operationId} is ${op.status}`, deps);
    }
    if (state === 'failed') {
      const number = String(meta.properties?.[graphProperties.operationStep] ?? '').replace(/^\w+:/, '');
      if (isNumberTakenDetail(op.detail)) {
        const holder = number === '' ? null : await deps.admin.number(number);
        return publish(command, meta, failedResult(command, deps.clock, steps, null, {
          class: 'conflict',
          code: 'NumberConflict',
          message: `Teams refused ${number}: ${op.detail ?? 'the number is assigned to another user'}`,
          number,
          ...(holder?.assignmentTargetId ? { owner: holder.assignmentTargetId } : {}),
        }));
      }
      return publish(command, meta, failedResult(command, deps.clock, steps, null, {
        class: 'permanent',
        code: 'CmdletFailed',
        message: `Graph number operation ${operationId} failed: ${op.detail ?? 'no detail given'}`,
      }));
    }
    log.info('number operation succeeded', { operationId });
    // The write this command made in an earlier delivery: record re-plans a person a superseded
    // result changed only when the result shows the write.
    const [kind, number] = String(meta.properties?.[graphProperties.operationStep] ?? '').split(/:(.*)/s);
    if ((kind === 'assignNumber' || kind === 'unassignNumber') && number) {
      steps.push({ cmdlet: `POST numberAssignments/${kind}`, parameters: { telephoneNumber: number, operationId }, write: true, ok: true });
    }
  }

  const config = await deps.admin.userConfiguration(command.userId);
  steps.push(readStep('GET userConfigurations', { userId: command.userId }));
  const wantsVoice = command.desired.enterpriseVoiceEnabled || command.desired.phoneNumber !== null;
  if (!wantsVoice && (config === null || !hasVoiceState(config))) {
    // Nothing to take away from a user Teams never gave voice (a leaver who was never provisioned).
    log.info('voice command already in place', {});
    return publish(command, meta, { ...baseResult(command, deps.clock, steps, config === null ? null : actualFromConfiguration(config)), status: 'noop' });
  }
  if (wantsVoice && !teamsReadyForVoice(config)) {
    // plan waits for this too (readiness before commands); a command can still arrive first when plan runs without it.
    const readiness = judgeTeamsReadiness(config, { voice: true }, command.userPrincipalName);
    return { outcome: { kind: 'wait', code: 'TeamsNotProvisioned', message: readiness.ready ? 'Teams is not ready for voice yet' : readiness.message } };
  }
  const planned = planGraphSteps(command.desired, config!, command.userId, deps.unsupportedPolicyTypes);

  // The number first, as the worker does: a conflict stops everything else.
  const numberStep = planned.find((s) => s.kind === 'assignNumber' || s.kind === 'unassignNumber');
  if (numberStep) {
    try {
      const started =
        numberStep.kind === 'assignNumber'
          ? await deps.admin.assignNumber({ telephoneNumber: numberStep.number, assignmentTargetId: command.userId, numberType: 'directRouting' })
          : await deps.admin.unassignNumber({ telephoneNumber: (numberStep as { number: string }).number, numberType: 'directRouting' });
      const label = `${numberStep.kind}:${(numberStep as { number: string }).number}`;
      log.info('number operation started', { operationId: started.operationId, step: label });
      return pending(started.operationId, label, true, `number operation ${started.operationId} started`, deps);
    } catch (error) {
      if (isDialtoneError(error) && error.code === 'NumberConflict') {
        const number = (numberStep as { number: string }).number;
        const holder = await deps.admin.number(number);
        const otherHolder = holder?.assignmentTargetId !== undefined && holder.assignmentTargetId !== null && holder.assignmentTargetId.toLowerCase() !== command.userId.toLowerCase();
        const orderInProgress = holder !== null && holder.activationState !== null && /pending/i.test(holder.activationState);
        if (!otherHolder && (orderInProgress || holder?.assignmentTargetId?.toLowerCase() === command.userId.toLowerCase())) {
          // Not another user's number: an order still in progress (this command's own, started by a
          // delivery whose completion was lost, or another's not done yet). Read again once it is.
          log.info('number has an order in progress; reading again later', { number, activationState: holder?.activationState ?? null });
          return { outcome: { kind: 'wait', code: 'OperationPending', message: `${number} has an order in progress (${holder?.activationState ?? 'pending'})`, retryAfterMs: deps.pollAfterMs } };
        }
        return publish(command, meta, failedResult(command, deps.clock, steps, actualFromConfiguration(config!), {
          class: 'conflict',
          code: 'NumberConflict',
          message: error.message,
          number,
          ...(holder?.assignmentTargetId ? { owner: holder.assignmentTargetId } : {}),
        }));
      }
      throw error;
    }
  }

  const policySteps = planned.filter((s): s is Extract<GraphStep, { kind: 'assignPolicy' | 'unassignPolicy' }> => s.kind === 'assignPolicy' || s.kind === 'unassignPolicy');
  if (policySteps.length > 0) {
    const refused = await applyPolicies(command, policySteps, steps, deps);
    wrote ||= steps.some((s) => s.write && s.ok);
    if (refused.length > 0) log.warn('Graph refused policy types; they go to the PowerShell backend', { refused });
  }

  const after = await deps.admin.userConfiguration(command.userId);
  steps.push(readStep('GET userConfigurations', { userId: command.userId }));
  if (after === null) throw new DialtoneError('UserNotFound', 'Teams no longer knows the user', { transient: true });
  const remaining = planGraphSteps(command.desired, after, command.userId, deps.unsupportedPolicyTypes);
  const unsupported = remaining.filter((s): s is Extract<GraphStep, { kind: 'unsupported' }> => s.kind === 'unsupported');
  if (unsupported.length > 0) {
    const what = unsupported.map((s) => `${s.what} (${s.reason})`).join('; ');
    if (deps.fallbackQueue !== null) {
      log.info('handing the rest of the command to the PowerShell backend', { what });
      return {
        outcome: { kind: 'done', summary: `Graph applied what it can; PowerShell takes ${what}` },
        send: [{ queue: deps.fallbackQueue, messages: [fallbackMessage(command, meta)] }],
      };
    }
    return publish(command, meta, failedResult(command, deps.clock, steps, actualFromConfiguration(after), {
      class: 'permanent',
      code: 'GraphUnsupported',
      message: `Graph cannot apply ${what}, and no PowerShell worker is deployed (DIALTONE_GRAPH_FALLBACK): deploy the hybrid worker or apply it by hand, then replay`,
    }));
  }
  const actual = actualFromConfiguration(after);
  const differences = verify(command.desired, actual);
  if (differences.length > 0) {
    return publish(command, meta, failedResult(command, deps.clock, steps, actual, {
      class: 'transient',
      code: 'VerificationFailed',
      message: `Teams does not show the desired state yet: ${differences.join('; ')}`,
    }));
  }
  log.info(wrote ? 'voice command applied through Graph' : 'voice command already in place', {});
  return publish(command, meta, {
    ...baseResult(command, deps.clock, steps, actual),
    status: wrote ? 'applied' : 'noop',
  });
}

/** Whether Teams holds anything of Dialtone's for the user: voice, a number or a direct policy. */
function hasVoiceState(config: NonNullable<Awaited<ReturnType<TeamsAdmin['userConfiguration']>>>): boolean {
  const actual = actualFromConfiguration(config);
  return actual.enterpriseVoiceEnabled || actual.phoneNumber !== null || Object.values(actual.policies).some((p) => p !== null);
}

/** Resolves names to ids (cached) and assigns / unassigns in one request each; returns refused types. */
async function applyPolicies(
  command: VoiceCommand,
  policySteps: Extract<GraphStep, { kind: 'assignPolicy' | 'unassignPolicy' }>[],
  steps: CmdletStep[],
  deps: TenantGraphApplyDeps,
): Promise<string[]> {
  const assign: PolicyUserAssignment[] = [];
  const unassign: PolicyUserAssignment[] = [];
  for (const step of policySteps) {
    if (step.kind === 'assignPolicy') {
      let policyId: string | null;
      try {
        policyId = await deps.policyIds.resolve(deps.admin, step.policyType, step.name, command.tenantId);
      } catch (error) {
        if (!(isDialtoneError(error) && error.code === 'GraphUnsupported')) throw error;
        deps.unsupportedPolicyTypes.add(step.policyType.toLowerCase());
        continue;
      }
      steps.push(readStep('GET getPolicyId', { type: step.policyType, name: step.name }));
      if (policyId === null) {
        throw new DialtoneError('PolicyNotFound', `Teams has no ${step.policyType} named '${step.name}' (getPolicyId found none)`);
      }
      assign.push({ userId: command.userId, policyType: step.policyType, policyId });
    } else if (step.policyId !== null) {
      unassign.push({ userId: command.userId, policyType: step.policyType, policyId: step.policyId });
    }
  }
  const refused: string[] = policySteps.filter((s) => deps.unsupportedPolicyTypes.has(s.policyType.toLowerCase())).map((s) => s.policyType);
  for (const [path, list, call] of [
    ['POST userAssignments/assign', assign, (l: PolicyUserAssignment[]) => deps.admin.assignPolicies(l)],
    ['POST userAssignments/unassign', unassign, (l: PolicyUserAssignment[]) => deps.admin.unassignPolicies(l)],
  ] as const) {
    let pendingList = [...list];
    while (pendingList.length > 0) {
      try {
        await call(pendingList);
        steps.push({ cmdlet: path, parameters: { value: pendingList }, write: true, ok: true });
        break;
      } catch (error) {
        const type = isDialtoneError(error) && error.code === 'GraphUnsupported' ? String(error.details.policyType ?? '') : '';
        if (type === '' || !pendingList.some((a) => a.policyType.toLowerCase() === type.toLowerCase())) throw error;
        steps.push({ cmdlet: path, parameters: { value: pendingList }, write: true, ok: false });
        deps.unsupportedPolicyTypes.add(type.toLowerCase());
        refused.push(type);
        pendingList = pendingList.filter((a) => a.policyType.toLowerCase() !== type.toLowerCase());
      }
    }
  }
  return refused;
}

function pending(operationId: string, step: string, wrote: boolean, message: string, deps: GraphApplyDeps): UseCaseResult {
  return {
    // A running operation is not a failure: polling it spends no transient retry (a slow operation
    // left the command too few retries for Graph's real 429s and 503s).
    outcome: { kind: 'wait', code: 'OperationPending', message, retryAfterMs: deps.pollAfterMs },
    carry: { [graphProperties.operation]: operationId, [graphProperties.operationStep]: step, [graphProperties.wrote]: wrote },
  };
}

function readStep(cmdlet: string, parameters: Record<string, unknown>): CmdletStep {
  return { cmdlet, parameters, write: false, ok: true };
}

function baseResult(command: VoiceCommand, clock: Clock, steps: CmdletStep[], actual: ActualVoiceState | null): Omit<VoiceResult, 'status'> {
  return {
    ...voiceResultFields(command, clock.now(), steps, actual, 1),
    // The plan version travels to `record`, which ignores a result older than the one applied.
    ...(command.version !== undefined ? { version: command.version } : {}),
  };
}

function failedResult(
  command: VoiceCommand,
  clock: Clock,
  steps: CmdletStep[],
  actual: ActualVoiceState | null,
  error: NonNullable<VoiceResult['error']>,
): VoiceResult {
  return { ...baseResult(command, clock, steps, actual), status: 'failed', error };
}

function publish(command: VoiceCommand, meta: MessageMeta, result: VoiceResult): UseCaseResult {
  const replay = Number(meta.properties?.['dialtone-replay-count'] ?? 0);
  const message: OutgoingMessage = {
    body: result,
    messageId: `${command.commandId}:result${Number.isFinite(replay) && replay > 0 ? `:replay${replay}` : ''}`,
    correlationId: command.correlationId,
    contentType: 'application/json',
    subject: result.status,
  };
  return {
    outcome: { kind: 'done', summary: `${result.status}${result.error ? `: ${result.error.code}` : ''}` },
    send: [{ queue: queueNames.voiceResults, messages: [message] }],
  };
}

/** The same command for the hybrid worker: it re-reads Teams and takes only what still differs. */
function fallbackMessage(command: VoiceCommand, meta: MessageMeta): OutgoingMessage {
  return {
    body: command,
    messageId: `${command.commandId}:pwsh`,
    sessionId: personSessionId(command.userId, command.tenantId),
    correlationId: command.correlationId,
    contentType: 'application/json',
    applicationProperties: { 'dialtone-handoff': 'graph', ...(meta.properties?.['dialtone-replay-count'] !== undefined ? { 'dialtone-replay-count': meta.properties['dialtone-replay-count'] } : {}) },
  };
}
