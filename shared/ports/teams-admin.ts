/**
 * Teams administration through Microsoft Graph v1.0 (`/admin/teams/...`): the second way to
 * apply voice commands, with no PowerShell session. The domain speaks these shapes; the Graph
 * adapter (shared/adapters/graph-teams-admin.ts) and the sandbox's Graph simulator serve them.
 */

/** teamsAdministration.assignedTelephoneNumber */
export interface AssignedTelephoneNumber {
  telephoneNumber: string;
  /** primary, private or alternate. */
  assignmentCategory: string | null;
}

/** teamsAdministration.effectivePolicyAssignment (policyAssignment flattened). */
export interface EffectivePolicyAssignment {
  policyType: string;
  displayName: string | null;
  policyId: string | null;
  /** direct (user) or group; Global shows as the policy named Global. */
  assignmentType: string | null;
}

/** teamsAdministration.teamsUserConfiguration, the fields Dialtone reads. */
export interface TeamsUserConfiguration {
  id: string;
  userPrincipalName: string | null;
  featureTypes: string[];
  isEnterpriseVoiceEnabled: boolean;
  telephoneNumbers: AssignedTelephoneNumber[];
  effectivePolicyAssignments: EffectivePolicyAssignment[];
}

/** telephoneNumberLongRunningOperation, with the first number's detail. */
export interface NumberOperation {
  id: string;
  /** notStarted, running, succeeded, failed, skipped (evolvable: anything else is unknown). */
  status: string;
  /** The number detail's statusDetail, when Graph gave one. */
  detail: string | null;
}

export interface NumberAssignmentRequest {
  telephoneNumber: string;
  assignmentTargetId: string;
  numberType: 'directRouting';
}

export interface NumberUnassignmentRequest {
  telephoneNumber: string;
  numberType: 'directRouting';
}

/** teamsAdministration.teamsPolicyUserAssignment */
export interface PolicyUserAssignment {
  userId: string;
  policyType: string;
  policyId: string;
}

/** A number as `numberAssignments` lists it. */
export interface TenantNumber {
  telephoneNumber: string;
  assignmentTargetId: string | null;
  /** activated, assignmentPending, assignmentFailed, updatePending, updateFailed. */
  activationState: string | null;
}

/**
 * Errors are DialtoneErrors: 429 / 5xx transient (Throttled / ServiceUnavailable, with
 * Retry-After), 409 on assignNumber `NumberConflict`, a refused policy type `GraphUnsupported`.
 */
export interface TeamsAdmin {
  /** GET /admin/teams/userConfigurations/{id}; null when Teams does not know the user (404). */
  userConfiguration(userId: string): Promise<TeamsUserConfiguration | null>;
  /** POST …/numberAssignments/assignNumber → the operation id from the 202's Location. */
  assignNumber(request: NumberAssignmentRequest): Promise<{ operationId: string }>;
  /** POST …/numberAssignments/unassignNumber → the operation id from the 202's Location. */
  unassignNumber(request: NumberUnassignmentRequest): Promise<{ operationId: string }>;
  /** GET …/telephoneNumberManagement/operations('{id}') */
  operation(operationId: string): Promise<NumberOperation>;
  /** GET …/numberAssignments?$filter=telephoneNumber eq '…'; null when the tenant has no such number. */
  number(telephoneNumber: string): Promise<TenantNumber | null>;
  /** GET /admin/teams/policy/getPolicyId(type='…',name='…'); null when no such policy. */
  policyId(policyType: string, name: string): Promise<string | null>;
  /** POST /admin/teams/policy/userAssignments/assign (204). */
  assignPolicies(assignments: PolicyUserAssignment[]): Promise<void>;
  /** POST /admin/teams/policy/userAssignments/unassign (204): back to the Global / group policy. */
  unassignPolicies(assignments: PolicyUserAssignment[]): Promise<void>;
}
