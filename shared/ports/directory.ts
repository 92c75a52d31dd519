import type { DirectoryUser } from '../contracts/messages.js';

export type CorrelationStrategy = 'userPrincipalName' | 'employeeId' | 'mail';

/** Entra ID as Dialtone needs it. Every read returns the user with assignedPlans in one request. */
export interface Directory {
  /** Users whose attribute equals the value: 0, 1 or more. */
  findUsers(strategy: CorrelationStrategy, value: string): Promise<DirectoryUser[]>;
  /** One user by object id, or undefined when the directory does not know it (yet). */
  getUser(userId: string): Promise<DirectoryUser | undefined>;
  /**
   * Many findUsers at once (Graph `$batch`), keyed by lookupKey: each the users, or the error
   * that lookup alone would have thrown. A lookup missing from the answer is asked on its own.
   */
  findUsersBatch?(
    lookups: readonly { strategy: CorrelationStrategy; value: string }[],
  ): Promise<Map<string, { kind: 'users'; users: DirectoryUser[] } | { kind: 'error'; error: Error }>>;
}

export function lookupKey(strategy: CorrelationStrategy, value: string): string {
  return `${strategy}\u0000${value.trim()}`;
}
