import { describe, expect, it } from 'vitest';
import { Output, colourWanted, fitWidths, wrapCell, type Column } from '../../cli/output.js';
import type { CliIo } from '../../cli/io.js';
import { integer, parseMomentArg } from '../../cli/options.js';

function capture(extra: Partial<CliIo> = {}) {
  const out: string[] = [];
  const io: CliIo = { out: (s) => out.push(s), err: () => undefined, exit: () => undefined, env: {}, ...extra };
  return { out, io, text: () => out.join('\n') };
}

interface Row {
  id: string;
  n: number;
  note: string | null;
}
const rows: Row[] = [
  { id: 'a', n: 1, note: 'first' },
  { id: 'b', n: 22, note: null },
];
const columns: Column<Row>[] = [
  { header: 'id', value: (r) => r.id },
  { header: 'count', value: (r) => r.n, numeric: true },
  { header: 'note', value: (r) => r.note },
];

describe('output formats', () => {
  it('writes a list as JSON exactly as JSON.stringify(list, null, 2), item by item', async () => {
    for (const list of [rows, [], [rows[0]!]]) {
      const c = capture();
      await new Output(c.io, 'json').list(list, columns);
      expect(c.text()).toBe(JSON.stringify(list, null, 2));
    }
  });

  it('writes jsonl, tsv and nothing for none', async () => {
    const jsonl = capture();
    await new Output(jsonl.io, 'jsonl').list(rows, columns);
    expect(jsonl.text()).toBe(rows.map((r) => JSON.stringify(r)).join('\n'));
    const tsv = capture();
    await new Output(tsv.io, 'tsv').list(rows, columns);
    expect(tsv.text()).toBe('a\t1\tfirst\nb\t22\t');
    const none = capture();
    await new Output(none.io, 'none').list(rows, columns);
    expect(none.out).toEqual([]);
  });

  it('prints a table with one line per row, a header rule and right-aligned counts', async () => {
    const c = capture();
    await new Output(c.io, 'table').list(rows, columns);
    expect(c.text()).toBe(['id  count  note', '--  -----  -----', 'a       1  first', 'b      22'].join('\n'));
  });

  it('applies --top and --skip', async () => {
    const c = capture();
    await new Output(c.io, 'jsonl').list(rows, columns, { page: { skip: 1, top: 1 } });
    expect(c.out).toEqual([JSON.stringify(rows[1])]);
  });

  it('says so when a table list is empty', async () => {
    const c = capture();
    await new Output(c.io, 'table').list([], columns, { empty: 'Nothing matches.' });
    expect(c.text()).toBe('Nothing matches.');
  });

  it('fits COLUMNS by shrinking the widest column and wrapping its cells instead of cutting them', async () => {
    const long = { id: 'x', n: 3, note: 'a description that is far too long for a narrow terminal' };
    const c = capture({ env: { COLUMNS: '40' } });
    await new Output(c.io, 'table').list([long], columns);
    const lines = c.out.join('\n').split('\n');
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(40);
    expect(lines.slice(2).map((l) => l.slice(11)).join(' ')).toBe(long.note);
  });

  it('stops reading a list once the reader has gone', async () => {
    let closed = false;
    let produced = 0;
    const c = capture({ closed: () => closed });
    c.io.out = () => {
      closed = true;
    };
    function* many() {
      for (let i = 0; i < 100_000; i++) {
        produced++;
        yield { id: String(i), n: i, note: null };
      }
    }
    await new Output(c.io, 'tsv').list(many(), columns);
    expect(produced).toBeLessThan(2000);
  });
});

describe('table layout', () => {
  it('wraps at spaces, and hard-splits a word longer than the column', () => {
    expect(wrapCell('one two three', 7)).toEqual(['one two', 'three']);
    expect(wrapCell('abcdefghij', 4)).toEqual(['abcd', 'efgh', 'ij']);
  });

  it('fits a terminal narrower than the headers of a wide list, wrapping the headers too', () => {
    const headers = ['queue', 'message id', 'reason', 'who', 'enqueued', 'replays', 'description'];
    const widths = fitWidths(headers, [['user-changes', 'uc-evt-0002#r29', 'NotLicensed', 'bram@contoso.example', '2026-11-03T09:00:07.650Z', '0', 'x'.repeat(80)]], 60);
    expect(widths.reduce((a, b) => a + b, 0) + 2 * (headers.length - 1)).toBeLessThanOrEqual(60);
    expect(Math.min(...widths)).toBeGreaterThanOrEqual(3);
  });

  it('keeps widths when there is room or no limit', () => {
    expect(fitWidths(['a', 'bb'], [['xxx', 'y']], undefined)).toEqual([3, 2]);
    expect(fitWidths(['a', 'bb'], [['xxx', 'y']], 80)).toEqual([3, 2]);
  });
});

describe('colour', () => {
  it('is on for a terminal only, off with NO_COLOR, forced with FORCE_COLOR', () => {
    expect(colourWanted(true, {})).toBe(true);
    expect(colourWanted(false, {})).toBe(false);
    expect(colourWanted(true, { NO_COLOR: '1' })).toBe(false);
    expect(colourWanted(false, { FORCE_COLOR: '1' })).toBe(true);
    expect(colourWanted(true, { FORCE_COLOR: '0' })).toBe(false);
    expect(colourWanted(true, { TERM: 'dumb' })).toBe(false);
  });

  it('makes headers bold, never red', async () => {
    const c = capture({ stdoutIsTTY: true });
    await new Output(c.io, 'table').list(rows, columns);
    expect(c.out[0]).toContain('\u001b[1mid');
    expect(c.text()).not.toContain('\u001b[31m');
  });
});

describe('option parsers', () => {
  it('refuses what is not a whole number in range', () => {
    const limit = integer({ min: 1, max: 100 });
    expect(limit('7')).toBe(7);
    for (const bad of ['abc', '0', '-3', '1.5', '101', '']) expect(() => limit(bad)).toThrow(/expected a whole number from 1 to 100/);
  });

  it('reads ages and ISO dates, and refuses anything else', () => {
    expect(parseMomentArg('90m')).toEqual({ ago: 5_400_000 });
    expect(parseMomentArg('2026-11-01')).toEqual({ at: new Date('2026-11-01T00:00:00Z') });
    expect(() => parseMomentArg('5')).toThrow("expected an age (45s, 30m, 2h, 7d) or an ISO date, got '5'.");
  });
});
