import { MCOEV_SERVICE_PLAN_ID, type AssignedPlan } from '../contracts/messages.js';

/** Enabled counts; Warning is the grace period and still counts; Suspended / Deleted do not. */
const ACTIVE = new Set(['enabled', 'warning']);

/** Teams Phone (MCOEV) is held when an assigned plan with its service plan id is active. */
export function hasTeamsPhone(plans: readonly AssignedPlan[]): boolean {
  return plans.some((p) => p.servicePlanId.toLowerCase() === MCOEV_SERVICE_PLAN_ID && ACTIVE.has(p.capabilityStatus.toLowerCase()));
}
