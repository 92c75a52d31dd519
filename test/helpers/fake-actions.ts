import type { MessageActions, ReceivedMessage } from '../../shared/ports/bus.js';

/** Records how a handler settled each message. */
export function recordingActions() {
  const settled: { action: 'complete' | 'abandon' | 'deadletter'; message: ReceivedMessage; reason?: string; description?: string }[] = [];
  const actions: MessageActions = {
    complete: async (message) => void settled.push({ action: 'complete', message }),
    abandon: async (message) => void settled.push({ action: 'abandon', message }),
    deadletter: async (message, _props, reason, description) =>
      void settled.push({ action: 'deadletter', message, ...(reason ? { reason } : {}), ...(description ? { description } : {}) }),
  };
  return { actions, settled };
}
