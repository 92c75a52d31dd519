/**
 * `dialtone tenant plan|apply|status`: read the tenant's voice routing through Teams PowerShell,
 * compare it with the tenant voice file (shared/domain/tenant-plan.ts, pure) and, for `apply`,
 * run only the cmdlets that close the gap, item by item, reading the tenant back afterwards so
 * every item's status is what Teams holds, not what a cmdlet promised.
 */
import {
  dryRunReport,
  normaliseTenantVoice,
  planTenantVoice,
  statusReport,
  tenantItemLabels,
  type PlannedItem,
  type TenantItemReport,
  type TenantVoiceActual,
} from '../domain/tenant-plan.js';
import type { TenantVoiceConfig } from '../domain/tenant-voice.js';
import { DialtoneError } from '../domain/errors.js';
import type { TenantSetupShell } from '../ports/tenant-setup-shell.js';

/** The reads, in the order they run; each answers with every entry of its kind. */
const reads = [
  ['pstnUsages', 'Get-CsOnlinePstnUsage'],
  ['voiceRoutes', 'Get-CsOnlineVoiceRoute'],
  ['voiceRoutingPolicies', 'Get-CsOnlineVoiceRoutingPolicy'],
  ['dialPlans', 'Get-CsTenantDialPlan'],
  ['callingLineIdentities', 'Get-CsCallingLineIdentity'],
] as const;

export async function readTenantVoice(shell: TenantSetupShell): Promise<TenantVoiceActual> {
  const raw: Record<string, unknown> = {};
  for (const [key, cmdlet] of reads) {
    const outcome = await shell.run(cmdlet, {});
    if (!outcome.ok) throw new DialtoneError('CmdletFailed', `${cmdlet} failed: ${outcome.error.message}`, { details: { cmdlet } });
    raw[key] = outcome.result;
  }
  try {
    return normaliseTenantVoice(raw as unknown as Parameters<typeof normaliseTenantVoice>[0]);
  } catch (error) {
    throw new DialtoneError('CmdletFailed', (error as Error).message);
  }
}

export async function planTenant(shell: TenantSetupShell, desired: TenantVoiceConfig): Promise<TenantItemReport[]> {
  return dryRunReport(planTenantVoice(desired, await readTenantVoice(shell)));
}

export async function tenantStatus(shell: TenantSetupShell, desired: TenantVoiceConfig): Promise<TenantItemReport[]> {
  return statusReport(planTenantVoice(desired, await readTenantVoice(shell)));
}

/**
 * Creates or updates what differs. An item whose cmdlet fails is `failed` with Teams' message;
 * an item that refers to a PSTN usage that could not be added is not attempted. Nothing is ever
 * removed. After the writes the tenant is read again: an item that still differs is `failed`.
 */
export async function applyTenant(shell: TenantSetupShell, desired: TenantVoiceConfig): Promise<TenantItemReport[]> {
  const plan = planTenantVoice(desired, await readTenantVoice(shell));
  const failures = new Map<PlannedItem, string>();
  const failedUsages = new Set<string>();
  for (const item of plan) {
    if (item.change === 'refused') {
      failures.set(item, item.differences.join('; '));
      continue;
    }
    const blocked = item.needsUsages.find((u) => failedUsages.has(u.toLowerCase()));
    if (blocked !== undefined) {
      failures.set(item, `not applied: PSTN usage ${blocked} could not be added`);
      continue;
    }
    for (const step of item.steps) {
      const outcome = await shell.run(step.cmdlet, step.parameters);
      if (!outcome.ok) {
        failures.set(item, `${step.cmdlet} failed: ${outcome.error.message}`);
        if (item.kind === 'pstnUsage') failedUsages.add(item.identity.toLowerCase());
        break;
      }
    }
  }
  const after = planTenantVoice(desired, await readTenantVoice(shell));
  return plan.map((item, i): TenantItemReport => {
    const report = { kind: item.kind, identity: item.identity };
    const failure = failures.get(item);
    if (failure !== undefined) return { ...report, status: 'failed', detail: failure };
    const now = after[i];
    if (now !== undefined && now.change !== 'none') {
      return { ...report, status: 'failed', detail: `still differs after ${item.steps.map((s) => s.cmdlet).join(', ') || 'no change'}: ${now.differences.join('; ') || 'missing'}` };
    }
    switch (item.change) {
      case 'create':
        return { ...report, status: 'created', detail: `${tenantItemLabels[item.kind]} created with ${item.steps.map((s) => s.cmdlet).join(', ')}` };
      case 'update':
        return { ...report, status: 'updated', detail: item.differences.join('; ') };
      default:
        return { ...report, status: 'already_exists', detail: `${tenantItemLabels[item.kind]} matches the file; nothing changed` };
    }
  });
}
