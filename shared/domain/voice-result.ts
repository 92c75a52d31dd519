import type { CmdletStep, VoiceCommand, VoiceResult } from '../contracts/messages.js';
import type { ActualVoiceState } from './voice-state.js';

/**
 * The fields every voice result repeats from its command, whichever backend applied it (the
 * hybrid worker or graphVoice): the command's identity, desired state and allocation, what was
 * run and what Teams holds now. Status and error are the backend's.
 */
export function voiceResultFields(
  command: VoiceCommand,
  finishedAt: Date,
  steps: CmdletStep[],
  actual: ActualVoiceState | null,
  attempts: number,
): Omit<VoiceResult, 'status'> {
  return {
    commandId: command.commandId,
    userId: command.userId,
    ...(command.tenantId !== undefined ? { tenantId: command.tenantId } : {}),
    userPrincipalName: command.userPrincipalName,
    correlationId: command.correlationId,
    eventId: command.eventId,
    occurredAt: command.occurredAt,
    finishedAt: finishedAt.toISOString(),
    desired: command.desired,
    allocation: command.allocation,
    releases: command.releases,
    steps,
    actual,
    attempts,
  };
}
