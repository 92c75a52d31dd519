import type { MessageActions, ReceivedMessage } from '../../shared/ports/bus.js';
import type { MemoryBus } from '../bus/memory-bus.js';

export interface HostedFunction {
  name: string;
  queue: string;
  sessions: boolean;
  handler: (messages: ReceivedMessage[], actions: MessageActions) => Promise<void>;
  /** Like host.json maxMessageBatchSize. */
  batchSize?: number;
}

/**
 * Plays the Azure Functions host for the sandbox: receives from the in-memory bus with peek-lock
 * (sessions where the trigger says so) and hands the very same handlers the messages and an
 * actions object, as the SDK-type binding does. Settling is the handler's job; anything it leaves
 * unsettled is abandoned, exactly what the real host's lock expiry would do.
 */
export class SandboxFunctionsHost {
  private readonly invocations = new Map<string, number>();

  constructor(
    private readonly bus: MemoryBus,
    private readonly functions: HostedFunction[],
  ) {}

  /** Runs every function over what is available now; returns how many messages were handled. */
  async pump(): Promise<number> {
    let handled = 0;
    for (const fn of this.functions) handled += fn.sessions ? await this.pumpSessions(fn) : await this.pumpQueue(fn);
    return handled;
  }

  invocationCounts(): Record<string, number> {
    return Object.fromEntries(this.invocations);
  }

  private async pumpQueue(fn: HostedFunction): Promise<number> {
    const receiver = this.bus.createReceiver(fn.queue);
    let handled = 0;
    for (;;) {
      const messages = await receiver.receiveMessages(fn.batchSize ?? 16);
      if (messages.length === 0) break;
      await this.invoke(fn, messages, receiver);
      handled += messages.length;
    }
    await receiver.close();
    return handled;
  }

  private async pumpSessions(fn: HostedFunction): Promise<number> {
    let handled = 0;
    for (;;) {
      if (this.bus.availableCount(fn.queue) === 0) break;
      let session;
      try {
        session = await this.bus.acceptNextSession(fn.queue);
      } catch {
        break;
      }
      try {
        for (;;) {
          const messages = await session.receiveMessages(fn.batchSize ?? 16);
          if (messages.length === 0) break;
          await this.invoke(fn, messages, session);
          handled += messages.length;
        }
      } finally {
        await session.close();
      }
    }
    return handled;
  }

  private async invoke(
    fn: HostedFunction,
    messages: ReceivedMessage[],
    receiver: {
      completeMessage(m: ReceivedMessage): Promise<void>;
      abandonMessage(m: ReceivedMessage): Promise<void>;
      deadLetterMessage(m: ReceivedMessage, o: { deadLetterReason: string; deadLetterErrorDescription: string }): Promise<void>;
    },
  ): Promise<void> {
    this.invocations.set(fn.name, (this.invocations.get(fn.name) ?? 0) + 1);
    const settled = new Set<ReceivedMessage>();
    const actions: MessageActions = {
      complete: async (m) => {
        await receiver.completeMessage(m);
        settled.add(m);
      },
      abandon: async (m) => {
        await receiver.abandonMessage(m);
        settled.add(m);
      },
      deadletter: async (m, _props, reason, description) => {
        await receiver.deadLetterMessage(m, {
          deadLetterReason: reason ?? 'Unspecified',
          deadLetterErrorDescription: description ?? '',
        });
        settled.add(m);
      },
    };
    try {
      await fn.handler(messages, actions);
    } finally {
      for (const m of messages) if (!settled.has(m)) await receiver.abandonMessage(m).catch(() => undefined);
    }
  }
}
