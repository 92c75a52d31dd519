import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { csvField } from '../../cli/commands/numbers.js';
import { buildProgram } from '../../cli/program.js';
import { createMemoryNumberInventory } from '../../shared/adapters/memory-number-inventory.js';
import type { NumberInventory } from '../../shared/ports/number-inventory.js';

const NOW = new Date('2026-11-02T08:00:00.000Z');
const poolsFile = {
  pools: [
    { id: 'ams', ranges: [{ from: '+31201234000', to: '+31201234009' }], quarantineDays: 90 },
    { id: 'ext', ranges: [{ from: '+31201234567', to: '+31201234567', extensions: { from: 100, to: 101 } }], quarantineDays: 30 },
  ],
};

describe('dialtone numbers', () => {
  let dir: string;
  let file: string;
  let inventory: NumberInventory;
  let out: string[];
  let err: string[];

  const run = async (...args: string[]): Promise<string> => {
    out = [];
    err = [];
    const io = { out: (s: string) => out.push(s), err: (s: string) => err.push(s), exit: () => undefined };
    await buildProgram(io, { inventory: async () => inventory, now: () => NOW, stdinIsTTY: () => false }).parseAsync(['node', 'dialtone', 'numbers', ...args]);
    return out.join('\n');
  };
  const failure = async (...args: string[]): Promise<Error> => {
    try {
      await run(...args);
    } catch (error) {
      return error as Error;
    }
    throw new Error('expected the command to fail');
  };

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'dialtone-numbers-'));
    file = path.join(dir, 'numbers.json');
    await writeFile(file, JSON.stringify(poolsFile));
    inventory = createMemoryNumberInventory();
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('imports a numbers file and prints a summary', async () => {
    const text = await run('import', file);
    expect(text.split('\n')[0]).toBe(`Imported ${file}: 2 pools added, 0 updated; 12 numbers added, 0 already present.`);
    expect(text).toContain('ams');
  });

  it('imports idempotently', async () => {
    await run('import', file);
    expect(JSON.parse(await run('import', file, '--json'))).toMatchObject({ poolsAdded: 0, poolsUpdated: 0, numbersAdded: 0, numbersUnchanged: 12 });
  });

  it('names the file and the field of an invalid numbers file', async () => {
    await writeFile(file, JSON.stringify({ pools: [{ id: 'AMS', ranges: [] }] }));
    const error = await failure('import', file);
    expect(error.message).toBe(
      `${file}: pools.0.id: must be lower-case letters, digits and dashes; pools.0.ranges: Too small: expected array to have >=1 items`,
    );
  });

  it('lists numbers filtered by state, with counts per pool', async () => {
    await run('import', file);
    await inventory.allocate('ams', 'user-a', { now: NOW, reservationTtlMs: 60_000 });
    const text = await run('list', '--state', 'reserved');
    expect(text).toContain('+31201234000');
    expect(text).toContain('user-a');
    expect(text).not.toContain('+31201234001');
    expect(text.split('\n').at(-1)).toBe('ams: 1 numbers (1 reserved)');
  });

  it('lists as JSON', async () => {
    await run('import', file);
    const list = JSON.parse(await run('list', '--pool', 'ext', '--json')) as { number: string }[];
    expect(list.map((n) => n.number)).toEqual(['+31201234567;ext=100', '+31201234567;ext=101']);
  });

  it('shows counts per pool and state', async () => {
    await run('import', file);
    expect(JSON.parse(await run('pools', '--json'))).toEqual([
      { pool: 'ams', quarantineDays: 90, total: 10, counts: { free: 10, reserved: 0, assigned: 0, quarantined: 0, blocked: 0 } },
      { pool: 'ext', quarantineDays: 30, total: 2, counts: { free: 2, reserved: 0, assigned: 0, quarantined: 0, blocked: 0 } },
    ]);
  });

  it('shows one number with its history', async () => {
    await run('import', file);
    const shown = JSON.parse(await run('show', '+31201234000', '--json')) as { state: string; history: { action: string }[] };
    expect(shown.state).toBe('free');
    expect(shown.history.map((h) => h.action)).toEqual(['imported']);
  });

  it('releases an assigned number into the pool quarantine', async () => {
    await run('import', file);
    await inventory.allocate('ams', 'user-a', { now: NOW, reservationTtlMs: 60_000 });
    await inventory.confirm('+31201234000', 'user-a', { now: NOW });
    expect(await run('release', '+31201234000', '--yes')).toBe('Released: +31201234000 is now quarantined for user-a until 2027-01-31T08:00:00.000Z.');
  });

  it('refuses to release a free number', async () => {
    await run('import', file);
    expect((await failure('release', '+31201234000')).message).toBe(
      '+31201234000 is free; only a reserved or assigned number can be released (use `dialtone numbers free` to free it by hand)',
    );
  });

  it('blocks with an owner and unblocks', async () => {
    await run('import', file);
    expect(await run('block', '+31201234001', '--owner', 'pbx@contoso.com')).toBe('Blocked: +31201234001 is now blocked (held by pbx@contoso.com).');
    expect(await run('unblock', '+31201234001')).toBe('Unblocked: +31201234001 is now free.');
  });

  it('refuses a number the inventory does not hold', async () => {
    await run('import', file);
    expect((await failure('block', '+15550000000')).message).toBe('+15550000000 is not in the number inventory (see `dialtone numbers list`)');
  });

  it('exports CSV with a header to a file', async () => {
    await run('import', file);
    await run('block', '+31201234567;ext=100', '--owner', 'Reception, main desk');
    const target = path.join(dir, 'export.csv');
    await run('export', '--pool', 'ext', '--out', target);
    expect(await readFile(target, 'utf8')).toBe(
      'number,pool,state,userId,reservedUntil,quarantinedUntil,owner,updatedAt\r\n' +
        "'+31201234567;ext=100,ext,blocked,,,,\"Reception, main desk\",2026-11-02T08:00:00.000Z\r\n" +
        "'+31201234567;ext=101,ext,free,,,,,2026-11-02T08:00:00.000Z\r\n",
    );
    expect(err).toEqual([`Wrote 2 numbers to ${target}`]);
  });

  it('quotes CSV fields with quotes and line breaks', () => {
    expect(csvField('say "hi"\nthere')).toBe('"say ""hi""\nthere"');
  });
});
