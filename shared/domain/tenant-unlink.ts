/**
 * `dialtone tenant unlink`, the pure part: which of the tenant voice file's items to remove from
 * the tenant, in which order, with the cmdlet calls as data; and whether unlinking is allowed at
 * all. The file is the ownership: only an item the file names is removed, never anything else,
 * and a PSTN usage is removed only when nothing the file does not name still uses it
 * (`Set-CsOnlinePstnUsage -Usage @{Remove=…}` of that one usage, never Replace).
 */
import type { TenantItemKind, TenantStep, TenantVoiceActual } from './tenant-plan.js';
import type { TenantVoiceConfig } from './tenant-voice.js';

export type UnlinkStatus = 'removed' | 'not_found' | 'kept' | 'failed';

export interface UnlinkItemReport {
  kind: TenantItemKind;
  identity: string;
  status: UnlinkStatus;
  detail: string;
}

export interface PlannedRemoval {
  kind: TenantItemKind;
  identity: string;
  /** `absent`: the tenant does not hold it; `kept`: something the file does not name still needs it. */
  change: 'remove' | 'absent' | 'kept';
  /** For `kept`, why. */
  reason: string;
  steps: TenantStep[];
}

/** Someone who still holds a number of Dialtone's inventory: unlinking is refused while anyone does. */
export interface NumberHolder {
  number: string;
  pool: string;
  state: 'assigned' | 'reserved';
  userId: string | null;
}

const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

const removeCmdlet: Record<Exclude<TenantItemKind, 'pstnUsage'>, string> = {
  callingLineIdentity: 'Remove-CsCallingLineIdentity',
  dialPlan: 'Remove-CsTenantDialPlan',
  voiceRoutingPolicy: 'Remove-CsOnlineVoiceRoutingPolicy',
  voiceRoute: 'Remove-CsOnlineVoiceRoute',
};

/**
 * The removals, in the reverse of the order apply creates: CallingLineIdentity policies, dial
 * plans, voice routing policies, voice routes, then the PSTN usages they referred to.
 */
export function planTenantUnlink(config: TenantVoiceConfig, actual: TenantVoiceActual): PlannedRemoval[] {
  const plan: PlannedRemoval[] = [];
  const named = <T extends { name: string }>(kind: Exclude<TenantItemKind, 'pstnUsage'>, wanted: readonly { name: string }[], held: readonly T[]) => {
    for (const { name } of wanted) {
      const found = held.find((h) => same(h.name, name));
      plan.push(
        found === undefined
          ? { kind, identity: name, change: 'absent', reason: '', steps: [] }
          : { kind, identity: found.name, change: 'remove', reason: '', steps: [{ cmdlet: removeCmdlet[kind], parameters: { Identity: found.name } }] },
      );
    }
  };
  named('callingLineIdentity', config.callingLineIdentities, actual.callingLineIdentities);
  named('dialPlan', config.dialPlans, actual.dialPlans);
  named('voiceRoutingPolicy', config.voiceRoutingPolicies, actual.voiceRoutingPolicies);
  named('voiceRoute', config.voiceRoutes, actual.voiceRoutes);

  // What stays after the file's routes and policies are gone: the ones the file does not name.
  const ownsRoute = (name: string) => config.voiceRoutes.some((r) => same(r.name, name));
  const ownsPolicy = (name: string) => config.voiceRoutingPolicies.some((p) => same(p.name, name));
  const remaining = [
    ...actual.voiceRoutes.filter((r) => !ownsRoute(r.name)).map((r) => ({ what: `voice route ${r.name}`, usages: r.usages })),
    ...actual.voiceRoutingPolicies.filter((p) => !ownsPolicy(p.name)).map((p) => ({ what: `voice routing policy ${p.name}`, usages: p.usages })),
  ];
  for (const usage of config.pstnUsages) {
    const held = actual.pstnUsages.find((u) => same(u, usage));
    if (held === undefined) {
      plan.push({ kind: 'pstnUsage', identity: usage, change: 'absent', reason: '', steps: [] });
      continue;
    }
    const users = remaining.filter((r) => r.usages.some((u) => same(u, usage))).map((r) => r.what);
    plan.push(
      users.length > 0
        ? { kind: 'pstnUsage', identity: held, change: 'kept', reason: `still used by ${users.join(', ')}, which the file does not name`, steps: [] }
        : { kind: 'pstnUsage', identity: held, change: 'remove', reason: '', steps: [{ cmdlet: 'Set-CsOnlinePstnUsage', parameters: { Identity: 'Global', Usage: { Remove: [held] } } }] },
    );
  }
  return plan;
}

const labels: Record<TenantItemKind, string> = {
  pstnUsage: 'PSTN usage',
  voiceRoute: 'voice route',
  voiceRoutingPolicy: 'voice routing policy',
  dialPlan: 'dial plan',
  callingLineIdentity: 'CallingLineIdentity policy',
};

/** `--dry-run`: what unlink would do, changing nothing. */
export function unlinkDryRunReport(plan: readonly PlannedRemoval[]): UnlinkItemReport[] {
  return plan.map((item) => {
    const report = { kind: item.kind, identity: item.identity };
    switch (item.change) {
      case 'remove':
        return { ...report, status: 'removed', detail: `would remove with ${item.steps.map((s) => s.cmdlet).join(', ')}` };
      case 'absent':
        return { ...report, status: 'not_found', detail: `the tenant has no ${labels[item.kind]} ${item.identity}; nothing to remove` };
      case 'kept':
        return { ...report, status: 'kept', detail: `would keep: ${item.reason}` };
    }
  });
}

/**
 * After the removals: `failures` holds the cmdlet errors by item, `after` is the plan against the
 * tenant read back (an item still there that should be gone is `failed`).
 */
export function unlinkReport(plan: readonly PlannedRemoval[], failures: ReadonlyMap<PlannedRemoval, string>, after: readonly PlannedRemoval[]): UnlinkItemReport[] {
  return plan.map((item, i) => {
    const report = { kind: item.kind, identity: item.identity };
    const failure = failures.get(item);
    if (failure !== undefined) return { ...report, status: 'failed', detail: failure };
    switch (item.change) {
      case 'absent':
        return { ...report, status: 'not_found', detail: `the tenant has no ${labels[item.kind]} ${item.identity}; nothing to remove` };
      case 'kept':
        return { ...report, status: 'kept', detail: `kept: ${item.reason}` };
      case 'remove': {
        const now = after[i];
        if (now !== undefined && now.change !== 'absent') return { ...report, status: 'failed', detail: `still in the tenant after ${item.steps.map((s) => s.cmdlet).join(', ')}` };
        return { ...report, status: 'removed', detail: `${labels[item.kind]} removed with ${item.steps.map((s) => s.cmdlet).join(', ')}` };
      }
    }
  });
}

/** Unlinking is refused while anyone holds (or is being given) a number of the inventory. */
export function unlinkRefusal(holders: readonly NumberHolder[]): string | undefined {
  if (holders.length === 0) return undefined;
  const people = new Set(holders.map((h) => h.userId ?? h.number)).size;
  return `refused: ${people} ${people === 1 ? 'person holds' : 'people hold'} a Dialtone number (${holders.length} ${holders.length === 1 ? 'number' : 'numbers'} assigned or reserved); move them off Dialtone's numbers (leavers, or dialtone numbers release) and run unlink again. Nothing was removed.`;
}
