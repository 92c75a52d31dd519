/**
 * `dialtone tenant unlink`: refused while anyone holds a Dialtone number; otherwise removes the
 * tenant voice file's items from the tenant (shared/domain/tenant-unlink.ts decides which, in
 * which order) through Teams PowerShell, reads the tenant back, and deletes Dialtone's Graph
 * change-notification subscription (the one whose notification URL is Dialtone's).
 */
import { DialtoneError } from '../domain/errors.js';
import { planTenantUnlink, unlinkDryRunReport, unlinkRefusal, unlinkReport, type NumberHolder, type PlannedRemoval, type UnlinkItemReport } from '../domain/tenant-unlink.js';
import type { TenantVoiceConfig } from '../domain/tenant-voice.js';
import type { NumberInventory } from '../ports/number-inventory.js';
import type { Subscriptions } from '../ports/subscriptions.js';
import type { TenantSetupShell } from '../ports/tenant-setup-shell.js';
import { readTenantVoice } from './tenant-setup.js';

/** A Graph subscription in the unlink report. */
export interface SubscriptionReport {
  kind: 'graphSubscription';
  identity: string;
  status: 'removed' | 'not_found' | 'failed';
  detail: string;
}

export type UnlinkReportItem = UnlinkItemReport | SubscriptionReport;

export type UnlinkOutcome = { refused: true; reason: string; holders: NumberHolder[] } | { refused: false; items: UnlinkReportItem[] };

/** Everyone who holds, or is being given, a number of the inventory. */
export async function numberHolders(inventory: NumberInventory): Promise<NumberHolder[]> {
  const holders: NumberHolder[] = [];
  for (const state of ['assigned', 'reserved'] as const) {
    for (const r of await inventory.list({ state })) holders.push({ number: r.number, pool: r.pool, state, userId: r.userId });
  }
  return holders.sort((a, b) => (a.userId ?? '').localeCompare(b.userId ?? '') || a.number.localeCompare(b.number));
}

/** Checked before anything else is opened: a refusal touches neither Teams nor Graph. */
export async function unlinkGuard(inventory: NumberInventory): Promise<{ reason: string; holders: NumberHolder[] } | undefined> {
  const holders = await numberHolders(inventory);
  const reason = unlinkRefusal(holders);
  return reason === undefined ? undefined : { reason, holders };
}

export async function unlinkTeams(shell: TenantSetupShell, config: TenantVoiceConfig, dryRun: boolean): Promise<UnlinkItemReport[]> {
  const plan = planTenantUnlink(config, await readTenantVoice(shell));
  if (dryRun) return unlinkDryRunReport(plan);
  const failures = new Map<PlannedRemoval, string>();
  for (const item of plan) {
    for (const step of item.steps) {
      const outcome = await shell.run(step.cmdlet, step.parameters);
      if (!outcome.ok) {
        failures.set(item, `${step.cmdlet} failed: ${outcome.error.message}`);
        break;
      }
    }
  }
  return unlinkReport(plan, failures, planTenantUnlink(config, await readTenantVoice(shell)));
}

/** Deletes the subscriptions that deliver to Dialtone's notification URL, and no other. */
export async function unlinkSubscriptions(subscriptions: Subscriptions, notificationUrl: string, dryRun: boolean): Promise<SubscriptionReport[]> {
  const ours = (await subscriptions.list()).filter((s) => s.notificationUrl === notificationUrl);
  if (ours.length === 0) {
    return [{ kind: 'graphSubscription', identity: notificationUrl.replace(/\?.*$/, ''), status: 'not_found', detail: 'no Graph subscription delivers to Dialtone; nothing to remove' }];
  }
  const reports: SubscriptionReport[] = [];
  for (const s of ours) {
    const base = { kind: 'graphSubscription' as const, identity: s.id };
    if (dryRun) {
      reports.push({ ...base, status: 'removed', detail: `would delete the ${s.resource} subscription (expires ${s.expirationDateTime})` });
      continue;
    }
    try {
      await subscriptions.remove(s.id);
      reports.push({ ...base, status: 'removed', detail: `${s.resource} subscription deleted` });
    } catch (error) {
      const message = error instanceof DialtoneError || error instanceof Error ? error.message : String(error);
      reports.push({ ...base, status: 'failed', detail: `DELETE /subscriptions/${s.id} failed: ${message}` });
    }
  }
  return reports;
}
