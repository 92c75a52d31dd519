import { readFile, writeFile } from 'node:fs/promises';
import Table from 'cli-table3';
import { Command, Option } from 'commander';
import { describeZodError } from '../../shared/contracts/messages.js';
import { describe } from '../../shared/domain/allocation.js';
import { DialtoneError } from '../../shared/domain/errors.js';
import { type NumberState, numberStates, PoolsFileSchema } from '../../shared/domain/numbers.js';
import type { NumberInventory, NumberRecord, PoolSummary } from '../../shared/ports/number-inventory.js';

export interface NumbersIo {
  out(text: string): void;
  err(text: string): void;
}

const defaultIo: NumbersIo = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
};

export const CSV_COLUMNS = ['number', 'pool', 'state', 'userId', 'reservedUntil', 'quarantinedUntil', 'owner', 'updatedAt'] as const;

/** RFC 4180: quote a field holding a comma, quote, line break or edge spaces; double inner quotes. */
export function csvField(value: string | null): string {
  const text = value ?? '';
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function toCsv(records: NumberRecord[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of records) lines.push(CSV_COLUMNS.map((c) => csvField(r[c])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

function countsText(summary: PoolSummary): string {
  const parts = numberStates.filter((s) => summary.counts[s] > 0).map((s) => `${summary.counts[s]} ${s}`);
  return `${summary.pool}: ${summary.total} numbers (${parts.join(', ') || 'none'})`;
}

function poolsTable(pools: PoolSummary[]): string {
  const table = new Table({ head: ['pool', 'quarantine days', 'total', ...numberStates] });
  for (const p of pools) table.push([p.pool, p.quarantineDays, p.total, ...numberStates.map((s) => p.counts[s])]);
  return table.toString();
}

function summarize(records: NumberRecord[]): PoolSummary[] {
  const byPool = new Map<string, PoolSummary>();
  for (const r of records) {
    const s = byPool.get(r.pool) ?? { pool: r.pool, quarantineDays: 0, total: 0, counts: Object.fromEntries(numberStates.map((x) => [x, 0])) as Record<NumberState, number> };
    s.counts[r.state] += 1;
    s.total += 1;
    byPool.set(r.pool, s);
  }
  return [...byPool.values()];
}

function notInInventory(number: string): DialtoneError {
  return new DialtoneError('NumberInvalid', `${number} is not in the number inventory (see \`dialtone numbers list\`)`, { details: { number } });
}

/** `dialtone numbers …`: pools, ranges and single numbers of the Direct Routing inventory. */
export function numbersCommand(resolveInventory: () => Promise<NumberInventory>, io: NumbersIo = defaultIo, now: () => Date = () => new Date()): Command {
  const numbers = new Command('numbers').description('Manage the Direct Routing number pools: import ranges, list, release, block, export');
  const actor = () => ({ now: now(), correlationId: 'cli' });
  const existing = async (inventory: NumberInventory, number: string): Promise<NumberRecord> => {
    const record = await inventory.get(number);
    if (!record) throw notInInventory(number);
    return record;
  };
  const report = async (inventory: NumberInventory, number: string, json: boolean | undefined, done: string) => {
    const record = await existing(inventory, number);
    io.out(json ? JSON.stringify(record, null, 2) : `${done}: ${number} is now ${describe(record)}.`);
  };

  numbers
    .command('import')
    .description('Import pools from a numbers file ({ "pools": [...] }); re-importing adds only missing numbers')
    .argument('<file>')
    .option('--json', 'JSON output for scripts')
    .action(async (file: string, o: { json?: boolean }) => {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (error) {
        throw new DialtoneError('ConfigInvalid', `${file}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
      }
      let data: unknown;
      try {
        data = JSON.parse(text);
      } catch (error) {
        throw new DialtoneError('ConfigInvalid', `${file}: not JSON (${(error as Error).message})`);
      }
      const parsed = PoolsFileSchema.safeParse(data);
      if (!parsed.success) throw new DialtoneError('ConfigInvalid', `${file}: ${describeZodError(parsed.error)}`);
      const inventory = await resolveInventory();
      let summary;
      try {
        summary = await inventory.importPools(parsed.data.pools, actor());
      } catch (error) {
        if (error instanceof Error) error.message = `${file}: ${error.message}`;
        throw error;
      }
      const pools = (await inventory.pools()).filter((p) => parsed.data.pools.some((d) => d.id === p.pool));
      if (o.json) return io.out(JSON.stringify({ ...summary, pools }, null, 2));
      io.out(
        `Imported ${file}: ${summary.poolsAdded} pools added, ${summary.poolsUpdated} updated; ${summary.numbersAdded} numbers added, ${summary.numbersUnchanged} already present.`,
      );
      io.out(poolsTable(pools));
    });

  numbers
    .command('list')
    .description('List numbers, with counts per pool')
    .option('--pool <pool>', 'one pool')
    .addOption(new Option('--state <state>', 'one state').choices(numberStates))
    .option('--user <userId>', 'numbers held or quarantined for this Entra object id')
    .option('--json', 'JSON output for scripts')
    .action(async (o: { pool?: string; state?: NumberState; user?: string; json?: boolean }) => {
      const inventory = await resolveInventory();
      const records = await inventory.list({ ...(o.pool ? { pool: o.pool } : {}), ...(o.state ? { state: o.state } : {}), ...(o.user ? { userId: o.user } : {}) });
      if (o.json) return io.out(JSON.stringify(records, null, 2));
      if (records.length === 0) return io.out('No numbers match.');
      const table = new Table({ head: ['number', 'pool', 'state', 'user', 'reserved until', 'quarantined until', 'owner', 'updated'] });
      for (const r of records) table.push([r.number, r.pool, r.state, r.userId ?? '', r.reservedUntil ?? '', r.quarantinedUntil ?? '', r.owner ?? '', r.updatedAt]);
      io.out(table.toString());
      for (const s of summarize(records)) io.out(countsText(s));
    });

  numbers
    .command('pools')
    .description('Counts per pool and state')
    .option('--json', 'JSON output for scripts')
    .action(async (o: { json?: boolean }) => {
      const pools = await (await resolveInventory()).pools();
      if (o.json) return io.out(JSON.stringify(pools, null, 2));
      if (pools.length === 0) return io.out('No pools yet: import some with `dialtone numbers import FILE`.');
      io.out(poolsTable(pools));
    });

  numbers
    .command('show')
    .description('One number and its history')
    .argument('<number>')
    .option('--json', 'JSON output for scripts')
    .action(async (number: string, o: { json?: boolean }) => {
      const inventory = await resolveInventory();
      const record = await existing(inventory, number);
      const history = await inventory.history(number);
      if (o.json) return io.out(JSON.stringify({ ...record, history }, null, 2));
      io.out(`${record.number} (pool ${record.pool}): ${describe(record)}; updated ${record.updatedAt}`);
      const table = new Table({ head: ['at', 'action', 'user', 'correlation id', 'note'] });
      for (const h of history) table.push([h.at, h.action, h.userId ?? '', h.correlationId ?? '', h.note ?? '']);
      io.out(table.toString());
    });

  numbers
    .command('release')
    .description('Release a reserved or assigned number into quarantine (the pool quarantine days unless given)')
    .argument('<number>')
    .option('--quarantine-days <days>', 'days before it may be handed out again')
    .option('--json', 'JSON output for scripts')
    .action(async (number: string, o: { quarantineDays?: string; json?: boolean }) => {
      const inventory = await resolveInventory();
      const record = await existing(inventory, number);
      if ((record.state !== 'reserved' && record.state !== 'assigned') || !record.userId) {
        throw new DialtoneError('NumberInvalid', `${number} is ${describe(record)}; only a reserved or assigned number can be released (use \`dialtone numbers free\` to free it by hand)`);
      }
      const days = o.quarantineDays === undefined ? undefined : Number(o.quarantineDays);
      if (days !== undefined && (!Number.isInteger(days) || days < 0)) throw new DialtoneError('ConfigInvalid', `--quarantine-days must be a whole number of days, not '${o.quarantineDays}'`);
      await inventory.release(number, record.userId, { ...actor(), ...(days === undefined ? {} : { quarantineDays: days }) });
      await report(inventory, number, o.json, 'Released');
    });

  numbers
    .command('block')
    .description('Mark a number as held outside Dialtone so it is never handed out')
    .argument('<number>')
    .option('--owner <owner>', 'who holds it (UPN, object id or a note)')
    .option('--json', 'JSON output for scripts')
    .action(async (number: string, o: { owner?: string; json?: boolean }) => {
      const inventory = await resolveInventory();
      await existing(inventory, number);
      await inventory.block(number, o.owner ?? null, actor());
      await report(inventory, number, o.json, 'Blocked');
    });

  numbers
    .command('unblock')
    .description('Make a blocked number free again')
    .argument('<number>')
    .option('--json', 'JSON output for scripts')
    .action(async (number: string, o: { json?: boolean }) => {
      const inventory = await resolveInventory();
      await existing(inventory, number);
      await inventory.unblock(number, actor());
      await report(inventory, number, o.json, 'Unblocked');
    });

  numbers
    .command('free')
    .description('Free a number by hand, whatever its state (skips quarantine)')
    .argument('<number>')
    .option('--json', 'JSON output for scripts')
    .action(async (number: string, o: { json?: boolean }) => {
      const inventory = await resolveInventory();
      await existing(inventory, number);
      await inventory.free(number, actor());
      await report(inventory, number, o.json, 'Freed');
    });

  numbers
    .command('export')
    .description(`Export numbers as CSV (${CSV_COLUMNS.join(',')})`)
    .option('--pool <pool>', 'one pool')
    .option('--out <file>', 'write to this file instead of standard output')
    .action(async (o: { pool?: string; out?: string }) => {
      const records = await (await resolveInventory()).list(o.pool ? { pool: o.pool } : {});
      const csv = toCsv(records);
      if (!o.out) return io.out(csv.trimEnd());
      await writeFile(o.out, csv, 'utf8');
      io.err(`Wrote ${records.length} numbers to ${o.out}`);
    });

  return numbers;
}
