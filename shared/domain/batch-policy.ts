/**
 * New-CsBatchPolicyAssignmentOperation / Get-CsBatchPolicyAssignmentOperation (issue 11, bulk
 * paths), pure: the operation id the first returns, and the per-user outcome the second reports.
 * Microsoft's reference: a batch holds at most 5,000 users, runs asynchronously, and reports
 * OverallStatus NotStarted / InProgress / Completed with a UserState per user (Id, Result
 * "Success" or an error, State).
 */
import type { PolicyType } from './voice-state.js';

/** Microsoft's limit of users in one batch policy operation. */
export const MAX_USERS_PER_BATCH_OPERATION = 5000;

/** The cmdlet New-CsBatchPolicyAssignmentOperation stands in for, per policy type. */
export const grantCmdletPolicyType = (cmdlet: string): PolicyType | undefined => {
  const match = /^Grant-Cs(.+)$/i.exec(cmdlet);
  return match ? (match[1] as PolicyType) : undefined;
};

/** The operation id New-CsBatchPolicyAssignmentOperation returned (a string, or an object carrying it). */
export function operationIdOf(result: unknown): string | undefined {
  const value = Array.isArray(result) ? (result as unknown[])[0] : result;
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  if (typeof value === 'object' && value !== null) {
    const id = (value as { OperationId?: unknown }).OperationId;
    if (typeof id === 'string' && id.trim() !== '') return id.trim();
  }
  return undefined;
}

export type OperationProgress =
  | { done: false }
  /** Per user id (lower case): 'Success', or the error the service reported. */
  | { done: true; results: Map<string, string> };

/**
 * Get-CsBatchPolicyAssignmentOperation -Identity <id>: still running, or each user's result. A
 * user the completed operation does not report is missing from the map: the caller treats it as
 * failed and grants it one by one.
 */
export function operationProgress(result: unknown): OperationProgress {
  const op = (Array.isArray(result) ? (result as unknown[])[0] : result) as Record<string, unknown> | null | undefined;
  if (typeof op !== 'object' || op === null) return { done: false };
  const status = typeof op.OverallStatus === 'string' ? op.OverallStatus.toLowerCase() : '';
  // The reference names the final state both "Completed" and "Complete".
  if (status !== 'completed' && status !== 'complete') return { done: false };
  const results = new Map<string, string>();
  const states = Array.isArray(op.UserState) ? (op.UserState as unknown[]) : [];
  for (const entry of states) {
    if (typeof entry !== 'object' || entry === null) continue;
    const { Id, Result, State } = entry as { Id?: unknown; Result?: unknown; State?: unknown };
    if (typeof Id !== 'string') continue;
    const finished = typeof State !== 'string' || State.toLowerCase().startsWith('complete');
    const text = typeof Result === 'string' && Result.trim() !== '' ? Result.trim() : 'no result reported';
    results.set(Id.toLowerCase(), finished ? text : `not completed (${String(State)})`);
  }
  return { done: true, results };
}

export const succeeded = (result: string | undefined): boolean => result?.toLowerCase() === 'success';
