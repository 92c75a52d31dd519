import { Command } from 'commander';
import { canonicalDesiredState, type DesiredVoiceState } from '../../shared/domain/voice-state.js';
import { describeDesired, previewVoice, type PlanDeps } from '../../shared/usecases/plan-voice.js';
import type { CliIo } from '../io.js';

function differences(desired: DesiredVoiceState, applied: DesiredVoiceState | null): string[] {
  if (!applied) return ['nothing applied yet'];
  if (canonicalDesiredState(desired) === canonicalDesiredState(applied)) return [];
  const out: string[] = [];
  if (desired.enterpriseVoiceEnabled !== applied.enterpriseVoiceEnabled) out.push(`Enterprise Voice ${applied.enterpriseVoiceEnabled ? 'on' : 'off'} → ${desired.enterpriseVoiceEnabled ? 'on' : 'off'}`);
  if (desired.phoneNumber !== applied.phoneNumber) out.push(`number ${applied.phoneNumber ?? 'none'} → ${desired.phoneNumber ?? 'none'}`);
  for (const [type, name] of Object.entries(desired.policies)) {
    const before = applied.policies[type as keyof typeof applied.policies];
    if (before !== name) out.push(`${type} ${before ?? 'Global'} → ${name ?? 'Global'}`);
  }
  return out;
}

/** `dialtone plan <user>`: what Dialtone would do for a person now; changes nothing. */
export function planCommand(resolve: () => Promise<PlanDeps>, io: CliIo): Command {
  return new Command('plan')
    .description('Dry run: the voice state Dialtone would give a person now, against what it last applied (changes nothing)')
    .argument('<user>', 'userPrincipalName or Entra object id')
    .option('--json', 'JSON output for scripts')
    .action(async (who: string, o: { json?: boolean }) => {
      const deps = await resolve();
      const found = who.includes('@') ? (await deps.directory.findUsers('userPrincipalName', who))[0] : await deps.directory.getUser(who);
      if (!found) {
        io.err(`No Entra ID user '${who}' (directory sync can lag).`);
        return io.exit(1);
      }
      const { record, preview } = await previewVoice(found.id, deps);
      if (o.json) return io.out(JSON.stringify({ user: { id: found.id, userPrincipalName: found.userPrincipalName }, preview, lastApplied: record?.lastApplied ?? null }, null, 2));
      io.out(`${found.userPrincipalName} (${found.id}) — dry run, nothing was changed`);
      if (preview.kind === 'outcome') {
        const o2 = preview.outcome;
        io.out(`  would not send a command: ${'code' in o2 ? `${o2.code}: ` : ''}${'message' in o2 ? o2.message : o2.summary}`);
        return;
      }
      io.out(`  desired (${preview.reason}): ${describeDesired(preview.desired)}`);
      if (preview.number) io.out(`  number: ${preview.number.number} from pool ${preview.number.pool}`);
      if (preview.releases.length > 0) io.out(`  would quarantine: ${preview.releases.join(', ')}`);
      io.out(`  last applied: ${record?.lastApplied ? describeDesired(record.lastApplied) : 'nothing yet'}`);
      const diff = differences(preview.desired, record?.lastApplied ?? null);
      io.out(diff.length === 0 ? '  no change: plan would send nothing' : `  changes: ${diff.join('; ')}`);
    });
}
