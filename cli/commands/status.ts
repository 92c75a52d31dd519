import Table from 'cli-table3';
import { Command } from 'commander';
import type { NumberInventory } from '../../shared/ports/number-inventory.js';
import type { ProvisioningRecord, ProvisioningRecords } from '../../shared/ports/provisioning-records.js';
import { traceIdForCorrelation } from '../../shared/telemetry/trace-context.js';
import { describeDesired } from '../../shared/usecases/plan-voice.js';
import type { CliIo } from '../io.js';

/** By object id first (one read), else by UPN (a scan: the records are keyed by object id). */
export async function findRecord(records: ProvisioningRecords, who: string): Promise<ProvisioningRecord | undefined> {
  const direct = await records.get(who);
  if (direct) return direct;
  const wanted = who.toLowerCase();
  return (await records.list()).find((r) => r.userPrincipalName.toLowerCase() === wanted);
}

/** `dialtone status <upn|objectId>`: what Dialtone last applied for a person, and why. */
export function statusCommand(
  resolve: () => Promise<{ records: ProvisioningRecords; inventory: NumberInventory }>,
  io: CliIo,
): Command {
  return new Command('status')
    .description('Show the provisioning record of one person: last applied voice state, numbers, history')
    .argument('<user>', 'userPrincipalName or Entra object id')
    .option('--json', 'JSON output for scripts')
    .action(async (who: string, o: { json?: boolean }) => {
      const { records, inventory } = await resolve();
      const record = await findRecord(records, who);
      if (!record) {
        io.err(`No provisioning record for '${who}': Dialtone has not planned anything for this person yet.`);
        return io.exit(1);
      }
      const numbers = await inventory.list({ userId: record.userId });
      if (o.json) return io.out(JSON.stringify({ record, numbers }, null, 2));
      io.out(`${record.userPrincipalName} (${record.userId})`);
      io.out(`  last applied: ${record.lastApplied ? describeDesired(record.lastApplied) : 'nothing yet'}${record.lastAppliedAt ? ` at ${record.lastAppliedAt}` : ''}`);
      io.out(`  newest HR event: ${record.lastEventId ?? 'none'}${record.lastEventAt ? ` (${record.lastEventAt})` : ''}`);
      const latest = record.history.at(-1)?.correlationId;
      io.out(`  operation id: ${latest ? `${traceIdForCorrelation(latest)} (Application Insights > Transaction search; correlation id ${latest})` : 'none yet'}`);
      io.out(`  numbers: ${numbers.map((n) => `${n.number} ${n.state} (${n.pool})`).join(', ') || 'none'}`);
      const table = new Table({ head: ['at', 'stage', 'event', 'outcome', 'detail', 'correlation id'], wordWrap: true, colWidths: [22, 8, 14, 14, 60, 24] });
      for (const e of record.history) table.push([e.at, e.stage, e.eventId, e.outcome, e.detail, e.correlationId]);
      io.out(table.toString());
    });
}
