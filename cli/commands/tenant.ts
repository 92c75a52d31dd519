import Table from 'cli-table3';
import { Command } from 'commander';
import { loadTenantVoiceFile } from '../../shared/adapters/tenant-voice-file.js';
import { isDialtoneError } from '../../shared/domain/errors.js';
import type { TenantItemReport } from '../../shared/domain/tenant-plan.js';
import type { TenantVoiceConfig } from '../../shared/domain/tenant-voice.js';
import type { TenantSetupShell } from '../../shared/ports/tenant-setup-shell.js';
import { applyTenant, planTenant, tenantStatus } from '../../shared/usecases/tenant-setup.js';
import type { CliIo } from '../io.js';

/** A connected tenant set-up session and how to finish it (for --sandbox: write the tenant back). */
export interface TenantShellHandle {
  shell: TenantSetupShell;
  /** `changed`: whether the command may have written to the tenant. */
  close(changed: boolean): Promise<void>;
}

export type OpenTenantShell = () => Promise<TenantShellHandle>;

type Action = 'plan' | 'apply' | 'status';

const run: Record<Action, (shell: TenantSetupShell, config: TenantVoiceConfig) => Promise<TenantItemReport[]>> = {
  plan: planTenant,
  apply: applyTenant,
  status: tenantStatus,
};

function printItems(io: CliIo, items: TenantItemReport[]): void {
  const table = new Table({ head: ['kind', 'identity', 'status', 'detail'], wordWrap: true, colWidths: [22, 24, 16, 70] });
  for (const item of items) table.push([item.kind, item.identity, item.status, item.detail]);
  io.out(table.toString());
  const counts = new Map<string, number>();
  for (const item of items) counts.set(item.status, (counts.get(item.status) ?? 0) + 1);
  io.out([...counts].map(([status, n]) => `${n} ${status}`).join(', ') || 'the file names nothing');
}

/**
 * Exit codes: 0 when the tenant is (or, for plan, can be made) as the file says; 1 when `apply`
 * had a failed item or `status` found drift or a failed item; 2 when the file is unusable.
 */
function exitCode(action: Action, items: TenantItemReport[]): number {
  if (items.some((i) => i.status === 'failed')) return 1;
  if (action === 'status' && items.some((i) => i.status === 'drifted')) return 1;
  return 0;
}

/** `dialtone tenant plan|apply|status --config tenant-voice.yaml`: the tenant's voice routing as code (docs/TENANT.md). */
export function tenantCommand(open: OpenTenantShell, io: CliIo): Command {
  const tenant = new Command('tenant').description("Keep the tenant's voice routing (PSTN usages, routes, policies, dial plans, CLI policies) in step with a file");
  const descriptions: Record<Action, string> = {
    plan: 'Show what apply would create or update, changing nothing',
    apply: 'Create or update what differs from the file; never deletes anything',
    status: 'Read the tenant and report each item of the file as already_exists or drifted',
  };
  for (const action of ['plan', 'apply', 'status'] as const) {
    tenant
      .command(action)
      .description(descriptions[action])
      .requiredOption('--config <file>', 'the tenant voice file (YAML or JSON)')
      .option('--json', 'print { "items": [{ "kind", "identity", "status", "detail" }] }')
      .action(async (o: { config: string; json?: boolean }) => {
        let config: TenantVoiceConfig;
        try {
          config = await loadTenantVoiceFile(o.config);
        } catch (error) {
          if (!isDialtoneError(error)) throw error;
          io.err(`dialtone: ${error.message}`);
          return io.exit(2);
        }
        let handle: TenantShellHandle;
        try {
          handle = await open();
        } catch (error) {
          io.err(`dialtone: cannot open Teams PowerShell for tenant set-up: ${(error as Error).message}`);
          return io.exit(1);
        }
        let items: TenantItemReport[];
        try {
          items = await run[action](handle.shell, config);
        } catch (error) {
          await handle.close(action === 'apply');
          io.err(`dialtone: tenant ${action}: ${(error as Error).message}`);
          return io.exit(1);
        }
        await handle.close(action === 'apply');
        if (o.json) io.out(JSON.stringify({ items }, null, 2));
        else printItems(io, items);
        io.exit(exitCode(action, items));
      });
  }
  return tenant;
}
