import { readdir, readFile, rm, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialtone as run } from '../helpers/cli.js';

/**
 * A kept sandbox is a manifest plus a chunk file per slice of each table partition, so a page read
 * touches a few small files, not the whole inventory (sandbox/host/state.ts). These tests prove
 * it by removing the chunks a command must not need.
 */
const tenant = fileURLToPath(new URL('../../sandbox/data/tenant.json', import.meta.url));
const NUMBERS = 6_000;

interface Manifest {
  version: number;
  tables: Record<string, Record<string, { file: string; first: string; rows: number }[]>>;
}

let dir: string;
const dialtone = (...args: string[]) => run(args);
const manifest = async (state: string) => JSON.parse(await readFile(join(state, 'sandbox-state.json'), 'utf8')) as Manifest;

/** A fresh copy of a kept sandbox with one 6,000-number pool `big` (+31201000000…). */
async function keptSandbox(name: string): Promise<string> {
  const state = join(dir, name);
  const r = await dialtone('sandbox', 'run', '--tenant', tenant, '--events', join(dir, 'none.ndjson'), '--numbers', join(dir, 'numbers.json'), '--storage', 'memory', '--state', state, '-o', 'none');
  expect(r.code).toBe(0);
  return state;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dialtone-layout-'));
  await writeFile(join(dir, 'none.ndjson'), '');
  await writeFile(join(dir, 'numbers.json'), JSON.stringify({ pools: [{ id: 'big', ranges: [{ from: '+31201000000', to: `+3120100${String(NUMBERS - 1).padStart(4, '0')}` }], quarantineDays: 90 }] }));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('a kept sandbox state, table by table and chunk by chunk', () => {
  it('prints the first page of numbers list without reading the rest of the inventory or its history', async () => {
    const state = await keptSandbox('page');
    const layout = await manifest(state);
    expect(layout.version).toBe(2);
    const pool = layout.tables['numbers']!['big']!;
    expect(pool.length).toBeGreaterThan(1);
    // Everything a first page does not need is gone: the pool's later chunks, the number index and the history.
    const gone = [...pool.slice(1), ...(layout.tables['numbers']!['~index'] ?? []), ...Object.values(layout.tables['numberhistory'] ?? {}).flat()];
    expect(gone.length).toBeGreaterThan(3);
    for (const chunk of gone) await rm(join(state, 'tables', chunk.file));

    const page = await dialtone('numbers', 'list', '--sandbox', state, '--top', '5', '-o', 'tsv');
    expect(page.code).toBe(0);
    expect(page.out.split('\n').map((line) => line.split('\t')[0])).toEqual(['+31201000000', '+31201000001', '+31201000002', '+31201000003', '+31201000004']);
    const next = await dialtone('numbers', 'list', '--sandbox', state, '--top', '2', '--skip', '5', '--state', 'free', '-o', 'jsonl');
    expect(next.out.split('\n').map((line) => (JSON.parse(line) as { number: string }).number)).toEqual(['+31201000005', '+31201000006']);

    // `numbers export | head`: the reader goes after the first lines, and the export stops reading.
    let closed = false;
    const written: string[] = [];
    const exported = await run(['numbers', 'export', '--sandbox', state], {}, { out: (s) => { written.push(s); closed = true; }, closed: () => closed });
    expect([exported.code, exported.err]).toEqual([0, '']);
    expect(written[0]?.split('\r\n').slice(0, 2)).toEqual(['number,pool,state,userId,reservedUntil,quarantinedUntil,owner,updatedAt', "'+31201000000,big,free,,,,,2026-11-02T08:00:00.000Z"]);
  }, 120_000);

  it('says how to get the next page when --top cut the list, and gives the counts when it did not', async () => {
    const state = await keptSandbox('summary');
    const cut = await dialtone('numbers', 'list', '--sandbox', state, '--top', '3');
    expect(cut.out.split('\n').at(-1)).toBe('3 shown, more match (--skip 3 for the next page; dialtone numbers pools for the counts).');
    const whole = await dialtone('numbers', 'list', '--sandbox', state, '--pool', 'big', '--skip', String(NUMBERS - 2));
    expect(whole.out.split('\n').at(-1)).toBe(`big: ${NUMBERS} numbers (${NUMBERS} free)`);
    expect(whole.out).toContain('+31201005999');
  }, 120_000);

  it('keeps the files of the partitions a command did not change, and reads back what it changed', async () => {
    const state = await keptSandbox('change');
    const before = await manifest(state);
    const blocked = await dialtone('numbers', 'block', '+31201004321', '--owner', 'pbx', '--sandbox', state);
    expect(blocked.code).toBe(0);
    const after = await manifest(state);
    expect(after.tables['numbers']!['~index']).toEqual(before.tables['numbers']!['~index']);
    expect(after.tables['numbers']!['big']).not.toEqual(before.tables['numbers']!['big']);
    const shown = await dialtone('numbers', 'show', '+31201004321', '--sandbox', state, '--json');
    expect((JSON.parse(shown.out) as { state: string; owner: string; history: { action: string }[] }).state).toBe('blocked');
    expect((JSON.parse(shown.out) as { history: { action: string }[] }).history.map((h) => h.action)).toEqual(['imported', 'blocked']);

    // Files named by neither of the last two manifests are removed.
    await dialtone('numbers', 'unblock', '+31201004321', '--sandbox', state);
    const latest = await manifest(state);
    const named = new Set([after, latest].flatMap((m) => Object.values(m.tables).flatMap((p) => Object.values(p).flat().map((c) => c.file))));
    expect(new Set(await readdir(join(state, 'tables')))).toEqual(named);
  }, 120_000);

  it('counts every chunk of a pool in numbers pools and writes every number with export --out, page by page', async () => {
    const state = await keptSandbox('whole');
    expect(await dialtone('numbers', 'block', '+31201005998', '--owner', 'pbx', '--sandbox', state, '-o', 'none')).toMatchObject({ code: 0 });
    const pools = await dialtone('numbers', 'pools', '--sandbox', state, '-o', 'json');
    expect(JSON.parse(pools.out)).toEqual([{ pool: 'big', quarantineDays: 90, total: NUMBERS, counts: { free: NUMBERS - 1, reserved: 0, assigned: 0, quarantined: 0, blocked: 1 } }]);
    const file = join(dir, 'whole.csv');
    const exported = await dialtone('numbers', 'export', '--sandbox', state, '--out', file);
    expect(exported).toMatchObject({ code: 0, err: `Wrote ${NUMBERS} numbers to ${file}` });
    const lines = (await readFile(file, 'utf8')).split('\r\n');
    expect(lines).toHaveLength(NUMBERS + 2);
    expect([lines[0], lines[1], lines.at(-2), lines.at(-1)]).toEqual([
      'number,pool,state,userId,reservedUntil,quarantinedUntil,owner,updatedAt',
      "'+31201000000,big,free,,,,,2026-11-02T08:00:00.000Z",
      "'+31201005999,big,free,,,,,2026-11-02T08:00:00.000Z",
      '',
    ]);
    expect(lines.filter((l) => l.includes(',blocked,'))).toEqual([expect.stringMatching(/^'\+31201005998,big,blocked,,,,pbx,/)]);
  }, 120_000);

  it('refuses a chunk file that is not rows of a sandbox table, naming the file and the row', async () => {
    const state = await keptSandbox('broken');
    const chunk = (await manifest(state)).tables['numbers']!['big']![0]!;
    const rows = JSON.parse(await readFile(join(state, 'tables', chunk.file), 'utf8')) as [string, Record<string, unknown>][];
    rows[3]![1]['state'] = { free: true };
    await writeFile(join(state, 'tables', chunk.file), JSON.stringify(rows));
    const r = await dialtone('numbers', 'list', '--sandbox', state, '--top', '1');
    expect(r.code).not.toBe(0);
    expect(r.err).toContain(`${chunk.file} (numbers/big): not a chunk of a Dialtone sandbox state (row 3 (${rows[3]![0]}): state must be a string, number, boolean or null)`);
  }, 120_000);
});
