import type { ModuleView } from '../shared/domain/parameter-binding.js';
import type { CallOutcome } from './pwsh-process.js';

/** What a use case needs from a connected Teams PowerShell session. */
export interface TeamsSession {
  call(cmdlet: string, parameters: Record<string, unknown>, options: { timeoutMs: number }): Promise<CallOutcome>;
  /** The MicrosoftTeams module as the host reported it at ready; undefined when it reported none. */
  readonly module?: ModuleView | undefined;
}

/** A session lent out by the pool; give it back exactly once with release() or discard(). */
export interface SessionLease {
  readonly session: TeamsSession;
  /** Connect-MicrosoftTeams again on the same process (expired token). */
  reconnect(): Promise<void>;
  release(): void;
  /** The session is not to be trusted again: kill it, the pool replaces it. */
  discard(reason: string): void;
}

export interface AcquireOptions {
  /**
   * Served before ordinary waiters: the bulk path's shared reads, batch operations and polls,
   * which many people wait on at once, go ahead of one person's write.
   */
  priority?: boolean;
}

export interface SessionProvider {
  acquire(tenantId: string, options?: AcquireOptions): Promise<SessionLease>;
  /**
   * How busy a tenant's sessions are: how many it may have at once, and how many callers wait
   * for one now. The bulk path uses it to run shared reads when sessions would otherwise idle,
   * and to grant a burst's last few one by one when that is faster than an operation.
   */
  load?(tenantId: string): { sessions: number; waiting: number };
  /**
   * Starts (connects) sessions for a tenant in the background until it has `sessions` of them
   * (within its limits), so that a burst's connects overlap instead of each waiting for the
   * moment its session is first wanted. A session started so is handed to the next acquire.
   */
  warm?(tenantId: string, sessions: number): void;
}
