/**
 * The sandbox tenant file (contracts/sandbox-tenant.example.json): the simulated directory and
 * Teams tenant. The Teams and Graph simulators both read it, so the schema accepts more than the
 * example shows (unknown keys are kept, most fields optional) and never less.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { DialtoneError } from '../../shared/domain/errors.js';
import { policyTypes } from '../../shared/domain/voice-state.js';
import { FaultRuleSchema, LatencySchema } from './faults.js';

const DIRECT_ROUTING_NUMBER = /^\+[1-9]\d{6,14}(;ext=\d{1,10})?$/;
const LINE_URI = /^(tel:)?\+[1-9]\d{6,14}(;ext=\d{1,10})?$/i;
const delayMs = z.number().int().nonnegative();
const optionalText = z.string().nullable().optional();

export const SandboxPolicySchema = z.looseObject({
  /** `Tag:Name` as Get-Cs*Policy shows it; a bare name is read as `Tag:Name`. */
  identity: z.string().trim().min(1),
  description: z.string().nullable().optional(),
});
export type SandboxPolicy = z.infer<typeof SandboxPolicySchema>;

const policyList = z.array(SandboxPolicySchema);
export const SandboxPoliciesSchema = z.looseObject(
  Object.fromEntries(policyTypes.map((type) => [type, policyList.optional()])) as Record<
    (typeof policyTypes)[number],
    z.ZodOptional<typeof policyList>
  >,
);

export const SandboxUserTeamsSchema = z.looseObject({
  enterpriseVoiceEnabled: z.boolean().optional(),
  /** `tel:+31201234567` or `+31201234567`, optionally with `;ext=`. */
  lineUri: z.string().regex(LINE_URI, 'must be tel:+E.164 or +E.164, optionally with ;ext=').nullable().optional(),
  /** Policy type → policy name (with or without `Tag:`), or null for the global policy. */
  policies: z.record(z.string(), z.string().min(1).nullable()).optional(),
});

export const SandboxUserSchema = z.looseObject({
  id: z.string().trim().min(1),
  userPrincipalName: z.string().trim().min(3),
  mail: optionalText,
  employeeId: optionalText,
  displayName: optionalText,
  department: optionalText,
  officeLocation: optionalText,
  jobTitle: optionalText,
  accountEnabled: z.boolean().optional(),
  usageLocation: optionalText,
  /** Service plan names (MCOEV is Teams Phone) or service plan ids. */
  servicePlans: z.array(z.string().min(1)).optional(),
  teams: SandboxUserTeamsSchema.optional(),
  /** Directory-sync lag: invisible before this much sandbox time has passed. */
  appearsAfterMs: delayMs.optional(),
  /** Group-licensing lag: holds no service plan before this much sandbox time has passed. */
  licensedAfterMs: delayMs.optional(),
  /**
   * Teams provisioning lag: after Teams Phone (MCOEV) arrives in Entra ID, Teams lists the
   * PhoneSystem feature (and accepts a number or Enterprise Voice) only this much later.
   * Default: the tenant's teamsSimulator.provisioningLagMs, else 0.
   */
  teamsProvisioningLagMs: delayMs.optional(),
});
export type SandboxUser = z.infer<typeof SandboxUserSchema>;

export const ExternalAssignmentSchema = z.looseObject({
  number: z.string().regex(DIRECT_ROUTING_NUMBER, 'must be E.164 such as +31201234567, optionally with ;ext='),
  /** Who holds it outside Dialtone: an object id, a UPN or any label. */
  assignedTo: z.string().min(1),
});

export const DirectoryChangeSchema = z.looseObject({
  atMs: delayMs,
  userId: z.string().min(1),
  set: z.looseObject({
    servicePlans: z.array(z.string().min(1)).optional(),
    accountEnabled: z.boolean().optional(),
    userPrincipalName: z.string().min(3).optional(),
    deleted: z.boolean().optional(),
  }),
  notify: z.boolean().optional(),
});
export type DirectoryChange = z.infer<typeof DirectoryChangeSchema>;

export const TeamsSimulatorSettingsSchema = z.looseObject({
  latencyMs: LatencySchema.optional(),
  faults: z.array(FaultRuleSchema).optional(),
  seed: z.number().int().optional(),
  /** Teams provisioning lag for every user without their own teamsProvisioningLagMs (default 0). */
  provisioningLagMs: delayMs.optional(),
});

export const SandboxTenantFileSchema = z
  .looseObject({
    tenantId: z.string().trim().min(1),
    /** What operators see for this tenant (the registry's displayName; default: the tenant id). */
    displayName: z.string().trim().min(1).max(256).optional(),
    /**
     * This tenant's own voice policy file (YAML or JSON), relative to the tenant file; as the
     * registry's `voicePolicy`. Without it the tenant's people get the run's --policy.
     */
    voicePolicy: z.string().trim().min(1).max(1024).optional(),
    users: z.array(SandboxUserSchema),
    /**
     * How the deployment's worker app is set up in this tenant, for `doctor --sandbox` (a sandbox
     * with several tenants): admin consent (its service principal in this tenant's Graph), the
     * Teams Communications Administrator role, and the tenant's certificate in the sandbox's Key
     * Vault (`false`: none; else made at the sandbox's start, valid `validityInMonths`). Default:
     * consented, the role, an enabled certificate valid 12 months.
     */
    workerApp: z
      .strictObject({
        consent: z.boolean().optional(),
        teamsRole: z.boolean().optional(),
        certificate: z.union([z.literal(false), z.strictObject({ enabled: z.boolean().optional(), validityInMonths: z.number().int().min(1).max(1200).optional() })]).optional(),
      })
      .optional(),
    policies: SandboxPoliciesSchema.optional(),
    /** Online PSTN gateways (SBC FQDNs) paired with the tenant: a voice route may only name these. */
    pstnGateways: z.array(z.string().trim().min(1)).optional(),
    externalAssignments: z.array(ExternalAssignmentSchema).optional(),
    directoryChanges: z.array(DirectoryChangeSchema).optional(),
    teamsSimulator: TeamsSimulatorSettingsSchema.optional(),
    /**
     * The Function App identity as the Graph simulator sees it: its service principal's object id
     * and the Graph application permissions granted to it (default: everything Dialtone needs).
     * A request it holds no permission for is refused with 403, as Graph does.
     */
    graphApp: z
      .looseObject({
        principalId: z.uuid().optional(),
        permissions: z.array(z.string().regex(/^[A-Za-z]+(\.[A-Za-z]+)+$/, 'must be a Graph permission name such as User.Read.All')).max(100).optional(),
      })
      .optional(),
  })
  .superRefine((file, ctx) => {
    const ids = new Set<string>();
    const upns = new Set<string>();
    const numbers = new Map<string, string>();
    const claim = (number: string, path: (string | number)[]) => {
      const key = number.replace(/^tel:/i, '');
      if (numbers.has(key)) {
        ctx.addIssue({ code: 'custom', path, message: `number ${key} is already held by ${numbers.get(key)}` });
      } else {
        numbers.set(key, path.join('.'));
      }
    };
    file.users.forEach((user, i) => {
      if (ids.has(user.id)) ctx.addIssue({ code: 'custom', path: ['users', i, 'id'], message: `duplicate user id ${user.id}` });
      ids.add(user.id);
      const upn = user.userPrincipalName.toLowerCase();
      if (upns.has(upn)) {
        ctx.addIssue({ code: 'custom', path: ['users', i, 'userPrincipalName'], message: `duplicate userPrincipalName ${user.userPrincipalName}` });
      }
      upns.add(upn);
      if (user.teams?.lineUri) claim(user.teams.lineUri, ['users', i, 'teams', 'lineUri']);
      for (const [type, name] of Object.entries(user.teams?.policies ?? {})) {
        if (name === null || !(policyTypes as readonly string[]).includes(type)) continue;
        const known = (file.policies?.[type as (typeof policyTypes)[number]] ?? []).some(
          (p) => bareName(p.identity).toLowerCase() === bareName(name).toLowerCase(),
        );
        if (!known) {
          ctx.addIssue({ code: 'custom', path: ['users', i, 'teams', 'policies', type], message: `no ${type} named ${name} in policies.${type}` });
        }
      }
    });
    file.externalAssignments?.forEach((a, i) => claim(a.number, ['externalAssignments', i, 'number']));
    file.directoryChanges?.forEach((c, i) => {
      if (!ids.has(c.userId)) ctx.addIssue({ code: 'custom', path: ['directoryChanges', i, 'userId'], message: `no user with id ${c.userId}` });
    });
  });
export type SandboxTenantFile = z.infer<typeof SandboxTenantFileSchema>;

/** `Tag:VRP-NL` → `VRP-NL`; Teams accepts either form for a policy name. */
export function bareName(identity: string): string {
  return identity.replace(/^tag:/i, '');
}

/** `users[1].teams.lineUri: must be …; tenantId: …` */
export function describeTenantFileIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.reduce<string>(
        (acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)),
        '',
      );
      return `${path || '(root)'}: ${issue.message}`;
    })
    .join('; ');
}

export function parseSandboxTenantFile(value: unknown, source = 'tenant file'): SandboxTenantFile {
  const parsed = SandboxTenantFileSchema.safeParse(value);
  if (!parsed.success) throw new DialtoneError('ConfigInvalid', `${source}: ${describeTenantFileIssues(parsed.error)}`);
  return parsed.data;
}

export async function loadSandboxTenantFile(path: string): Promise<SandboxTenantFile> {
  const text = await readFile(path, 'utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new DialtoneError('ConfigInvalid', `${path}: not JSON (${(error as Error).message})`);
  }
  return parseSandboxTenantFile(json, path);
}
