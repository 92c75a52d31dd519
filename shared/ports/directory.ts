import type { DirectoryUser } from '../contracts/messages.js';

export type CorrelationStrategy = 'userPrincipalName' | 'employeeId' | 'mail';

/** Entra ID as Dialtone needs it. Every read returns the user with assignedPlans in one request. */
export interface Directory {
  /** Users whose attribute equals the value: 0, 1 or more. */
  findUsers(strategy: CorrelationStrategy, value: string): Promise<DirectoryUser[]>;
  /** One user by object id, or undefined when the directory does not know it (yet). */
  getUser(userId: string): Promise<DirectoryUser | undefined>;
}
