import { Command } from 'commander';
import { loadTenantVoiceFile } from '../../shared/adapters/tenant-voice-file.js';
import { isDialtoneError } from '../../shared/domain/errors.js';
import type { TenantItemReport } from '../../shared/domain/tenant-plan.js';
import type { TenantVoiceConfig } from '../../shared/domain/tenant-voice.js';
import type { TenantSetupShell } from '../../shared/ports/tenant-setup-shell.js';
import { applyTenant, planTenant, tenantStatus } from '../../shared/usecases/tenant-setup.js';
import { unlinkGuard, unlinkSubscriptions, unlinkTeams, type UnlinkReportItem } from '../../shared/usecases/tenant-unlink.js';
import type { NumberInventory } from '../../shared/ports/number-inventory.js';
import type { Subscriptions } from '../../shared/ports/subscriptions.js';
import type { CliContext } from '../context.js';
import { InputError, OperationFailed } from '../errors.js';
import { examples } from '../options.js';
import { findTenant, tenantNotFound } from '../../shared/usecases/manage-tenants.js';
import type { TenantsBackend } from './tenants.js';
import type { Column } from '../output.js';

/** A connected tenant set-up session and how to finish it (for --sandbox: write the tenant back). */
export interface TenantShellHandle {
  shell: TenantSetupShell;
  /** `changed`: whether the command may have written to the tenant. */
  close(changed: boolean): Promise<void>;
}

/** Which tenant to connect to and as whom: a registered tenant's id, app id and Key Vault certificate (none: the settings'). */
export interface TenantIdentity {
  tenantId: string;
  applicationId: string;
  certificateName: string;
}

export type OpenTenantShell = (identity?: TenantIdentity) => Promise<TenantShellHandle>;

/** Dialtone's Graph subscriptions and the notification URL that marks them as Dialtone's. */
export interface GraphSubscriptionsHandle {
  subscriptions: Subscriptions;
  notificationUrl: string;
  /** `changed`: whether the command may have deleted one (for --sandbox: write the state back). */
  close(changed: boolean): Promise<void>;
}

export interface TenantBackends {
  tenantShell: OpenTenantShell;
  inventory(): Promise<NumberInventory>;
  graphSubscriptions(): Promise<GraphSubscriptionsHandle>;
  tenants(): Promise<TenantsBackend>;
}

type Action = 'plan' | 'apply' | 'status';

const run: Record<Action, (shell: TenantSetupShell, config: TenantVoiceConfig) => Promise<TenantItemReport[]>> = {
  plan: planTenant,
  apply: applyTenant,
  status: tenantStatus,
};

const descriptions: Record<Action, string> = {
  plan: 'Show what apply would create or update, changing nothing',
  apply: 'Create or update what differs from the file, through Teams PowerShell; never deletes anything. Exits 1 when an item failed',
  status: 'Read the tenant and report each item of the file as already_exists or drifted. Exits 1 on drift or a failed item',
};

async function loadConfig(file: string): Promise<TenantVoiceConfig> {
  try {
    return await loadTenantVoiceFile(file);
  } catch (error) {
    // The message already starts with the file and names the field.
    if (isDialtoneError(error)) throw new InputError(file, error.message.replace(`${file}: `, ''));
    throw error;
  }
}

/** `dialtone tenant plan|apply|status --config tenant-voice.yaml`: the tenant's voice routing as code (docs/TENANT.md). */
/** The columns of a per-item report (plan, apply, status, unlink): kind, identity, status, detail. */
function itemColumns<T extends { kind: string; identity: string; status: string; detail: string }>(): Column<T>[] {
  return [
    { header: 'kind', value: (i) => i.kind },
    { header: 'identity', value: (i) => i.identity },
    { header: 'status', value: (i) => i.status },
    { header: 'detail', value: (i) => i.detail },
  ];
}

export function tenantCommand(ctx: CliContext, backends: TenantBackends): Command {
  const tenant = new Command('tenant').description(
    "Keep the tenant's voice routing (PSTN usages, voice routes, voice routing policies, dial plans, CallingLineIdentity policies) in step with a file",
  );
  examples(tenant, ['dialtone tenant status --config tenant-voice.yaml', 'dialtone tenant apply --config tenant-voice.yaml --sandbox .sandbox-state -o json']);
  for (const action of ['plan', 'apply', 'status'] as const) {
    examples(tenant.command(action).description(descriptions[action]).requiredOption('--config <file>', 'the tenant voice file (YAML or JSON, docs/TENANT.md)'), [
      `dialtone tenant ${action} --config tenant-voice.yaml`,
      `dialtone tenant ${action} --config tenant-voice.yaml --sandbox .sandbox-state --json`,
    ]).action(async (o: { config: string }) => {
      const config = await loadConfig(o.config);
      let handle: TenantShellHandle;
      try {
        handle = await backends.tenantShell();
      } catch (error) {
        if (isDialtoneError(error) && error.code === 'ConfigInvalid') throw error;
        throw new OperationFailed(`cannot open Teams PowerShell for tenant set-up: ${(error as Error).message}`);
      }
      let items: TenantItemReport[];
      try {
        items = await run[action](handle.shell, config);
      } finally {
        await handle.close(action === 'apply');
      }
      if (action === 'apply') await ctx.commit();
      const out = ctx.output();
      if (ctx.format === 'json') {
        out.value({ items });
      } else {
        await out.list(items, itemColumns<TenantItemReport>());
        const counts = new Map<string, number>();
        for (const item of items) counts.set(item.status, (counts.get(item.status) ?? 0) + 1);
        out.text([...counts].map(([status, n]) => `${n} ${status}`).join(', ') || 'the file names nothing');
      }
      const failed = items.some((i) => i.status === 'failed') || (action === 'status' && items.some((i) => i.status === 'drifted'));
      if (failed) ctx.io.exit(1);
    });
  }
  examples(
    tenant
      .command('unlink')
      .description(
        "Remove what the file names from the tenant (CLI policies, dial plans, voice routing policies, voice routes, then the PSTN usages nothing else uses) and Dialtone's Graph subscription. Refused (exit 1, listing them) while anyone holds a Dialtone number",
      )
      .requiredOption('--config <file>', 'the tenant voice file (YAML or JSON, docs/TENANT.md)')
      .option('--dry-run', 'report what would be removed, changing nothing')
      .option('--tenant-id <guid>', "a registered tenant: connect with its app id and certificate from the registry, refused only while its own people hold its numbers (default: the deployment's own tenant)"),
    [
      'dialtone tenant unlink --config tenant-voice.yaml --dry-run',
      'dialtone tenant unlink --config tenant-voice.yaml --sandbox .sandbox-state --json',
      'dialtone tenant unlink --config fabrikam-voice.yaml --tenant-id <guid> --dry-run',
    ],
  ).action(async (o: { config: string; dryRun?: boolean; tenantId?: string }) => {
    const config = await loadConfig(o.config);
    const dryRun = o.dryRun === true;
    // The tenant's identity is the registry's (docs/MULTI-TENANT.md); the deployment's own tenant keeps the settings'.
    let identity: TenantIdentity | undefined;
    let own = true;
    if (o.tenantId !== undefined) {
      const { registry, implicit } = await backends.tenants();
      const tenant = await findTenant({ registry, implicit }, o.tenantId);
      if (!tenant) throw new OperationFailed(tenantNotFound(o.tenantId));
      own = tenant.source === 'implicit' || tenant.tenantId === implicit.tenantId;
      if (tenant.source === 'registry') identity = { tenantId: tenant.tenantId, applicationId: tenant.applicationId, certificateName: tenant.certificateName };
    }
    const refusal = await unlinkGuard((await backends.inventory()).forTenant(o.tenantId?.toLowerCase()));
    if (refusal) {
      const out = ctx.output();
      if (ctx.format === 'json') out.value({ refused: true, holders: refusal.holders });
      else {
        await out.list(refusal.holders, [
          { header: 'number', value: (h) => h.number },
          { header: 'pool', value: (h) => h.pool },
          { header: 'state', value: (h) => h.state },
          { header: 'user', value: (h) => h.userId },
        ]);
      }
      throw new OperationFailed(refusal.reason);
    }
    let handle: TenantShellHandle;
    try {
      handle = await backends.tenantShell(identity);
    } catch (error) {
      if (isDialtoneError(error) && error.code === 'ConfigInvalid') throw error;
      throw new OperationFailed(`cannot open Teams PowerShell for tenant set-up: ${(error as Error).message}`);
    }
    const items: UnlinkReportItem[] = [];
    try {
      items.push(...(await unlinkTeams(handle.shell, config, dryRun)));
    } finally {
      await handle.close(!dryRun);
    }
    // Dialtone's Graph subscription is the deployment's own tenant's: unlinking another tenant never deletes it.
    if (own) {
      const graph = await backends.graphSubscriptions();
      try {
        items.push(...(await unlinkSubscriptions(graph.subscriptions, graph.notificationUrl, dryRun)));
      } finally {
        await graph.close(!dryRun);
      }
    }
    if (!dryRun) await ctx.commit();
    const out = ctx.output();
    if (ctx.format === 'json') {
      out.value({ items });
    } else {
      await out.list(items, itemColumns<UnlinkReportItem>());
    }
    if (items.some((i) => i.status === 'failed')) ctx.io.exit(1);
  });
  return tenant;
}
