import { Command, Option } from 'commander';
import { describeZodError } from '../../shared/contracts/messages.js';
import { correlationStrategies } from '../../shared/domain/correlation.js';
import { TENANT_SESSION_LIMIT_MAX, TenantInputSchema, type EffectiveTenant, type TenantInput, type TenantPatch } from '../../shared/domain/tenants.js';
import type { TenantRegistry } from '../../shared/ports/tenant-registry.js';
import { findTenant, listTenants, removeTenant, tenantHoldings, tenantNotFound, type TenantAdminDeps } from '../../shared/usecases/manage-tenants.js';
import type { CliContext } from '../context.js';
import { InputError, OperationFailed, UsageError } from '../errors.js';
import { readJsonInput } from '../input-file.js';
import { examples, integer, withYes } from '../options.js';
import type { Column } from '../output.js';
import type { Backends } from '../program.js';

/** What the tenants commands work on: the registry, and the tenant a deployment has without one. */
export interface TenantsBackend {
  registry: TenantRegistry;
  implicit: EffectiveTenant;
}

const columns: Column<EffectiveTenant>[] = [
  { header: 'tenant id', value: (t) => t.tenantId },
  { header: 'name', value: (t) => t.displayName },
  { header: 'app id', value: (t) => t.applicationId || '(settings)' },
  { header: 'certificate', value: (t) => t.certificateName || '(settings)' },
  { header: 'backend', value: (t) => t.teamsBackend ?? '(deployment)' },
  { header: 'sessions', value: (t) => t.sessionLimit, numeric: true },
  { header: 'pools', value: (t) => t.pools.join(', ') || '-' },
  { header: 'UPN domains', value: (t) => t.upnDomains.join(', ') || '-' },
  { header: 'source', value: (t) => t.source },
];

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];
const list = (value: string): string[] => value.split(',').map((s) => s.trim()).filter(Boolean);

interface TenantFlags {
  file?: string;
  tenantId?: string;
  name?: string;
  appId?: string;
  certName?: string;
  policy?: string;
  tenantConfig?: string;
  pool?: string[];
  correlation?: string[];
  teamsBackend?: 'powershell' | 'graph';
  sessionLimit?: number;
  upnDomain?: string[];
}

function withTenantFlags(command: Command, forUpdate: boolean): Command {
  return command
    .option('--name <text>', 'display name')
    .option('--app-id <guid>', 'app registration (client) id the worker connects to this tenant with')
    .option('--cert-name <name>', 'Key Vault certificate of that app (with its private key)')
    .option('--policy <file>', 'voice policy file for this tenant (default: the deployment\'s)')
    .option('--tenant-config <file>', 'tenant voice configuration file (dialtone tenant plan|apply --config)')
    .option('--pool <id>', `number pool that belongs to this tenant (repeat for more${forUpdate ? '; replaces the list' : ''})`, collect)
    .option('--correlation <list>', `lookup order, comma-separated: ${correlationStrategies.join(',')}`, list)
    .addOption(new Option('--teams-backend <backend>', 'who applies this tenant\'s voice commands').choices(['powershell', 'graph']))
    .addOption(new Option('--session-limit <n>', `Teams sessions the tenant allows at once across all workers (1-${TENANT_SESSION_LIMIT_MAX})`).argParser(integer({ min: 1, max: TENANT_SESSION_LIMIT_MAX })))
    .option('--upn-domain <domain>', `route HR events without tenantId by this UPN domain (repeat for more${forUpdate ? '; replaces the list' : ''})`, collect);
}

/** The flags as registry fields (only those given). */
function fieldsOf(o: TenantFlags): TenantPatch {
  return {
    ...(o.name !== undefined ? { displayName: o.name } : {}),
    ...(o.appId !== undefined ? { applicationId: o.appId } : {}),
    ...(o.certName !== undefined ? { certificateName: o.certName } : {}),
    ...(o.policy !== undefined ? { voicePolicy: o.policy } : {}),
    ...(o.tenantConfig !== undefined ? { tenantVoiceConfig: o.tenantConfig } : {}),
    ...(o.pool !== undefined ? { pools: o.pool } : {}),
    ...(o.correlation !== undefined ? { correlationStrategies: o.correlation as TenantPatch['correlationStrategies'] } : {}),
    ...(o.teamsBackend !== undefined ? { teamsBackend: o.teamsBackend } : {}),
    ...(o.sessionLimit !== undefined ? { sessionLimit: o.sessionLimit } : {}),
    ...(o.upnDomain !== undefined ? { upnDomains: o.upnDomain } : {}),
  };
}

async function readTenantFile(file: string): Promise<Record<string, unknown>> {
  const data = await readJsonInput(file);
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new InputError(file, '(file): expected one JSON object (a tenant)');
  return data as Record<string, unknown>;
}

function human(t: EffectiveTenant): string[] {
  return [
    `${t.displayName} (${t.tenantId})${t.source === 'implicit' ? ' — implicit: no tenant is registered, this one comes from the settings' : ''}`,
    `  app id:          ${t.applicationId || '(the worker\'s DIALTONE_APP_ID)'}`,
    `  certificate:     ${t.certificateName || '(the worker\'s DIALTONE_CERT_NAME)'}`,
    `  voice policy:    ${t.voicePolicy ?? '(the deployment\'s)'}`,
    `  voice config:    ${t.tenantVoiceConfig ?? '-'}`,
    `  pools:           ${t.pools.join(', ') || '-'}`,
    `  correlation:     ${t.correlationStrategies?.join(', ') ?? '(the deployment\'s)'}`,
    `  Teams backend:   ${t.teamsBackend ?? "the deployment's (DIALTONE_TEAMS_BACKEND)"}`,
    `  session limit:   ${t.sessionLimit}`,
    `  UPN domains:     ${t.upnDomains.join(', ') || '-'}`,
  ];
}

/** `dialtone tenants …`: the registry of the tenants one deployment serves (docs/MULTI-TENANT.md). */
export function tenantsCommand(ctx: CliContext, backends: Pick<Backends, 'tenants' | 'records' | 'inventory'>): Command {
  const tenants = new Command('tenants').description('The tenants this deployment serves: list, add, show, update, remove (docs/MULTI-TENANT.md)');
  examples(tenants, ['dialtone tenants list', 'dialtone tenants add --tenant-id <guid> --name Contoso --app-id <guid> --cert-name contoso-teams --pool ams']);
  const admin = async (): Promise<TenantAdminDeps> => {
    const b = await backends.tenants();
    return { registry: b.registry, implicit: b.implicit, records: () => backends.records(), inventory: () => backends.inventory() };
  };
  /** A well-formed id that is not in force is a runtime not-found (exit 1), like an unknown person in status. */
  const known = async (deps: TenantAdminDeps, tenantId: string): Promise<EffectiveTenant> => {
    const tenant = await findTenant(deps, tenantId);
    if (!tenant) throw new OperationFailed(tenantNotFound(tenantId));
    return tenant;
  };

  examples(tenants.command('list').description('The tenants in force (the implicit one while none is registered)'), ['dialtone tenants list -o json']).action(async () => {
    const rows = await listTenants(await admin());
    await ctx.output().list(rows, columns);
  });

  examples(tenants.command('show').description('One tenant, with what it still holds').argument('<tenant-id>'), ['dialtone tenants show 8f0c2a53-5d0e-4c1b-9a57-2f1f0e6f0001']).action(async (tenantId: string) => {
    const deps = await admin();
    const tenant = await known(deps, tenantId);
    const holdings = await tenantHoldings(deps, tenant);
    ctx.output().value({ ...tenant, holds: { people: holdings.people.length, numbers: holdings.numbers } }, () => [
      ...human(tenant),
      `  holds:           ${holdings.people.length} people with voice, ${holdings.numbers} numbers reserved or assigned`,
    ]);
  });

  examples(
    withTenantFlags(tenants.command('add').description('Register a tenant (from flags, or a JSON file with the same fields; flags win)'), false)
      .option('--tenant-id <guid>', 'the Entra tenant id')
      .option('--file <file>', 'a JSON object: tenantId, displayName, applicationId, certificateName, pools, upnDomains, …'),
    ['dialtone tenants add --tenant-id <guid> --name Fabrikam --app-id <guid> --cert-name fabrikam-teams --pool fab-ams --upn-domain fabrikam.example', 'dialtone tenants add --file fabrikam.json --sandbox .sandbox-state'],
  ).action(async (o: TenantFlags) => {
    const fromFile = o.file ? await readTenantFile(o.file) : {};
    const input = { ...fromFile, ...(o.tenantId !== undefined ? { tenantId: o.tenantId } : {}), ...fieldsOf(o) };
    const parsed = TenantInputSchema.safeParse(input);
    if (!parsed.success) {
      const detail = describeZodError(parsed.error);
      if (o.file) throw new InputError(o.file, detail);
      throw new UsageError(`${detail} (set it with a flag, see dialtone tenants add --help)`);
    }
    const { registry } = await backends.tenants();
    const tenant = await registry.add(input as TenantInput, await ctx.now());
    await ctx.commit();
    const shown: EffectiveTenant = { ...stripTimes(tenant), source: 'registry' };
    ctx.output().value(tenant, () => [`Registered tenant ${tenant.tenantId}.`, ...human(shown)]);
  });

  examples(withTenantFlags(tenants.command('update').description('Change a registered tenant (only the fields given)').argument('<tenant-id>'), true), [
    'dialtone tenants update <guid> --session-limit 5',
    'dialtone tenants update <guid> --pool ams --pool rtm',
  ]).action(async (tenantId: string, o: TenantFlags) => {
    const patch = fieldsOf(o);
    if (Object.keys(patch).length === 0) throw new UsageError('nothing to change: give at least one field (see dialtone tenants update --help)');
    const { registry } = await backends.tenants();
    if (!(await registry.get(tenantId))) throw new OperationFailed(`tenant ${tenantId} is not registered (see dialtone tenants list)`);
    const tenant = await registry.update(tenantId, patch, await ctx.now());
    await ctx.commit();
    ctx.output().value(tenant, () => [`Updated tenant ${tenant.tenantId}.`, ...human({ ...stripTimes(tenant), source: 'registry' })]);
  });

  examples(withYes(tenants.command('remove').description('Offboard a tenant from the registry (refused while it holds people or numbers)').argument('<tenant-id>')), [
    'dialtone tenants remove <guid> --yes',
  ]).action(async (tenantId: string, o: { yes?: boolean }) => {
    const deps = await admin();
    const tenant = await known(deps, tenantId);
    if (tenant.source === 'implicit') throw new OperationFailed(`tenant ${tenant.tenantId} is the deployment's own tenant (no registry): there is nothing to remove`);
    if (!(await ctx.confirm(`Remove tenant ${tenant.tenantId} (${tenant.displayName}) from the registry?`, o.yes))) throw new OperationFailed('Nothing removed.');
    const outcome = await removeTenant(deps, tenantId, await ctx.now());
    if (!outcome.removed) throw new OperationFailed(outcome.reason);
    await ctx.commit();
    ctx.output().value({ removed: true, tenantId: outcome.tenant.tenantId }, () => `Removed tenant ${outcome.tenant.tenantId} (${outcome.tenant.displayName}) from the registry.`);
  });

  return tenants;
}

function stripTimes<T extends { createdAt: string; updatedAt: string }>(t: T): Omit<T, 'createdAt' | 'updatedAt'> {
  const { createdAt: _c, updatedAt: _u, ...rest } = t;
  return rest;
}
