/**
 * The mutable part of the simulated tenant as plain JSON, so `sandbox run --state DIR` can
 * save it and a later run can continue from it. The tenant file stays the source of the
 * directory (users, plans, policies); this holds only what cmdlets changed. Batch operations
 * in flight are not kept: they complete within a run.
 */
import { z } from 'zod';
import { PolicyTypeSchema } from '../../shared/domain/voice-state.js';
import { VoiceRoutingStateSchema } from './voice-routing.js';

export const TeamsTenantStateSchema = z.object({
  version: z.literal(1),
  tenantId: z.string().min(1),
  users: z.array(
    z.object({
      id: z.string().min(1),
      enterpriseVoiceEnabled: z.boolean(),
      policies: z.partialRecord(PolicyTypeSchema, z.string().min(1).nullable()),
    }),
  ),
  numbers: z.array(
    z.object({
      number: z.string().min(1),
      assignedTo: z.string().nullable(),
      category: z.enum(['Primary', 'Private', 'Alternate']).nullable(),
      locationId: z.string().nullable(),
    }),
  ),
  /** The tenant's voice routing (usages, routes, policies, dial plans, CLI policies); absent in states saved before it was kept. */
  voiceRouting: VoiceRoutingStateSchema.optional(),
});
export type TeamsTenantState = z.infer<typeof TeamsTenantStateSchema>;
