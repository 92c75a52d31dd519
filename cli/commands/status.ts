import { Command } from 'commander';
import type { ProvisioningRecord, ProvisioningRecords } from '../../shared/ports/provisioning-records.js';
import { describeRepeats } from '../../shared/domain/history.js';
import { describeLeft } from '../../shared/domain/ordering.js';
import { traceIdForCorrelation } from '../../shared/telemetry/trace-context.js';
import { describeDesired } from '../../shared/usecases/plan-voice.js';
import { tenantOf } from '../../shared/domain/tenants.js';
import type { CliContext } from '../context.js';
import { OperationFailed } from '../errors.js';
import { examples } from '../options.js';
import type { Backends } from '../program.js';

/** By object id first (one read), else by UPN (a scan: the records are keyed by object id). */
export async function findRecord(records: ProvisioningRecords, who: string): Promise<ProvisioningRecord | undefined> {
  const direct = await records.get(who);
  if (direct) return direct;
  const wanted = who.toLowerCase();
  return (await records.list()).find((r) => r.userPrincipalName.toLowerCase() === wanted);
}

/** The ordering model as an operator sees it: lifecycle, versions and what was ignored or refused. */
export function orderingLines(record: ProvisioningRecord): string[] {
  const lines: string[] = [];
  if (record.lifecycle) {
    lines.push(
      record.lifecycle.state === 'left'
        ? `  lifecycle: ${describeLeft(record.lifecycle)} (sticky leaver)`
        : `  lifecycle: active (HR joiner ${record.lifecycle.eventId} at ${record.lifecycle.at})`,
    );
  }
  if (record.planVersion !== undefined || record.appliedVersion !== undefined) {
    lines.push(`  plan version: ${record.planVersion ?? 'none'} planned, ${record.appliedVersion ?? 'none'} applied`);
  }
  const count = (outcome: string) => record.history.filter((e) => e.outcome === outcome).length;
  const ignored = [
    [count('stale'), 'stale HR event'],
    [count('superseded'), 'superseded command or result'],
    [count('replay-refused'), 'refused replay'],
  ]
    .filter(([n]) => Number(n) > 0)
    .map(([n, what]) => `${n} ${what}${Number(n) > 1 ? 's' : ''}`);
  if (ignored.length > 0) lines.push(`  ignored by the ordering guard: ${ignored.join(', ')} (see the history)`);
  return lines;
}

/** `dialtone status <person>`: what Dialtone last applied for a person, and why. */
export function statusCommand(ctx: CliContext, backends: Pick<Backends, 'records' | 'inventory' | 'person' | 'tenants'>): Command {
  return examples(
    new Command('status')
      .description('Show the provisioning record of one person: last applied voice state, numbers, history')
      .argument('<user>', 'UPN, Entra object id, employee id or mail')
      .option('--tenant-id <guid>', 'only a person of this tenant (refused, naming the person\'s tenant, otherwise)'),
    ['dialtone status anna@contoso.com', 'dialtone status E1001 -o json', 'dialtone status anna@contoso.com --sandbox .sandbox-state'],
  ).action(async (who: string, o: { tenantId?: string }) => {
    const person = await backends.person(who);
    const records = await backends.records();
    const record = await records.get(person.userId);
    if (!record) throw new OperationFailed(`No provisioning record for '${who}' (${person.userId}): Dialtone has not planned anything for this person yet.`);
    // The default tenant's id is looked up only when needed: a record without a tenant is the default tenant's.
    const tenant = record.tenantId ?? (o.tenantId ? tenantOf(record, (await backends.tenants()).implicit.tenantId) : 'the default tenant');
    if (o.tenantId && o.tenantId.toLowerCase() !== tenant) throw new OperationFailed(`'${who}' (${person.userId}) is a person of tenant ${tenant}, not ${o.tenantId}.`);
    const numbers = await (await backends.inventory()).list({ userId: record.userId });
    const out = ctx.output();
    out.value({ record, numbers }, () => [
      `${record.userPrincipalName} (${record.userId}), tenant ${tenant}${record.tenantId === undefined && tenant !== 'the default tenant' ? ' (the default tenant)' : ''}`,
      `  last applied: ${record.lastApplied ? describeDesired(record.lastApplied) : 'nothing yet'}${record.lastAppliedAt ? ` at ${record.lastAppliedAt}` : ''}`,
      `  newest HR event: ${record.lastEventId ?? 'none'}${record.lastEventAt ? ` (${record.lastEventAt})` : ''}`,
      ...orderingLines(record),
      `  operation id: ${operationId(record)}`,
      `  numbers: ${numbers.map((n) => `${n.number} ${n.state} (${n.pool})`).join(', ') || 'none'}`,
      out.table(record.history, [
        { header: 'at', value: (e) => e.at },
        { header: 'stage', value: (e) => e.stage },
        { header: 'event', value: (e) => e.eventId },
        { header: 'outcome', value: (e) => e.outcome },
        { header: 'detail', value: (e) => `${e.detail}${describeRepeats(e)}` },
        { header: 'correlation id', value: (e) => e.correlationId },
      ]),
    ]);
  });
}

/**
 * The Application Insights operation id of the person's latest flow that did something
 * (shared/telemetry/trace-context.ts): a re-plan that found nothing to send, such as the daily
 * full resync round's, is passed over, or it would hide the flow an operator looks for.
 */
function operationId(record: ProvisioningRecord): string {
  const latest = (record.history.findLast((h) => h.outcome !== 'skipped') ?? record.history.at(-1))?.correlationId;
  return latest ? `${traceIdForCorrelation(latest)} (paste into Application Insights > Transaction search; correlation id ${latest})` : 'none yet';
}
