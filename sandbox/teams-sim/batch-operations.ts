/**
 * New-CsBatchPolicyAssignmentOperation is asynchronous in Teams. In the sandbox an operation
 * completes when the latency model's time for it has passed on the simulated clock (60 s +
 * 0.05 s per user by default); standing alone (no model) it moves NotStarted → InProgress →
 * Completed one step per poll, or completes after 60 s. The grants are applied when it
 * completes, so a caller that never polls still sees them eventually.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../shared/ports/clock.js';
import type { PolicyType } from '../../shared/domain/voice-state.js';

export type OverallStatus = 'NotStarted' | 'InProgress' | 'Completed';

interface Operation {
  id: string;
  name: string | null;
  type: PolicyType;
  policyName: string | null;
  identities: string[];
  createdMs: number;
  completedMs: number | null;
  polls: number;
  results: Map<string, string>;
}

/** Applies one user's grant and returns 'Success' or the error message. */
export type ApplyGrant = (type: PolicyType, policyName: string | null, identity: string) => string;

export class BatchOperations {
  private readonly operations = new Map<string, Operation>();
  /** Operations not completed yet: settling looks only at these. */
  private readonly pending = new Set<Operation>();

  constructor(
    private readonly clock: Clock,
    private readonly apply: ApplyGrant,
    /**
     * How long an operation over `users` users takes, from the sandbox's latency model; then
     * only time completes it. Without it: 60 s, or the third poll.
     */
    private readonly duration?: (users: number) => number,
  ) {}

  create(type: PolicyType, policyName: string | null, identities: string[], name?: string): string {
    const id = randomUUID();
    const op: Operation = {
      id,
      name: name ?? null,
      type,
      policyName,
      identities: [...identities],
      createdMs: this.clock.now().getTime(),
      completedMs: null,
      polls: 0,
      results: new Map(),
    };
    this.operations.set(id, op);
    this.pending.add(op);
    return id;
  }

  poll(id: string): Record<string, unknown> | undefined {
    const op = this.operations.get(id);
    if (op === undefined) return undefined;
    op.polls += 1;
    return this.describe(op);
  }

  list(): Record<string, unknown>[] {
    return [...this.operations.values()].map((op) => this.describe(op));
  }

  /** Completes every operation whose time has come, so its grants show without a poll. */
  settle(): void {
    for (const op of [...this.pending]) this.status(op);
  }

  private status(op: Operation): OverallStatus {
    if (op.completedMs !== null) return 'Completed';
    const elapsed = this.clock.now().getTime() - op.createdMs;
    const due = this.duration ? elapsed >= this.duration(op.identities.length) : op.polls >= 3 || elapsed >= 60_000;
    if (due) {
      // Marked first: applying a grant settles operations again, and this one must not re-run.
      op.completedMs = this.clock.now().getTime();
      this.pending.delete(op);
      for (const identity of op.identities) op.results.set(identity, this.apply(op.type, op.policyName, identity));
      return 'Completed';
    }
    return op.polls >= 2 || elapsed > 0 ? 'InProgress' : 'NotStarted';
  }

  private describe(op: Operation): Record<string, unknown> {
    const overall = this.status(op);
    const userState = op.identities.map((identity) => ({
      Id: identity,
      Result: op.results.get(identity) ?? '',
      State: overall === 'Completed' ? 'Completed' : overall,
    }));
    const errors = userState.filter((u) => u.State === 'Completed' && u.Result !== 'Success').length;
    return {
      OperationId: op.id,
      OperationName: op.name,
      PolicyType: op.type,
      PolicyName: op.policyName,
      OverallStatus: overall,
      CreatedTime: new Date(op.createdMs).toISOString(),
      CompletedTime: op.completedMs === null ? null : new Date(op.completedMs).toISOString(),
      CompletedCount: overall === 'Completed' ? op.identities.length - errors : 0,
      ErrorCount: errors,
      InProgressCount: overall === 'InProgress' ? op.identities.length : 0,
      NotStartedCount: overall === 'NotStarted' ? op.identities.length : 0,
      UserState: userState,
    };
  }
}
