import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Command, Option } from 'commander';
import { describeZodError } from '../../shared/contracts/messages.js';
import { describe } from '../../shared/domain/allocation.js';
import { DialtoneError } from '../../shared/domain/errors.js';
import { type NumberState, numberStates, PoolsFileSchema } from '../../shared/domain/numbers.js';
import type { NumberInventory, NumberRecord, PoolSummary } from '../../shared/ports/number-inventory.js';
import { findTenant, importPoolsForTenant, tenantNotFound } from '../../shared/usecases/manage-tenants.js';
import type { CliContext } from '../context.js';
import { InputError, OperationFailed } from '../errors.js';
import { readJsonInput } from '../input-file.js';
import { examples, integer, withPaging, withYes, type PageOptions } from '../options.js';
import type { Column } from '../output.js';
import type { Backends } from '../program.js';

export const CSV_COLUMNS = ['number', 'pool', 'state', 'userId', 'reservedUntil', 'quarantinedUntil', 'owner', 'updatedAt'] as const;

/**
 * RFC 4180 (quote a field holding a comma, quote, line break or edge spaces; double inner quotes),
 * and safe to open in a spreadsheet: a field that a spreadsheet would read as a formula or a
 * number (`=`, `+`, `-`, `@`, tab, carriage return first) gets a leading apostrophe, so
 * `+31201234000` stays text with its plus and `=HYPERLINK(…)` is never evaluated.
 */
export function csvField(value: string | null): string {
  const raw = value ?? '';
  const text = /^[=+\-@\t\r]/.test(raw) ? `'${raw}` : raw;
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(record: NumberRecord): string {
  return CSV_COLUMNS.map((c) => csvField(record[c])).join(',');
}

function countsText(summary: PoolSummary): string {
  const parts = numberStates.filter((s) => summary.counts[s] > 0).map((s) => `${summary.counts[s]} ${s}`);
  return `${summary.pool}: ${summary.total} numbers (${parts.join(', ') || 'none'})`;
}

const poolColumns: Column<PoolSummary>[] = [
  { header: 'pool', value: (p) => p.pool },
  { header: 'quarantine days', value: (p) => p.quarantineDays, numeric: true },
  { header: 'total', value: (p) => p.total, numeric: true },
  ...numberStates.map((s): Column<PoolSummary> => ({ header: s, value: (p) => p.counts[s], numeric: true })),
];

const numberColumns: Column<NumberRecord>[] = [
  { header: 'number', value: (r) => r.number },
  { header: 'pool', value: (r) => r.pool },
  { header: 'state', value: (r) => r.state },
  { header: 'user', value: (r) => r.userId },
  { header: 'until', value: (r) => r.reservedUntil ?? r.quarantinedUntil },
  { header: 'owner', value: (r) => r.owner },
  { header: 'updated', value: (r) => r.updatedAt },
];

function summarize(records: NumberRecord[]): PoolSummary[] {
  const byPool = new Map<string, PoolSummary>();
  for (const r of records) {
    let s = byPool.get(r.pool);
    if (!s) {
      s = { pool: r.pool, quarantineDays: 0, total: 0, counts: Object.fromEntries(numberStates.map((x) => [x, 0])) as Record<NumberState, number> };
      byPool.set(r.pool, s);
    }
    s.counts[r.state] += 1;
    s.total += 1;
  }
  return [...byPool.values()];
}

function notInInventory(number: string): DialtoneError {
  return new DialtoneError('NumberInvalid', `${number} is not in the number inventory (see \`dialtone numbers list\`)`, { details: { number } });
}

/** `dialtone numbers …`: pools, ranges and single numbers of the Direct Routing inventory. */
const TENANT_OPTION = "one tenant's inventory (see dialtone tenants list; default: the deployment's own tenant)";

export function numbersCommand(ctx: CliContext, backends: Pick<Backends, 'inventory' | 'person' | 'tenants'>): Command {
  const numbers = new Command('numbers').description('Manage the Direct Routing number pools: import ranges, list, release, block, export');
  examples(numbers, ['dialtone numbers import more-ranges.json', 'dialtone numbers list --state free --top 20']);
  const actor = async () => ({ now: await ctx.now(), correlationId: 'cli' });
  /**
   * The inventory a command works on: the tenant's own partitions with --tenant-id (a tenant in
   * force, else not found: exit 1), or the default tenant's without (docs/NUMBERS.md "Tenants").
   */
  const inventoryOf = async (tenantId: string | undefined): Promise<NumberInventory> => {
    const inventory = await backends.inventory();
    if (tenantId === undefined) return inventory;
    const { registry, implicit } = await backends.tenants();
    if (!(await findTenant({ registry, implicit }, tenantId))) throw new OperationFailed(tenantNotFound(tenantId));
    return inventory.forTenant(tenantId.toLowerCase());
  };
  const existing = async (inventory: NumberInventory, number: string): Promise<NumberRecord> => {
    const record = await inventory.get(number);
    if (!record) throw notInInventory(number);
    return record;
  };
  /** Commits, then prints the number as it is now. */
  const report = async (inventory: NumberInventory, number: string, done: string) => {
    await ctx.commit();
    const record = await existing(inventory, number);
    ctx.output().value(record, () => `${done}: ${number} is now ${describe(record)}.`);
  };

  examples(
    numbers
      .command('import')
      .description('Import pools from a numbers file ({ "pools": [...] }); re-importing adds only missing numbers')
      .argument('<file>')
      .option('--tenant-id <guid>', 'the tenant whose inventory gets these pools (a range overlapping another tenant\'s is refused); lists them in its registry row'),
    ['dialtone numbers import more-ranges.json', 'dialtone numbers import ranges.json --sandbox .sandbox-state -o json'],
  ).action(async (file: string, o: { tenantId?: string }) => {
    const data = await readJsonInput(file);
    const parsed = PoolsFileSchema.safeParse(data);
    if (!parsed.success) throw new InputError(file, describeZodError(parsed.error));
    const inventory = await inventoryOf(o.tenantId);
    const progress = await ctx.progress(`numbers import ${file}`);
    progress.update(`importing ${parsed.data.pools.length} pools`);
    // The deployment's own tenant, while nothing is registered, is the implicit one: it has no
    // registry row to list the pools in, and --tenant-id naming it imports as without it.
    const registered = o.tenantId !== undefined && (await (await backends.tenants()).registry.get(o.tenantId.toLowerCase())) !== undefined;
    let summary;
    try {
      summary = registered
        ? await importPoolsForTenant({ registry: (await backends.tenants()).registry, inventory: async () => backends.inventory() }, o.tenantId!, parsed.data.pools, await actor())
        : await inventory.importPools(parsed.data.pools, await actor());
    } catch (error) {
      progress.stop();
      // The file's pools contradict each other or the inventory: unusable input, named.
      if (error instanceof DialtoneError && error.code === 'ConfigInvalid') throw new InputError(file, error.message);
      if (error instanceof Error) error.message = `${file}: ${error.message}`;
      throw error;
    }
    await ctx.commit();
    progress.stop(`${summary.numbersAdded} numbers added`);
    const pools = (await inventory.pools()).filter((p) => parsed.data.pools.some((d) => d.id === p.pool));
    const out = ctx.output();
    out.value({ ...summary, pools }, () => [
      `Imported ${file}: ${summary.poolsAdded} pools added, ${summary.poolsUpdated} updated; ${summary.numbersAdded} numbers added, ${summary.numbersUnchanged} already present.`,
      out.table(pools, poolColumns),
    ]);
  });

  examples(
    withPaging(
      numbers
        .command('list')
        .description('List numbers, one line each, with counts per pool')
        .option('--pool <pool>', 'one pool')
        .option('--tenant-id <guid>', TENANT_OPTION)
        .addOption(new Option('--state <state>', 'one state').choices(numberStates))
        .option('--user <who>', 'numbers held or quarantined for one person: UPN, object id, employee id or mail'),
      'numbers',
    ),
    ['dialtone numbers list --pool ams --state free --top 10', 'dialtone numbers list --user anna@contoso.com', 'dialtone numbers list -o tsv | cut -f1,3'],
  ).action(async (o: PageOptions & { pool?: string; state?: NumberState; user?: string; tenantId?: string }) => {
    const inventory = await inventoryOf(o.tenantId);
    const userId = o.user ? (await backends.person(o.user, o.tenantId)).userId : undefined;
    // Streamed page by page: the first rows print before the rest of a 100,000-number inventory is
    // read, and a list cut by --top (or by a reader that went away) never reads the rest.
    const seen: NumberRecord[] = [];
    let more = false;
    const skip = o.skip ?? 0;
    async function* rows(): AsyncGenerator<NumberRecord> {
      for await (const record of inventory.scan({ ...(o.pool ? { pool: o.pool } : {}), ...(o.state ? { state: o.state } : {}), ...(userId ? { userId } : {}) })) {
        if (o.top !== undefined && seen.length >= skip + o.top) {
          more = true;
          return;
        }
        seen.push(record);
        yield record;
      }
    }
    const out = ctx.output();
    const shown = await out.list(rows(), numberColumns, { empty: 'No numbers match.', page: o });
    if (shown > 0 && !out.closed) {
      if (more) out.text(`${shown} shown, more match (--skip ${skip + shown} for the next page; dialtone numbers pools for the counts).`);
      else out.text(summarize(seen).map(countsText));
    }
  });

  examples(numbers.command('pools').description('Counts per pool and state').option('--tenant-id <guid>', TENANT_OPTION), ['dialtone numbers pools', 'dialtone numbers pools --tenant-id <guid> -o json']).action(async (o: { tenantId?: string }) => {
    const pools = await (await inventoryOf(o.tenantId)).pools();
    await ctx.output().list(pools, poolColumns, { empty: 'No pools yet: import some with `dialtone numbers import FILE`.' });
  });

  examples(numbers.command('show').description('One number and its history').argument('<number>').option('--tenant-id <guid>', TENANT_OPTION), ['dialtone numbers show +31201234000']).action(async (number: string, o: { tenantId?: string }) => {
    const inventory = await inventoryOf(o.tenantId);
    const record = await existing(inventory, number);
    const history = await inventory.history(number);
    const out = ctx.output();
    out.value({ ...record, history }, () => [
      `${record.number} (pool ${record.pool}): ${describe(record)}; updated ${record.updatedAt}`,
      out.table(history, [
        { header: 'at', value: (h) => h.at },
        { header: 'action', value: (h) => h.action },
        { header: 'user', value: (h) => h.userId },
        { header: 'correlation id', value: (h) => h.correlationId },
        { header: 'note', value: (h) => h.note },
      ]),
    ]);
  });

  examples(
    withYes(
      numbers
        .command('release')
        .description('Release a reserved or assigned number into quarantine (the pool quarantine days unless given); asks first, --yes outside a terminal')
        .argument('<number>')
        .addOption(new Option('--quarantine-days <days>', 'days before it may be handed out again').argParser(integer({ min: 0, max: 3650 })))
        .option('--tenant-id <guid>', TENANT_OPTION),
    ),
    ['dialtone numbers release +31201234000', 'dialtone numbers release +31201234000 --quarantine-days 0 --yes'],
  ).action(async (number: string, o: { quarantineDays?: number; yes?: boolean; tenantId?: string }) => {
    const inventory = await inventoryOf(o.tenantId);
    const record = await existing(inventory, number);
    if ((record.state !== 'reserved' && record.state !== 'assigned') || !record.userId) {
      throw new DialtoneError('NumberInvalid', `${number} is ${describe(record)}; only a reserved or assigned number can be released (use \`dialtone numbers free\` to free it by hand)`);
    }
    if (!(await ctx.confirm(`Release ${number} (${describe(record)})?`, o.yes))) throw new OperationFailed('Nothing released.');
    await inventory.release(number, record.userId, { ...(await actor()), ...(o.quarantineDays === undefined ? {} : { quarantineDays: o.quarantineDays }) });
    await report(inventory, number, 'Released');
  });

  examples(
    numbers
      .command('block')
      .description('Mark a number as held outside Dialtone so it is never handed out')
      .argument('<number>')
      .option('--owner <owner>', 'who holds it (UPN, object id or a note)')
      .option('--tenant-id <guid>', TENANT_OPTION),
    ['dialtone numbers block +31201234001 --owner pbx@contoso.com'],
  ).action(async (number: string, o: { owner?: string; tenantId?: string }) => {
    const inventory = await inventoryOf(o.tenantId);
    await existing(inventory, number);
    await inventory.block(number, o.owner ?? null, await actor());
    await report(inventory, number, 'Blocked');
  });

  examples(numbers.command('unblock').description('Make a blocked number free again').argument('<number>').option('--tenant-id <guid>', TENANT_OPTION), ['dialtone numbers unblock +31201234001']).action(async (number: string, o: { tenantId?: string }) => {
    const inventory = await inventoryOf(o.tenantId);
    await existing(inventory, number);
    await inventory.unblock(number, await actor());
    await report(inventory, number, 'Unblocked');
  });

  examples(numbers.command('free').description('Free a number by hand, whatever its state (skips quarantine)').argument('<number>').option('--tenant-id <guid>', TENANT_OPTION), ['dialtone numbers free +31201234000']).action(
    async (number: string, o: { tenantId?: string }) => {
      const inventory = await inventoryOf(o.tenantId);
      await existing(inventory, number);
      await inventory.free(number, await actor());
      await report(inventory, number, 'Freed');
    },
  );

  examples(
    numbers
      .command('export')
      .description(`Export numbers as CSV for a spreadsheet (${CSV_COLUMNS.join(',')}); with -o json|jsonl|tsv the same rows in that format`)
      .option('--pool <pool>', 'one pool')
      .option('--out <file>', 'write to this file instead of standard output')
      .option('--tenant-id <guid>', TENANT_OPTION),
    ['dialtone numbers export --out numbers.csv', 'dialtone numbers export --pool ams | head'],
  ).action(async (o: { pool?: string; out?: string; tenantId?: string }) => {
    const inventory = await inventoryOf(o.tenantId);
    const filter = o.pool ? { pool: o.pool } : {};
    const out = ctx.output();
    if (o.out) {
      // Streamed to the file page by page, as to stdout: 100,000 numbers are never one string.
      let written = 0;
      async function* lines(): AsyncGenerator<string> {
        yield `${CSV_COLUMNS.join(',')}\r\n`;
        for await (const record of inventory.scan(filter)) {
          written += 1;
          yield `${csvLine(record)}\r\n`;
        }
      }
      await pipeline(Readable.from(lines()), createWriteStream(o.out, { encoding: 'utf8' }));
      return out.note(`Wrote ${written} numbers to ${o.out}`);
    }
    if (out.format !== 'table') {
      await out.list(inventory.scan(filter), CSV_COLUMNS.map((c): Column<NumberRecord> => ({ header: c, value: (r) => r[c] })));
      return;
    }
    // CSV on stdout, streamed page by page (a reader that stops early ends it, and the rest is never read).
    async function* csv(): AsyncGenerator<string> {
      yield CSV_COLUMNS.join(',');
      for await (const record of inventory.scan(filter)) yield csvLine(record);
    }
    await out.lines(csv(), true);
  });

  return numbers;
}
