import Table from 'cli-table3';
import { Command, Option } from 'commander';
import type { DeadLetterFilter } from '../../shared/domain/replay.js';
import type { BusClient } from '../../shared/ports/bus.js';
import { allQueues, listDeadLetters, settleDeadLetters } from '../../shared/usecases/dead-letters.js';
import type { CliIo } from '../io.js';

interface FilterOptions {
  queue?: string;
  reason?: string;
  user?: string;
  messageId?: string;
  olderThan?: string;
  newerThan?: string;
  limit: string;
  json?: boolean;
}

const DURATION = /^(\d+)([smhd])$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `2h`, `30m`, `7d` → a moment that long ago; an ISO date is taken as it is. */
export function parseMoment(value: string, now: Date): Date {
  const match = DURATION.exec(value);
  if (match) return new Date(now.getTime() - Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS]);
  const at = new Date(value);
  if (Number.isNaN(at.getTime())) throw new Error(`not a duration (30m, 2h, 7d) or a date: '${value}'`);
  return at;
}

function filterOf(o: FilterOptions, now: Date): DeadLetterFilter {
  return {
    ...(o.reason ? { reason: o.reason } : {}),
    ...(o.user ? { user: o.user } : {}),
    ...(o.messageId ? { messageId: o.messageId } : {}),
    ...(o.olderThan ? { olderThan: parseMoment(o.olderThan, now) } : {}),
    ...(o.newerThan ? { newerThan: parseMoment(o.newerThan, now) } : {}),
  };
}

function withFilters(command: Command): Command {
  return command
    .addOption(new Option('--queue <name>', 'one queue (default: all of them)').choices(allQueues))
    .option('--reason <reason>', 'dead-letter reason, e.g. PoolExhausted, UserNotFound, MaxDeliveryCountExceeded')
    .option('--user <id>', 'Entra object id, UPN or employeeId')
    .option('--message-id <id>', 'one message')
    .option('--older-than <age>', 'enqueued before: 30m, 2h, 7d or an ISO date')
    .option('--newer-than <age>', 'enqueued after: 30m, 2h, 7d or an ISO date')
    .option('--limit <n>', 'at most this many messages', '1000')
    .option('--json', 'JSON output for scripts');
}

export function dlqCommand(resolveBus: () => Promise<BusClient>, io: CliIo, now: () => Date = () => new Date()): Command {
  const dlq = new Command('dlq').description('Inspect, replay and purge dead-lettered messages on every queue');
  const queuesOf = (o: FilterOptions): string[] => (o.queue ? [o.queue] : allQueues);
  const withBus = async <T>(fn: (bus: BusClient) => Promise<T>): Promise<T> => {
    const bus = await resolveBus();
    try {
      return await fn(bus);
    } finally {
      await bus.close();
    }
  };

  withFilters(dlq.command('list').description('List dead letters (peek: nothing changes)')).action(async (o: FilterOptions) => {
    const views = await withBus((bus) => listDeadLetters(bus, queuesOf(o), filterOf(o, now()), Number(o.limit)));
    if (o.json) return io.out(JSON.stringify(views, null, 2));
    if (views.length === 0) return io.out('No dead letters match.');
    const table = new Table({ head: ['queue', 'message id', 'reason', 'who', 'enqueued', 'replays', 'description'], wordWrap: true, colWidths: [16, 24, 22, 30, 22, 8, 60] });
    for (const v of views) table.push([v.queue, v.messageId, v.reason, v.subject ?? '', v.enqueuedAt ?? '', v.replayCount, v.description]);
    io.out(table.toString());
    const counts = new Map<string, number>();
    for (const v of views) counts.set(v.reason, (counts.get(v.reason) ?? 0) + 1);
    io.out(`${views.length} dead letters: ${[...counts].map(([r, n]) => `${n} ${r}`).join(', ')}`);
  });

  dlq
    .command('show')
    .description('Show one dead letter in full: reason, description, properties and body')
    .argument('<messageId>')
    .addOption(new Option('--queue <name>').choices(allQueues))
    .option('--json')
    .action(async (messageId: string, o: { queue?: string; json?: boolean }) => {
      const [view] = await withBus((bus) => listDeadLetters(bus, o.queue ? [o.queue] : allQueues, { messageId }, 1));
      if (!view) {
        io.err(`No dead letter with message id '${messageId}'.`);
        return io.exit(1);
      }
      if (o.json) return io.out(JSON.stringify(view, null, 2));
      io.out(
        [
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
        ].join('\n'),
      );
    });

  for (const mode of ['replay', 'purge'] as const) {
    withFilters(
      dlq
        .command(mode)
        .description(
          mode === 'replay'
            ? 'Send matching dead letters back to their queue (same body, properties, session and correlation id; replay counter +1)'
            : 'Delete matching dead letters for good',
        ),
    )
      .option('--dry-run', 'say what would happen, change nothing')
      .option('--max-replays <n>', 'refuse messages replayed this often already', '5')
      .option('--all', 'required to act on every dead letter when no filter is given')
      .action(async (o: FilterOptions & { dryRun?: boolean; maxReplays: string; all?: boolean }) => {
        const filter = filterOf(o, now());
        if (Object.keys(filter).length === 0 && !o.all && !o.dryRun) {
          io.err(`dialtone dlq ${mode}: give a filter (--reason, --user, --message-id, --older-than, --newer-than) or --all.`);
          return io.exit(2);
        }
        const report = await withBus((bus) =>
          settleDeadLetters(bus, queuesOf(o), filter, mode, { dryRun: o.dryRun ?? false, maxReplays: Number(o.maxReplays), limit: Number(o.limit) }),
        );
        if (o.json) return io.out(JSON.stringify(report, null, 2));
        for (const r of report) io.out(`${r.action.padEnd(12)} ${r.queue.padEnd(15)} ${r.messageId}  ${r.detail}`);
        io.out(`${report.length} messages ${o.dryRun ? 'matched (dry run)' : 'handled'}.`);
        if (report.some((r) => r.action === 'refused')) io.exit(1);
      });
  }
  return dlq;
}
