import type { CmdletStep, VoiceCommand, VoiceResult } from '../shared/contracts/messages.js';
import {
  classifyCmdletError,
  classifyProcessFailure,
  ownerFromAssignments,
  type Classification,
  type CmdletErrorInfo,
} from '../shared/domain/error-classification.js';
import { DialtoneError, isDialtoneError, toDialtoneError } from '../shared/domain/errors.js';
import { normaliseActual, planSteps, verify } from '../shared/domain/voice-diff.js';
import { voiceResultFields } from '../shared/domain/voice-result.js';
import type { ActualVoiceState } from '../shared/domain/voice-state.js';
import type { Clock } from '../shared/ports/clock.js';
import type { Logger } from '../shared/ports/logger.js';
import { adaptToModule } from './module-compat.js';
import { failureKind } from './pwsh-process.js';
import type { SessionLease, SessionProvider, TeamsSession } from './session.js';
import { realTimers, sleep, type Timers } from './timers.js';

export interface ApplyDeps {
  sessions: SessionProvider;
  /** The default tenant: a command without tenantId is applied in it. */
  tenantId: string;
  clock: Clock;
  logger: Logger;
  timers?: Timers;
  cmdletTimeoutMs: number;
  /** Attempts for throttling / unavailability before the result is a transient failure. */
  maxTransientAttempts?: number;
  /** Backoff before the n-th transient retry (the last value repeats); a Retry-After hint wins. */
  backoffMs?: readonly number[];
  maxBackoffMs?: number;
  signal?: AbortSignal;
  /**
   * The consumer pauses a tenant that cannot be served (worker/consumer.ts): a session that could not
   * even be connected because Teams throttles the tenant or is unavailable is reported at once
   * instead of connecting again in-process (each connect costs seconds of a shared receiver).
   */
  tenantOutagesDeferred?: boolean;
}

export type Failure = { classification: Classification; message: string; cmdlet?: string; exceptionType?: string; owner?: string };
type AttemptOutcome = { kind: 'done'; actual: ActualVoiceState; wrote: boolean } | { kind: 'failed'; failure: Failure; actual: ActualVoiceState | null };

export class CmdletFailure extends Error {
  constructor(readonly info: CmdletErrorInfo) {
    super(info.message);
  }
}

/**
 * Reads the user's actual voice state, runs only the steps that differ, reads back and verifies.
 * Every attempt starts from a fresh read, so retrying after a crash or a throttled write is safe:
 * what already happened is simply no longer a difference.
 */
export async function applyVoiceCommand(command: VoiceCommand, deps: ApplyDeps): Promise<VoiceResult> {
  const log = deps.logger.child({ correlationId: command.correlationId, userId: command.userId, commandId: command.commandId });
  const timers = deps.timers ?? realTimers;
  const maxTransient = deps.maxTransientAttempts ?? 3;
  const backoff = deps.backoffMs ?? [1_000, 4_000];
  const steps: CmdletStep[] = [];
  let attempts = 0;
  let transientRetries = 0;
  let freshSessionUsed = false;
  let reconnectUsed = false;
  let wroteBefore = false;
  let outcome: AttemptOutcome;
  let connectFailed = false;

  for (;;) {
    attempts += 1;
    connectFailed = false;
    let lease: SessionLease | undefined;
    // A lost message lock means another worker may take this user: the running cmdlet is stopped by
    // retiring its process, and the caller does not publish what this attempt saw.
    const abort = (): void => lease?.discard('the message lock was lost: the running cmdlet is stopped');
    deps.signal?.addEventListener('abort', abort, { once: true });
    try {
      if (deps.signal?.aborted) throw aborted('before the attempt started');
      // Sessions are per tenant: a command only ever runs in a session connected to its own tenant.
      lease = await deps.sessions.acquire((command.tenantId ?? deps.tenantId).toLowerCase());
      if (deps.signal?.aborted) abort();
      outcome = await attempt(command, lease.session, deps, steps, log);
    } catch (error) {
      outcome = { kind: 'failed', failure: fromThrown(error), actual: null };
      connectFailed = lease === undefined;
    } finally {
      deps.signal?.removeEventListener('abort', abort);
    }
    if (outcome.kind === 'done') {
      lease?.release();
      const wrote = wroteBefore || outcome.wrote;
      log.info(wrote ? 'voice command applied' : 'voice command already in place', { attempts, writes: steps.filter((s) => s.write && s.ok).length });
      return result(command, deps.clock, wrote ? 'applied' : 'noop', steps, outcome.actual, attempts);
    }
    wroteBefore ||= steps.some((s) => s.write && s.ok);
    const { failure } = outcome;
    const c = failure.classification;
    if (c.class === 'conflict' && lease && c.number) failure.owner = await findOwner(lease.session, c.number, deps, steps);

    if (c.replaceSession) lease?.discard(failure.message);
    let retry = false;
    if (c.replaceSession && !freshSessionUsed) {
      freshSessionUsed = true;
      retry = true;
    } else if (c.reconnect && !reconnectUsed && lease) {
      reconnectUsed = true;
      try {
        await lease.reconnect();
        retry = true;
      } catch (error) {
        lease.discard(`reconnect failed: ${toDialtoneError(error).message}`);
        lease = undefined;
        retry = true;
      }
    } else if (deps.tenantOutagesDeferred && connectFailed && (c.code === 'Throttled' || c.code === 'ServiceUnavailable')) {
      retry = false;
    } else if (c.class === 'transient' && !c.replaceSession && !c.reconnect && transientRetries < maxTransient - 1) {
      transientRetries += 1;
      retry = true;
    }
    lease?.release();
    if (!retry || deps.signal?.aborted) {
      log.warn('voice command failed', { attempts, class: c.class, code: c.code, cmdlet: failure.cmdlet, reason: failure.message });
      return result(command, deps.clock, 'failed', steps, outcome.actual, attempts, failure);
    }
    log.info('retrying voice command', { attempt: attempts, code: c.code, reason: failure.message });
    if (transientRetries > 0 && !c.replaceSession && !c.reconnect) {
      const planned = backoff[Math.min(transientRetries - 1, backoff.length - 1)] ?? 1_000;
      await sleep(timers, Math.min(c.retryAfterMs ?? planned, deps.maxBackoffMs ?? 30_000), deps.signal);
    }
  }
}

async function attempt(
  command: VoiceCommand,
  session: TeamsSession,
  deps: ApplyDeps,
  steps: CmdletStep[],
  log: Logger,
): Promise<AttemptOutcome> {
  let actual: ActualVoiceState | null = null;
  let wrote = false;
  try {
    actual = await readActual(command.userId, session, deps, steps);
    const plan = planSteps(command.desired, actual, command.userId);
    // Every step must bind in the installed module before the first one writes.
    for (const step of plan) {
      const adapted = adaptToModule(session.module, step.cmdlet, step.parameters);
      if (!adapted.ok) {
        return {
          kind: 'failed',
          actual,
          failure: {
            classification: { class: 'permanent', code: 'ModuleIncompatible', reconnect: false, replaceSession: false },
            message: `${adapted.message} Nothing was written. Install a MicrosoftTeams version docs/WORKER.md lists, or update shared/teams/module-cmdlets.json.`,
            cmdlet: step.cmdlet,
          },
        };
      }
    }
    for (const step of plan) {
      if (deps.signal?.aborted) throw aborted(`before ${step.cmdlet}`);
      log.debug('running step', { cmdlet: step.cmdlet, parameters: step.parameters });
      await run(session, step.cmdlet, step.parameters, true, deps, steps);
      wrote = true;
    }
    if (plan.length === 0) return { kind: 'done', actual, wrote: false };
    actual = await readActual(command.userId, session, deps, steps);
    const differences = verify(command.desired, actual);
    if (differences.length > 0) {
      return {
        kind: 'failed',
        actual,
        failure: {
          classification: { class: 'transient', code: 'VerificationFailed', reconnect: false, replaceSession: false },
          message: `Teams does not hold the desired state after applying: ${differences.join('; ')}`,
        },
      };
    }
    return { kind: 'done', actual, wrote: true };
  } catch (error) {
    const failure = fromThrown(error);
    // Earlier steps did change Teams: report what it holds now, so `record` does not free a number that is in use.
    if (wrote && !failure.classification.replaceSession) actual = await readActual(command.userId, session, deps, steps).catch(() => actual);
    return { kind: 'failed', failure, actual };
  }
}

async function readActual(userId: string, session: TeamsSession, deps: ApplyDeps, steps: CmdletStep[]): Promise<ActualVoiceState> {
  const user = await run(session, 'Get-CsOnlineUser', { Identity: userId }, false, deps, steps);
  const rows = await run(session, 'Get-CsPhoneNumberAssignment', { AssignedPstnTargetId: userId }, false, deps, steps);
  return normaliseActual(user, Array.isArray(rows) ? rows : rows === null ? [] : [rows]);
}

/** Runs one cmdlet (mapped onto the installed module), records it in `steps`, throws CmdletFailure on an error. */
export async function run(
  session: TeamsSession,
  cmdlet: string,
  parameters: Record<string, unknown>,
  write: boolean,
  deps: ApplyDeps,
  steps: CmdletStep[],
): Promise<unknown> {
  const started = deps.clock.now().getTime();
  const adapted = adaptToModule(session.module, cmdlet, parameters);
  if (!adapted.ok) throw new DialtoneError('ModuleIncompatible', adapted.message, { details: { cmdlet, parameter: adapted.parameter } });
  const sent = adapted.parameters;
  const record = (ok: boolean, durationMs?: number): void => {
    steps.push({ cmdlet, parameters: sent, write, ok, durationMs: Math.max(0, durationMs ?? deps.clock.now().getTime() - started) });
  };
  try {
    const outcome = await session.call(cmdlet, sent, { timeoutMs: deps.cmdletTimeoutMs });
    record(outcome.ok, outcome.durationMs);
    if (!outcome.ok) throw new CmdletFailure({ ...outcome.error, cmdlet });
    return outcome.result;
  } catch (error) {
    if (!(error instanceof CmdletFailure)) record(false);
    throw error;
  }
}

async function findOwner(session: TeamsSession, number: string, deps: ApplyDeps, steps: CmdletStep[]): Promise<string | undefined> {
  try {
    return ownerFromAssignments(await run(session, 'Get-CsPhoneNumberAssignment', { TelephoneNumber: number }, false, deps, steps));
  } catch {
    return undefined;
  }
}

function aborted(when: string): DialtoneError {
  return new DialtoneError('SessionBroken', `The attempt was aborted (the message lock was lost) ${when}.`, { transient: true });
}

export function fromThrown(error: unknown): Failure {
  if (error instanceof CmdletFailure) {
    const classification = classifyCmdletError(error.info);
    return {
      classification,
      message: error.info.message,
      ...(error.info.cmdlet ? { cmdlet: error.info.cmdlet } : {}),
      ...(error.info.type ? { exceptionType: error.info.type } : {}),
    };
  }
  const kind = failureKind(error);
  if (kind) return { classification: classifyProcessFailure(kind), message: toDialtoneError(error).message };
  const dialtone = toDialtoneError(error);
  if (isDialtoneError(error)) {
    return {
      classification: { class: dialtone.transient ? 'transient' : 'permanent', code: dialtone.code, reconnect: false, replaceSession: false },
      message: dialtone.message,
    };
  }
  return { classification: { class: 'transient', code: 'Unexpected', reconnect: false, replaceSession: false }, message: dialtone.message };
}

function result(
  command: VoiceCommand,
  clock: Clock,
  status: VoiceResult['status'],
  steps: CmdletStep[],
  actual: ActualVoiceState | null,
  attempts: number,
  failure?: Failure,
): VoiceResult {
  return {
    ...voiceResultFields(command, clock.now(), steps, actual, attempts),
    status,
    ...(failure
      ? {
          error: {
            class: failure.classification.class,
            code: failure.classification.code,
            message: failure.message,
            ...(failure.cmdlet ? { cmdlet: failure.cmdlet } : {}),
            ...(failure.exceptionType ? { exceptionType: failure.exceptionType } : {}),
            ...(failure.owner ? { owner: failure.owner } : {}),
            ...(failure.classification.number ? { number: failure.classification.number } : {}),
          },
        }
      : {}),
  };
}
