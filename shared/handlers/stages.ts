import {
  type HrEvent,
  HrEventSchema,
  queueNames,
  UserChangeSchema,
  VoiceCommandSchema,
  VoiceResultSchema,
} from '../contracts/messages.js';
import { applyVoiceCommandViaGraph, type GraphApplyDeps } from '../usecases/apply-voice-graph.js';
import { correlateEvent, prefetchByTenant, type CorrelateDeps } from '../usecases/correlate-event.js';
import type { Directory } from '../ports/directory.js';
import type { OneOrPerTenant } from '../ports/per-tenant.js';
import { planVoice, type PlanDeps } from '../usecases/plan-voice.js';
import { recordResult, type RecordDeps } from '../usecases/record-result.js';
import { replayCountOf } from '../domain/replay.js';
import { createStageHandler, type StageDeps } from './stage-runner.js';

/** The correlation id an HR event starts: the producer's, or the event id. */
function hrCorrelationId(eventId: string, messageCorrelationId: string | undefined): string {
  return messageCorrelationId ?? eventId;
}

export function createCorrelateHandler(deps: StageDeps & Omit<CorrelateDeps, 'clock'>) {
  return createStageHandler<HrEvent, OneOrPerTenant<Directory>>(
    {
      stage: 'correlate',
      queue: queueNames.hrEvents,
      schema: HrEventSchema,
      correlationOf: (event, meta) => hrCorrelationId(event.eventId, meta.correlationId),
      startsTrace: true,
      // A burst of HR events: their first lookups in $batch requests of 20 (per tenant), not one request each.
      prepare: (events) => prefetchByTenant(events, deps),
      run: (event, meta, prefetched) =>
        correlateEvent(event, hrCorrelationId(event.eventId, meta.correlationId), prefetched ? { ...deps, directory: prefetched } : deps),
    },
    deps,
  );
}

export function createPlanHandler(deps: StageDeps & Omit<PlanDeps, 'clock'>) {
  return createStageHandler(
    {
      stage: 'plan',
      queue: queueNames.userChanges,
      schema: UserChangeSchema,
      correlationOf: (change) => change.correlationId,
      run: (change) => planVoice(change, deps),
    },
    deps,
  );
}

export function createRecordHandler(deps: StageDeps & Omit<RecordDeps, 'clock'>) {
  return createStageHandler(
    {
      stage: 'record',
      queue: queueNames.voiceResults,
      schema: VoiceResultSchema,
      correlationOf: (result) => result.correlationId,
      spanAttributes: (result) => ({ 'dialtone.result': result.status }),
      // A replayed failed result (dlq replay) is a request to try again: record re-plans the person.
      run: (result, meta) => recordResult(result, deps, { replayCount: replayCountOf(meta.properties) }),
    },
    deps,
  );
}

/** voice-commands through Graph (DIALTONE_TEAMS_BACKEND=graph): the same settlement path as every stage. */
export function createGraphVoiceHandler(deps: StageDeps & Omit<GraphApplyDeps, 'clock' | 'logger'>) {
  return createStageHandler(
    {
      stage: 'graphVoice',
      queue: queueNames.voiceCommands,
      schema: VoiceCommandSchema,
      correlationOf: (command) => command.correlationId,
      run: (command, meta) => applyVoiceCommandViaGraph(command, meta, deps),
    },
    deps,
  );
}

export type StageHandler = ReturnType<typeof createCorrelateHandler>;
