import { Command, Option } from 'commander';
import type { DeadLetterFilter } from '../../shared/domain/replay.js';
import type { BusClient } from '../../shared/ports/bus.js';
import { allQueues, listDeadLetters, settleDeadLetters, supersededCommandGuard, type DeadLetterView } from '../../shared/usecases/dead-letters.js';
import type { CliContext } from '../context.js';
import { OperationFailed, UsageError } from '../errors.js';
import { examples, integer, momentOn, parseMomentArg, withPaging, withYes, type Moment, type PageOptions } from '../options.js';
import type { Column } from '../output.js';
import { identifiersOf } from '../people.js';
import type { Backends } from '../program.js';

interface FilterOptions extends PageOptions {
  queue?: string;
  reason?: string;
  user?: string;
  messageId?: string;
  tenantId?: string;
  olderThan?: Moment;
  newerThan?: Moment;
  limit: number;
}

/** `2h`, `30m`, `7d` → a moment that long before `now`; an ISO date is taken as it is. */
export function parseMoment(value: string, now: Date): Date {
  try {
    return momentOn(parseMomentArg(value), now);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function withFilters(command: Command): Command {
  return command
    .addOption(new Option('--queue <name>', 'one queue (default: all of them)').choices(allQueues))
    .option('--reason <reason>', 'dead-letter reason, e.g. PoolExhausted, UserNotFound, MaxDeliveryCountExceeded')
    .option('--user <who>', 'one person: UPN, Entra object id, employee id or mail')
    .option('--message-id <id>', 'one message')
    .option('--tenant-id <guid>', 'one tenant (messages that name none are the default tenant\'s; see dialtone tenants list)')
    .addOption(new Option('--older-than <age>', 'enqueued before: 45s, 30m, 2h, 7d (on the sandbox clock with --sandbox) or an ISO date').argParser(parseMomentArg))
    .addOption(new Option('--newer-than <age>', 'enqueued after: 45s, 30m, 2h, 7d or an ISO date').argParser(parseMomentArg))
    .addOption(new Option('--limit <n>', 'look at most at this many dead letters per queue').argParser(integer({ min: 1, max: 100_000 })).default(1000));
}

const listColumns: Column<DeadLetterView>[] = [
  { header: 'queue', value: (v) => v.queue },
  { header: 'message id', value: (v) => v.messageId },
  { header: 'reason', value: (v) => v.reason },
  { header: 'tenant', value: (v) => v.tenantId ?? '(default)' },
  { header: 'who', value: (v) => v.subject },
  { header: 'enqueued', value: (v) => v.enqueuedAt },
  { header: 'replays', value: (v) => v.replayCount, numeric: true },
  { header: 'description', value: (v) => v.description },
];

export function dlqCommand(ctx: CliContext, backends: Pick<Backends, 'bus' | 'people' | 'tenants'> & Partial<Pick<Backends, 'records' | 'sleeper'>>): Command {
  const dlq = new Command('dlq').description('Inspect, replay and purge dead-lettered messages on every queue');
  examples(dlq, ['dialtone dlq list --reason PoolExhausted', 'dialtone dlq replay --reason PoolExhausted --dry-run']);
  const queuesOf = (o: FilterOptions): string[] => (o.queue ? [o.queue] : allQueues);
  // A peek Service Bus answers ServiceBusy is tried again with backoff, then fails naming the answer.
  const retry = backends.sleeper ? { sleeper: backends.sleeper } : {};
  const withBus = async <T>(fn: (bus: BusClient) => Promise<T>): Promise<T> => {
    const bus = await backends.bus();
    try {
      return await fn(bus);
    } finally {
      await bus.close();
    }
  };
  const filterOf = async (o: FilterOptions): Promise<DeadLetterFilter> => {
    const now = await ctx.now();
    // One person resolver: the messages may name the person by any identifier, so match them all.
    const people = o.user ? await backends.people(o.user, o.tenantId) : [];
    return {
      ...(o.reason ? { reason: o.reason } : {}),
      ...(o.user ? { user: [o.user, ...people.flatMap(identifiersOf)] } : {}),
      ...(o.messageId ? { messageId: o.messageId } : {}),
      ...(o.tenantId ? { tenantId: o.tenantId, defaultTenantId: (await backends.tenants()).implicit.tenantId } : {}),
      ...(o.olderThan ? { olderThan: momentOn(o.olderThan, now) } : {}),
      ...(o.newerThan ? { newerThan: momentOn(o.newerThan, now) } : {}),
    };
  };

  examples(withPaging(withFilters(dlq.command('list').description('List dead letters (peek: nothing changes)')), 'dead letters'), [
    'dialtone dlq list',
    'dialtone dlq list --queue user-changes --reason PoolExhausted --older-than 2h',
    'dialtone dlq list --user anna@contoso.com -o json',
    'dialtone dlq list -o tsv | cut -f2',
  ]).action(async (o: FilterOptions) => {
    const filter = await filterOf(o);
    const views = await withBus((bus) => listDeadLetters(bus, queuesOf(o), filter, o.limit, retry));
    const out = ctx.output();
    const shown = await out.list(views, listColumns, { empty: 'No dead letters match.', page: o });
    if (shown > 0) {
      const counts = new Map<string, number>();
      for (const v of views) counts.set(v.reason, (counts.get(v.reason) ?? 0) + 1);
      out.text(`${views.length} dead letters: ${[...counts].map(([r, n]) => `${n} ${r}`).join(', ')}${shown < views.length ? ` (${shown} shown)` : ''}`);
    }
  });

  examples(
    dlq
      .command('show')
      .description('Show one dead letter in full: reason, description, properties and body')
      .argument('<messageId>')
      .addOption(new Option('--queue <name>', 'the queue it is on (default: look on all four)').choices(allQueues)),
    ['dialtone dlq show uc-x2', 'dialtone dlq show uc-x2 -o json'],
  ).action(async (messageId: string, o: { queue?: string }) => {
    const [view] = await withBus((bus) => listDeadLetters(bus, o.queue ? [o.queue] : allQueues, { messageId }, 1000, retry));
    if (!view) throw new OperationFailed(`No dead letter with message id '${messageId}'.`);
    ctx.output().value(view, () => [
      `queue:        ${view.queue}`,
      `message id:   ${view.messageId}`,
      `reason:       ${view.reason}`,
      `description:  ${view.description}`,
      `who:          ${view.subject ?? ''}`,
      `session:      ${view.sessionId ?? ''}`,
      `correlation:  ${view.correlationId ?? ''}`,
      `enqueued:     ${view.enqueuedAt ?? ''}`,
      `deliveries:   ${view.deliveryCount ?? ''}`,
      `replays:      ${view.replayCount}`,
      `properties:   ${JSON.stringify(view.applicationProperties)}`,
      `body:`,
      JSON.stringify(view.body, null, 2),
    ]);
  });

  for (const mode of ['replay', 'purge'] as const) {
    const command = withFilters(
      dlq
        .command(mode)
        .description(
          mode === 'replay'
            ? 'Send matching dead letters back to their queue (same body, properties, session and correlation id; replay counter +1)'
            : 'Delete matching dead letters for good (asks first; --yes outside a terminal)',
        ),
    )
      .option('--dry-run', 'say what would happen, change nothing')
      .addOption(new Option('--max-replays <n>', 'refuse messages replayed this often already').argParser(integer({ min: 1, max: 1000 })).default(5))
      .option('--all', 'required to act on every dead letter when no filter is given');
    if (mode === 'purge') withYes(command);
    examples(
      command,
      mode === 'replay'
        ? ['dialtone dlq replay --reason PoolExhausted --dry-run', 'dialtone dlq replay --reason PoolExhausted', 'dialtone dlq replay --user anna@contoso.com']
        : ['dialtone dlq purge --message-id uc-x2 --yes', 'dialtone dlq purge --reason InvalidMessage --older-than 7d --dry-run'],
    );
    command.action(async (o: FilterOptions & { dryRun?: boolean; maxReplays: number; all?: boolean; yes?: boolean }) => {
      const filter = await filterOf(o);
      if (Object.keys(filter).length === 0 && !o.all && !o.dryRun) {
        throw new UsageError(`dialtone dlq ${mode}: give a filter (--reason, --user, --message-id, --tenant-id, --older-than, --newer-than) or --all.`);
      }
      if (mode === 'purge' && !o.dryRun) {
        const matching = await withBus((bus) => listDeadLetters(bus, queuesOf(o), filter, o.limit, retry));
        if (matching.length > 0 && !(await ctx.confirm(`Delete ${matching.length} dead letters for good?`, o.yes))) throw new OperationFailed('Nothing purged.');
      }
      // A voice command older than the person's newest plan is refused (it would undo newer facts).
      const at = await ctx.now();
      const guard = backends.records ? supersededCommandGuard(backends.records, { now: () => at }) : undefined;
      const progress = await ctx.progress(`dlq ${mode}${o.dryRun ? ' (dry run)' : ''}`);
      progress.update(`settling the dead letters that match on ${queuesOf(o).length} queues`);
      let report;
      try {
        report = await withBus((bus) =>
          settleDeadLetters(bus, queuesOf(o), filter, mode, { dryRun: o.dryRun ?? false, maxReplays: o.maxReplays, limit: o.limit, ...(guard ? { guard } : {}), ...retry }),
        );
      } finally {
        progress.stop();
      }
      if (!o.dryRun) await ctx.commit();
      const out = ctx.output();
      await out.list(report, [
        { header: 'action', value: (r) => r.action },
        { header: 'queue', value: (r) => r.queue },
        { header: 'message id', value: (r) => r.messageId },
        { header: 'detail', value: (r) => r.detail },
      ]);
      out.text(`${report.length} messages ${o.dryRun ? 'matched (dry run)' : 'handled'}.`);
      if (report.some((r) => r.action === 'refused')) ctx.io.exit(1);
    });
  }
  return dlq;
}
