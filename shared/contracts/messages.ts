/**
 * Every message that crosses a queue, as a zod schema with its inferred type. Each stage
 * validates what it receives with these; a message that fails is dead-lettered as
 * InvalidMessage with the path of the bad field.
 */
import { z } from 'zod';
import {
  ActualVoiceStateSchema,
  DesiredVoiceStateSchema,
  PhoneNumberSchema,
} from '../domain/voice-state.js';

// The queue names come from infra/queues.json, the file the Bicep deploys.
export { queueNames } from './queues.js';

const isoDateTime = z.iso.datetime({ offset: true });
const attributeValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/** HR person attributes. employeeId is always present; anything else may be missing or extra. */
export const HrPersonSchema = z
  .object({
    employeeId: z.string().trim().min(1),
    userPrincipalName: z.string().trim().min(3).optional(),
    mail: z.string().trim().min(3).optional(),
    displayName: z.string().optional(),
    departmentId: z.string().optional(),
    department: z.string().optional(),
    site: z.string().optional(),
    jobTitle: z.string().optional(),
  })
  .catchall(attributeValue);
export type HrPerson = z.infer<typeof HrPersonSchema>;

/** The HR attributes the contract names (more may come through the catchall; policies declare those). */
export const HR_ATTRIBUTES: readonly string[] = Object.keys(HrPersonSchema.shape);

export const HrEventTypeSchema = z.enum(['joiner', 'mover', 'leaver']);
export type HrEventType = z.infer<typeof HrEventTypeSchema>;

/** One line of the hr-events queue (contracts/hr-events.example.ndjson). */
export const HrEventSchema = z.object({
  eventId: z.string().trim().min(1).max(100),
  type: HrEventTypeSchema,
  occurredAt: isoDateTime,
  person: HrPersonSchema,
});
export type HrEvent = z.infer<typeof HrEventSchema>;

export const MCOEV_SERVICE_PLAN_ID = '4828c8ec-dc2e-4779-b502-87ac9ce28ab7';

export const AssignedPlanSchema = z.object({
  servicePlanId: z.string(),
  service: z.string().optional(),
  capabilityStatus: z.string(),
  assignedDateTime: z.string().optional(),
});
export type AssignedPlan = z.infer<typeof AssignedPlanSchema>;

/** The user as read from Graph in one request ($select with assignedPlans). */
export const DirectoryUserSchema = z.object({
  id: z.string().min(1),
  userPrincipalName: z.string().min(1),
  mail: z.string().nullable().optional(),
  employeeId: z.string().nullable().optional(),
  displayName: z.string().nullable().optional(),
  department: z.string().nullable().optional(),
  officeLocation: z.string().nullable().optional(),
  jobTitle: z.string().nullable().optional(),
  accountEnabled: z.boolean().nullable().optional(),
  usageLocation: z.string().nullable().optional(),
  assignedPlans: z.array(AssignedPlanSchema).default([]),
});
export type DirectoryUser = z.infer<typeof DirectoryUserSchema>;

/** A snapshot of the directory user, with the time it was read, forwarded so `plan` need not re-read it. */
export const UserSnapshotSchema = z.object({
  readAt: isoDateTime,
  user: DirectoryUserSchema,
});
export type UserSnapshot = z.infer<typeof UserSnapshotSchema>;

export const UserChangeSourceSchema = z.enum(['hr', 'graph', 'resync']);

/** user-changes: session id = Entra object id. */
export const UserChangeSchema = z.object({
  userId: z.string().min(1),
  source: UserChangeSourceSchema,
  /** HR event type, or `updated` / `deleted` for directory notifications. */
  changeType: z.enum(['joiner', 'mover', 'leaver', 'updated', 'deleted']),
  eventId: z.string().min(1),
  correlationId: z.string().min(1),
  occurredAt: isoDateTime,
  person: HrPersonSchema.optional(),
  snapshot: UserSnapshotSchema.optional(),
  /**
   * Send a command even when the record says the desired state is already applied: set by
   * `record` when a superseded command was executed after a newer one, so Teams may differ.
   */
  reapply: z.boolean().optional(),
});
export type UserChange = z.infer<typeof UserChangeSchema>;

export const CommandReasonSchema = z.enum(['joiner', 'mover', 'leaver', 'voice-disabled', 'unlicensed', 'update', 'replan']);
export type CommandReason = z.infer<typeof CommandReasonSchema>;

/** voice-commands: session id = Entra object id. Carries the full desired state. */
export const VoiceCommandSchema = z.object({
  commandId: z.string().min(1).max(128),
  userId: z.string().min(1),
  userPrincipalName: z.string().min(1),
  correlationId: z.string().min(1),
  eventId: z.string().min(1),
  occurredAt: isoDateTime,
  issuedAt: isoDateTime,
  reason: CommandReasonSchema,
  desired: DesiredVoiceStateSchema,
  /** The inventory reservation behind desired.phoneNumber, so `record` can confirm or roll back. */
  allocation: z.object({ pool: z.string(), number: PhoneNumberSchema }).nullable().default(null),
  /** A number this user held before the command (mover / leaver), to quarantine once applied. */
  releases: z.array(z.object({ pool: z.string(), number: PhoneNumberSchema })).default([]),
  /**
   * The plan version this command was made from (per person, increasing). The worker and
   * `record` ignore a command or result older than one already applied for the person, and
   * `dlq replay` refuses it. Optional: commands from before versions existed are not guarded.
   */
  version: z.number().int().positive().optional(),
});
export type VoiceCommand = z.infer<typeof VoiceCommandSchema>;

export const ErrorClassSchema = z.enum(['transient', 'conflict', 'permanent']);
export type ErrorClass = z.infer<typeof ErrorClassSchema>;

export const CmdletStepSchema = z.object({
  cmdlet: z.string(),
  parameters: z.record(z.string(), z.unknown()),
  write: z.boolean(),
  ok: z.boolean(),
  durationMs: z.number().nonnegative().optional(),
});
export type CmdletStep = z.infer<typeof CmdletStepSchema>;

/** voice-results: what the worker did for one command. */
export const VoiceResultSchema = z.object({
  commandId: z.string().min(1),
  userId: z.string().min(1),
  userPrincipalName: z.string().min(1),
  correlationId: z.string().min(1),
  eventId: z.string().min(1),
  occurredAt: isoDateTime,
  finishedAt: isoDateTime,
  /** `superseded`: the worker did not run it, a newer command for the person was already applied. */
  status: z.enum(['applied', 'noop', 'failed', 'superseded']),
  desired: DesiredVoiceStateSchema,
  allocation: VoiceCommandSchema.shape.allocation,
  releases: VoiceCommandSchema.shape.releases,
  version: VoiceCommandSchema.shape.version,
  steps: z.array(CmdletStepSchema).default([]),
  actual: ActualVoiceStateSchema.nullable().default(null),
  attempts: z.number().int().positive().default(1),
  error: z
    .object({
      class: ErrorClassSchema,
      code: z.string(),
      message: z.string(),
      cmdlet: z.string().optional(),
      exceptionType: z.string().optional(),
      /** For conflicts: who holds the number in Teams, when Teams says. */
      owner: z.string().optional(),
      number: z.string().optional(),
    })
    .optional(),
});
export type VoiceResult = z.infer<typeof VoiceResultSchema>;

/** Formats a zod error as `field.path: message; …` so a dead letter names the bad field. */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(message)'}: ${issue.message}`)
    .join('; ');
}
