/**
 * The part of the sandbox tenant file (sandbox/teams-sim/tenant-file.ts) the Graph simulator
 * reads, checked once more here because the shared schema keeps unknown keys loosely typed
 * (planStatus, the attributes a directory change may set).
 */
import { z } from 'zod';
import { describeZodError } from '../../shared/contracts/messages.js';

const text = z.string().nullable().optional();
const delayMs = z.number().int().nonnegative().optional();

/** capabilityStatus values Graph reports for an assigned plan. */
export const PlanStatusSchema = z.enum(['Enabled', 'Warning', 'Suspended', 'Deleted', 'LockedOut']);

const attributes = {
  userPrincipalName: z.string().min(3).optional(),
  mail: text,
  employeeId: text,
  displayName: text,
  department: text,
  officeLocation: text,
  jobTitle: text,
  accountEnabled: z.boolean().nullable().optional(),
  usageLocation: text,
  /** Service plan names (MCOEV, TEAMS1, …) or service plan ids. */
  servicePlans: z.array(z.string().min(1)).optional(),
  /** Per-plan capabilityStatus override, e.g. `{ "MCOEV": "Suspended" }`. */
  planStatus: z.record(z.string(), PlanStatusSchema).optional(),
};

export const GraphSimUserAttributesSchema = z.looseObject(attributes);
export type GraphSimUserAttributes = z.infer<typeof GraphSimUserAttributesSchema>;

export const GraphSimUserSchema = z.looseObject({
  ...attributes,
  id: z.string().min(1),
  userPrincipalName: z.string().min(3),
  /** Directory-sync lag: invisible to Graph until this much sandbox time has passed. */
  appearsAfterMs: delayMs,
  /** Group-licensing lag: no assigned plans until this much sandbox time has passed. */
  licensedAfterMs: delayMs,
});
export type GraphSimUser = z.infer<typeof GraphSimUserSchema>;

export const GraphSimDirectoryChangeSchema = z.looseObject({
  atMs: z.number().int().nonnegative(),
  userId: z.string().min(1),
  /** `deleted: true` removes the account: Graph answers 404 for it from then on. */
  set: GraphSimUserAttributesSchema.extend({ deleted: z.boolean().optional() }),
  notify: z.boolean().optional(),
});
export type GraphSimDirectoryChange = z.infer<typeof GraphSimDirectoryChangeSchema>;

export const GraphSimTenantSchema = z.looseObject({
  users: z.array(GraphSimUserSchema),
  directoryChanges: z.array(GraphSimDirectoryChangeSchema).optional(),
});
export type GraphSimTenant = z.infer<typeof GraphSimTenantSchema>;

/** Validates the Graph view of a tenant file; the error names the field path. */
export function readGraphTenant(tenant: unknown): GraphSimTenant {
  const parsed = GraphSimTenantSchema.safeParse(tenant);
  if (!parsed.success) throw new Error(`tenant file: ${describeZodError(parsed.error)}`);
  return parsed.data;
}

/** Reported when a scheduled directory change takes effect. */
export interface DirectoryChangeEvent {
  userId: string;
  changeType: 'updated' | 'deleted';
  notify: boolean;
  /** Sandbox time the change was scheduled for. */
  at: Date;
  /** Names of the attributes that changed. */
  fields: string[];
}
