import { Command } from 'commander';
import { inTenant } from '../../shared/ports/per-tenant.js';
import { actualFromConfiguration } from '../../shared/domain/graph-voice.js';
import { hasPhoneSystemFeature } from '../../shared/domain/teams-readiness.js';
import { normalisePolicyName } from '../../shared/domain/voice-diff.js';
import { canonicalDesiredState, type DesiredVoiceState, type PolicyType } from '../../shared/domain/voice-state.js';
import { describeDesired, previewVoice, type LiveTeamsState } from '../../shared/usecases/plan-voice.js';
import type { CliContext } from '../context.js';
import { examples } from '../options.js';
import { OperationFailed } from '../errors.js';
import { tenantOf } from '../../shared/domain/tenants.js';
import { resolvePerson } from '../people.js';
import type { Backends } from '../program.js';

/** Teams' live state, from Graph's user configuration, in the shape of a desired state (the desired state's policy types). */
interface LiveView {
  featureTypes: string[];
  phoneSystem: boolean;
  state: DesiredVoiceState;
}

function liveView(live: LiveTeamsState, policyTypes: PolicyType[]): LiveView | null {
  if (live.kind !== 'read' || live.configuration === null) return null;
  const actual = actualFromConfiguration(live.configuration);
  const policies: DesiredVoiceState['policies'] = {};
  for (const type of policyTypes) policies[type] = actual.policies[type] ?? null;
  return {
    featureTypes: live.configuration.featureTypes,
    phoneSystem: hasPhoneSystemFeature(live.configuration),
    state: { enterpriseVoiceEnabled: actual.enterpriseVoiceEnabled, phoneNumber: actual.phoneNumber, phoneNumberType: 'DirectRouting', policies },
  };
}

function describeLive(live: LiveTeamsState, view: LiveView | null): string {
  if (live.kind === 'unavailable') return `not read (${live.reason})`;
  if (view === null) return 'Teams does not know the user yet';
  const policies = Object.entries(view.state.policies)
    .map(([type, name]) => `${type}=${name ?? 'Global'}`)
    .join(', ');
  const state = `Enterprise Voice ${view.state.enterpriseVoiceEnabled ? 'on' : 'off'}, number ${view.state.phoneNumber ?? 'none'}${policies ? `, ${policies}` : ''}`;
  return `${state} (featureTypes: ${view.featureTypes.join(', ') || 'none'}${view.phoneSystem ? '' : '; PhoneSystem not provisioned yet'})`;
}

function differences(desired: DesiredVoiceState, applied: DesiredVoiceState | null): string[] {
  if (!applied) return ['nothing applied yet'];
  if (canonicalDesiredState(desired) === canonicalDesiredState(applied)) return [];
  const out: string[] = [];
  if (desired.enterpriseVoiceEnabled !== applied.enterpriseVoiceEnabled) out.push(`Enterprise Voice ${applied.enterpriseVoiceEnabled ? 'on' : 'off'} → ${desired.enterpriseVoiceEnabled ? 'on' : 'off'}`);
  if (desired.phoneNumber !== applied.phoneNumber) out.push(`number ${applied.phoneNumber ?? 'none'} → ${desired.phoneNumber ?? 'none'}`);
  for (const [type, name] of Object.entries(desired.policies)) {
    const before = applied.policies[type as keyof typeof applied.policies];
    if (normalisePolicyName(before)?.toLowerCase() !== normalisePolicyName(name)?.toLowerCase()) out.push(`${type} ${before ?? 'Global'} → ${name ?? 'Global'}`);
  }
  return out;
}

/** `dialtone plan <person>`: what Dialtone would do for a person now; changes nothing. */
export function planCommand(ctx: CliContext, backends: Pick<Backends, 'plan' | 'tenants'>): Command {
  return examples(
    new Command('plan')
      .description(
        "Dry run: the voice state Dialtone would give a person now, against Teams' live state (read through Graph) and what Dialtone last applied (changes nothing)",
      )
      .argument('<user>', 'UPN, Entra object id, employee id or mail')
      .option('--tenant-id <guid>', 'only a person of this tenant (refused, naming the person\'s tenant, otherwise)'),
    ['dialtone plan anna@contoso.com', 'dialtone plan E1001 --sandbox .sandbox-state -o json'],
  ).action(async (who: string, o: { tenantId?: string }) => {
    const deps = await backends.plan();
    // The one person resolver, on what plan reads: Entra ID, then Dialtone's records.
    // The deployment's own tenant, for the output; a deployment whose registry cannot be read still plans.
    const defaultTenantId = async () => (await backends.tenants().catch(() => undefined))?.implicit.tenantId;
    const person = await resolvePerson(
      who,
      { directory: () => inTenant(deps.directory, o.tenantId?.toLowerCase()), records: async () => deps.records, defaultTenantId, ...(o.tenantId ? { directoryTenantId: o.tenantId } : {}) },
      o.tenantId,
    );
    const { record, preview, live } = await previewVoice(person.userId, deps, o.tenantId?.toLowerCase());
    // The person's tenant, always said: the record's, else the --tenant-id's, else the deployment's own.
    if (o.tenantId && record) {
      const owner = tenantOf(record, (await backends.tenants()).implicit.tenantId);
      if (owner !== o.tenantId.toLowerCase()) throw new OperationFailed(`'${who}' (${person.userId}) is a person of tenant ${owner}, not ${o.tenantId}.`);
    }
    const tenant = record?.tenantId ?? o.tenantId?.toLowerCase() ?? person.tenantId ?? (await defaultTenantId()) ?? 'the default tenant';
    const types = Object.keys(preview.kind === 'command' ? preview.desired.policies : (record?.lastApplied?.policies ?? {})) as PolicyType[];
    const view = liveView(live, types);
    const liveJson =
      live.kind === 'unavailable'
        ? { read: false, reason: live.reason }
        : { read: true, known: view !== null, ...(view ? { featureTypes: view.featureTypes, phoneSystem: view.phoneSystem, state: view.state } : {}) };
    const out = ctx.output();
    out.value({ user: { id: person.userId, userPrincipalName: person.userPrincipalName, tenantId: tenant }, preview, live: liveJson, lastApplied: record?.lastApplied ?? null }, () => {
      const lines = [`${person.userPrincipalName ?? person.userId} (${person.userId}), tenant ${tenant} — dry run, nothing was changed`];
      if (preview.kind === 'outcome') {
        const o2 = preview.outcome;
        lines.push(`  would not send a command: ${'code' in o2 ? `${o2.code}: ` : ''}${'message' in o2 ? o2.message : o2.summary}`);
        lines.push(`  live in Teams: ${describeLive(live, view)}`);
        return lines;
      }
      lines.push(`  desired (${preview.reason}): ${describeDesired(preview.desired)}`);
      lines.push(`  live in Teams: ${describeLive(live, view)}`);
      if (preview.number) lines.push(`  number: ${preview.number.number} from pool ${preview.number.pool}`);
      if (preview.releases.length > 0) lines.push(`  would quarantine: ${preview.releases.join(', ')}`);
      lines.push(`  last applied: ${record?.lastApplied ? describeDesired(record.lastApplied) : 'nothing yet'}`);
      const diff = differences(preview.desired, record?.lastApplied ?? null);
      lines.push(diff.length === 0 ? '  no change: plan would send nothing' : `  changes: ${diff.join('; ')}`);
      if (view) {
        const drift = differences(preview.desired, view.state);
        lines.push(drift.length === 0 ? '  Teams already matches the desired state' : `  Teams differs (Teams now → desired): ${drift.join('; ')}`);
      }
      return lines;
    });
  });
}
