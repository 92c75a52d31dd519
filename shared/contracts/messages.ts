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

/**
 * The tenant a message belongs to (docs/MULTI-TENANT.md): an Entra tenant id, lower-cased.
 * Optional on every message: one without it belongs to the deployment's default tenant, so
 * messages from before the registry (and single-tenant senders) keep working.
 */
export const MessageTenantIdSchema = z
  .string()
  .trim()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'must be an Entra tenant id (a GUID)')
  .transform((s) => s.toLowerCase());
const attributeValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/** A person as stored by an earlier version (before HR_LIMITS): read without the bounds, never rejected. */
export const StoredHrPersonSchema = z.object({ employeeId: z.string() }).catchall(attributeValue);

/** HR person attributes. employeeId is always present; anything else may be missing or extra. */
/**
 * Bounds on what HR may send, checked at the edge (`correlate`) so nothing oversized reaches a
 * queue or Table Storage (a property holds at most 64 KiB; the person is stored as one JSON
 * property of the provisioning record). A bigger event is dead-lettered as InvalidMessage naming
 * the field. Entra ID's own limits are far lower (displayName 256, department 64, jobTitle 128).
 */
export const HR_LIMITS = { attributeChars: 1_024, attributes: 64, nameChars: 64, personJsonChars: 16_384 } as const;

const hrText = z.string().max(HR_LIMITS.attributeChars);
const hrAttributeValue = z.union([hrText, z.number(), z.boolean(), z.null()]);

const HrPersonShape = z
  .object({
    employeeId: z.string().trim().min(1).max(HR_LIMITS.nameChars),
    userPrincipalName: z.string().trim().min(3).max(256).optional(),
    mail: z.string().trim().min(3).max(256).optional(),
    displayName: hrText.optional(),
    departmentId: hrText.optional(),
    department: hrText.optional(),
    site: hrText.optional(),
    jobTitle: hrText.optional(),
  })
  .catchall(hrAttributeValue);

/** HR person attributes. employeeId is always present; anything else may be missing or extra, within HR_LIMITS. */
export const HrPersonSchema = HrPersonShape.superRefine((person, ctx) => {
  const keys = Object.keys(person);
  if (keys.length > HR_LIMITS.attributes) {
    ctx.addIssue({ code: 'custom', message: `has ${keys.length} attributes; at most ${HR_LIMITS.attributes} are accepted` });
  }
  for (const key of keys) {
    if (key.length > HR_LIMITS.nameChars) ctx.addIssue({ code: 'custom', path: [key.slice(0, 80)], message: `attribute name is longer than ${HR_LIMITS.nameChars} characters` });
  }
  const size = JSON.stringify(person).length;
  if (size > HR_LIMITS.personJsonChars) {
    ctx.addIssue({ code: 'custom', message: `is ${size} characters as JSON; at most ${HR_LIMITS.personJsonChars} are accepted` });
  }
});
export type HrPerson = z.infer<typeof HrPersonSchema>;

/** The HR attributes the contract names (more may come through the catchall; policies declare those). */
export const HR_ATTRIBUTES: readonly string[] = Object.keys(HrPersonShape.shape);

export const HrEventTypeSchema = z.enum(['joiner', 'mover', 'leaver']);
export type HrEventType = z.infer<typeof HrEventTypeSchema>;

/** One line of the hr-events queue (contracts/hr-events.example.ndjson). */
export const HrEventSchema = z.object({
  eventId: z.string().trim().min(1).max(100),
  /** Which tenant the person is in; without it the event is routed by UPN domain or to the only tenant. */
  tenantId: MessageTenantIdSchema.optional(),
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
/** Graph's own limits are lower; these bound what Dialtone forwards in messages and stores. */
const graphText = z.string().max(1_024);
export const DirectoryUserSchema = z.object({
  id: z.string().min(1).max(128),
  userPrincipalName: z.string().min(1).max(1_024),
  mail: graphText.nullable().optional(),
  employeeId: graphText.nullable().optional(),
  displayName: graphText.nullable().optional(),
  department: graphText.nullable().optional(),
  officeLocation: graphText.nullable().optional(),
  jobTitle: graphText.nullable().optional(),
  accountEnabled: z.boolean().nullable().optional(),
  usageLocation: graphText.nullable().optional(),
  assignedPlans: z.array(AssignedPlanSchema).max(2_000).default([]),
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
  tenantId: MessageTenantIdSchema.optional(),
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
  /** The tenant whose Teams the worker connects to for this command (its app and certificate); none = the default tenant. */
  tenantId: MessageTenantIdSchema.optional(),
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
  tenantId: MessageTenantIdSchema.optional(),
  userPrincipalName: z.string().min(1),
  correlationId: z.string().min(1),
  eventId: z.string().min(1),
  occurredAt: isoDateTime,
  finishedAt: isoDateTime,
  /** `superseded`: the worker or graphVoice did not run it, a newer command for the person was already applied. */
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
