/**
 * The output conventions of every `dialtone` command (the Azure CLI's, which operators know).
 * New commands follow them by using this module and `cli/context.ts`; do not print with
 * console.log or build tables by hand.
 *
 * - stdout carries the result only, in the format of the global `-o/--output`:
 *   `table` (default; aligned columns fitted to COLUMNS or the terminal, wrapped, never cut),
 *   `json` (one pretty JSON document; a list is a JSON array), `jsonl` (one compact JSON object
 *   per line), `tsv` (tab-separated values, no header, for `cut`/`while read`), `none`.
 *   `--json` is an alias of `-o json`. Use `out.list(rows, columns)` for lists (it streams: the
 *   first rows print before the last are read, so `numbers list` on 100,000 numbers starts at
 *   once) and `out.value(data, human)` for one result; `out.text(line)` for human-only lines
 *   that belong to the table format (summaries).
 * - stderr is for people: progress (`ctx.progress()`), notes (`out.note()`), warnings, errors.
 * - Colour only when stdout is a terminal; `NO_COLOR` turns it off, `FORCE_COLOR` on. Headers are
 *   bold, never red; red means failure, yellow a warning.
 * - Exit codes (cli/errors.ts): 0 ok, 1 a check or operation failed (`throw new
 *   OperationFailed(…)`), 2 usage or unusable input (`UsageError`, `InputError(file, detail)`);
 *   commander's own errors (unknown option, bad choice, bad integer) exit 2 too.
 * - A reader that goes away (`| head`) ends the output quietly: `out.closed` turns true, lists
 *   stop reading, the exit code stays what the command reached.
 * - A command that changes state calls `await ctx.commit()` before it prints anything.
 * - Options are parsed by commander with the parsers in `cli/options.ts` (integer, age/date,
 *   choices), lists take `--top/--skip` (`withPaging`), destructive commands `--yes`
 *   (`withYes` + `ctx.confirm()`), and every command's --help ends with examples (`examples`).
 */
import type { CliIo } from './io.js';
import type { PageOptions } from './options.js';

export const outputFormats = ['table', 'json', 'jsonl', 'tsv', 'none'] as const;
export type OutputFormat = (typeof outputFormats)[number];

export interface Column<T> {
  header: string;
  value: (row: T) => unknown;
  /** Right-aligned (counts). */
  numeric?: boolean;
}

type Env = Record<string, string | undefined>;

/** Colour decision: FORCE_COLOR (not 0/false) forces it, NO_COLOR (non-empty) removes it, else a terminal. */
export function colourWanted(isTTY: boolean | undefined, env: Env = {}): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force.toLowerCase() !== 'false';
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return isTTY === true && env.TERM !== 'dumb';
}

export interface Style {
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  yellow(text: string): string;
  green(text: string): string;
}

const sgr = (open: number, close: number) => (text: string) => `\u001b[${open}m${text}\u001b[${close}m`;
const plain = (text: string) => text;
export const noStyle: Style = { bold: plain, dim: plain, red: plain, yellow: plain, green: plain };
export const ansiStyle: Style = { bold: sgr(1, 22), dim: sgr(2, 22), red: sgr(31, 39), yellow: sgr(33, 39), green: sgr(32, 39) };

/** The width tables must fit: COLUMNS when set, else the terminal's; undefined for a pipe. */
export function tableWidth(io: CliIo): number | undefined {
  const fromEnv = Number.parseInt(io.env?.COLUMNS ?? '', 10);
  if (Number.isInteger(fromEnv) && fromEnv > 0) return fromEnv;
  // A pseudo-terminal without a size reports 0 columns: no limit rather than a zero-width table.
  return io.stdoutIsTTY && io.columns !== undefined && io.columns > 0 ? io.columns : undefined;
}

export function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

const GAP = 2;
/** The narrowest a column gets, however narrow the terminal. */
const MIN_WIDTH = 4;
const SAMPLE_ROWS = 100;
const FLUSH_LINES = 500;

/** Splits a cell into lines of at most `width` characters, at spaces where it can. */
export function wrapCell(text: string, width: number): string[] {
  if (text.length <= width) return [text];
  const lines: string[] = [];
  let rest = text;
  while (rest.length > width) {
    let cut = rest.lastIndexOf(' ', width);
    if (cut <= 0) cut = width;
    lines.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).trimStart();
  }
  if (rest !== '') lines.push(rest);
  return lines;
}

/**
 * Column widths from the header and a sample of rows, shrunk (widest first) until the row fits
 * `limit`; a cell wider than its column wraps onto the next line instead of being cut.
 */
export function fitWidths(headers: string[], sample: string[][], limit: number | undefined): number[] {
  const widths = headers.map((h, i) => Math.max(h.length, ...sample.map((row) => row[i]!.length)));
  if (limit === undefined) return widths;
  const total = () => widths.reduce((a, b) => a + b, 0) + GAP * (widths.length - 1);
  const shrink = (floor: number[]) => {
    while (total() > limit) {
      let widest = -1;
      for (let i = 0; i < widths.length; i++) if (widths[i]! > floor[i]! && (widest < 0 || widths[i]! > widths[widest]!)) widest = i;
      if (widest < 0) break;
      widths[widest] = Math.max(floor[widest]!, widths[widest]! - Math.max(1, total() - limit));
    }
  };
  // First down to the header (or 8): a terminal too narrow even for that wraps the headers as well.
  shrink(headers.map((h, i) => Math.min(widths[i]!, Math.max(h.length, 8))));
  shrink(widths.map((w) => Math.min(w, MIN_WIDTH)));
  return widths;
}

function renderRow(cells: string[], widths: number[], numeric: boolean[], paint?: (text: string) => string): string[] {
  const wrapped = cells.map((c, i) => wrapCell(c, widths[i]!));
  const height = Math.max(...wrapped.map((w) => w.length));
  const lines: string[] = [];
  for (let line = 0; line < height; line++) {
    const parts = wrapped.map((w, i) => {
      const text = w[line] ?? '';
      const last = i === wrapped.length - 1;
      if (numeric[i]) return text.padStart(widths[i]!);
      return last ? text : text.padEnd(widths[i]!);
    });
    const row = parts.join(' '.repeat(GAP)).trimEnd();
    lines.push(paint ? paint(row) : row);
  }
  return lines;
}

/** One tsv cell: the value's text with tabs and line breaks turned into spaces. */
export function tsvField(value: unknown): string {
  return cellText(value).replace(/[\t\r\n]+/g, ' ');
}

function indentJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(/\n/g, '\n  ');
}

async function* asAsync<T>(rows: Iterable<T> | AsyncIterable<T>): AsyncGenerator<T> {
  yield* rows;
}

export interface ListOptions<T> {
  /** What json/jsonl print for a row (default: the row). */
  json?: (row: T) => unknown;
  /** Said (table format only) when nothing matches. */
  empty?: string;
  page?: PageOptions;
}

export class Output {
  readonly style: Style;
  private readonly width: number | undefined;

  constructor(
    private readonly io: CliIo,
    readonly format: OutputFormat,
  ) {
    this.style = colourWanted(io.stdoutIsTTY, io.env) ? ansiStyle : noStyle;
    this.width = tableWidth(io);
  }

  get closed(): boolean {
    return this.io.closed?.() ?? false;
  }

  private write(text: string): void {
    if (!this.closed) this.io.out(text);
  }

  /** A line for people on stderr (never mixed into the result). */
  note(text: string): void {
    this.io.err(text);
  }

  /** A human line that belongs to the table format only (a summary under a table). */
  text(line: string | string[]): void {
    if (this.format === 'table') this.write(Array.isArray(line) ? line.join('\n') : line);
  }

  /** One result: json/jsonl print `data`; tsv its top-level values; table the human lines. */
  value(data: unknown, human?: () => string | string[]): void {
    switch (this.format) {
      case 'none':
        return;
      case 'json':
        return this.write(JSON.stringify(data, null, 2));
      case 'jsonl':
        return this.write(JSON.stringify(data));
      case 'tsv': {
        const rows = Array.isArray(data) ? data : [data];
        return this.write(rows.map((r) => (r !== null && typeof r === 'object' ? Object.values(r).map(tsvField).join('\t') : tsvField(r))).join('\n'));
      }
      case 'table': {
        const lines = human ? human() : this.keyValues(data);
        return this.write(Array.isArray(lines) ? lines.join('\n') : lines);
      }
    }
  }

  private keyValues(data: unknown): string[] {
    if (data === null || typeof data !== 'object') return [cellText(data)];
    const entries = Object.entries(data);
    const pad = Math.max(0, ...entries.map(([k]) => k.length)) + 2;
    return entries.map(([k, v]) => `${`${k}:`.padEnd(pad)}${cellText(v)}`);
  }

  /** A table of rows, as a string (for small fixed tables inside a human view). */
  table<T>(rows: T[], columns: Column<T>[]): string {
    const headers = columns.map((c) => c.header);
    const cells = rows.map((r) => columns.map((c) => cellText(c.value(r)).replace(/[\t\r\n]+/g, ' ')));
    const widths = fitWidths(headers, cells, this.width);
    const numeric = columns.map((c) => c.numeric === true);
    const lines = [
      ...renderRow(headers, widths, numeric, this.style.bold),
      this.style.dim(widths.map((w) => '-'.repeat(w)).join(' '.repeat(GAP))),
      ...cells.flatMap((c) => renderRow(c, widths, numeric)),
    ];
    return lines.join('\n');
  }

  /** Raw lines (an export format of its own), streamed and stopped when the reader goes. */
  async lines(source: Iterable<string> | AsyncIterable<string>, crlf = false): Promise<void> {
    let buffer: string[] = [];
    for await (const line of source) {
      if (this.closed) return;
      buffer.push(crlf ? `${line}\r` : line);
      if (buffer.length >= FLUSH_LINES) {
        this.write(buffer.join('\n'));
        buffer = [];
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    if (buffer.length > 0) this.write(buffer.join('\n'));
  }

  /**
   * A list, streamed: json is a JSON array written item by item, jsonl a line per item, tsv a
   * line per item, table a header fitted to the first rows and then a line (or a few, when a
   * cell wraps) per item. Returns how many items were written.
   */
  async list<T>(rows: Iterable<T> | AsyncIterable<T>, columns: Column<T>[], options: ListOptions<T> = {}): Promise<number> {
    if (this.format === 'none') return 0;
    const toJson = options.json ?? ((r: T) => r);
    const skip = options.page?.skip ?? 0;
    const top = options.page?.top ?? Number.POSITIVE_INFINITY;
    const headers = columns.map((c) => c.header);
    const numeric = columns.map((c) => c.numeric === true);
    const cellsOf = (r: T) => columns.map((c) => cellText(c.value(r)).replace(/[\t\r\n]+/g, ' '));

    let count = 0;
    let seen = 0;
    let buffer: string[] = [];
    let sample: string[][] | undefined = this.format === 'table' ? [] : undefined;
    let widths: number[] | undefined;
    let pending: string | undefined;
    const flush = async (): Promise<void> => {
      if (buffer.length > 0) this.write(buffer.join('\n'));
      buffer = [];
      // Lets an EPIPE from the reader arrive before the next batch is produced.
      await new Promise<void>((resolve) => setImmediate(resolve));
    };
    const startTable = (): void => {
      widths = fitWidths(headers, sample!, this.width);
      buffer.push(...renderRow(headers, widths, numeric, this.style.bold), this.style.dim(widths.map((w) => '-'.repeat(w)).join(' '.repeat(GAP))));
      for (const cells of sample!) buffer.push(...renderRow(cells, widths, numeric));
      sample = undefined;
    };

    const iterator = asAsync(rows);
    try {
      for await (const row of iterator) {
        if (seen++ < skip) continue;
        if (count >= top || this.closed) break;
        count++;
        switch (this.format) {
          case 'json':
            // JSON.stringify(array, null, 2), written as it goes: an item gets its comma when the next one comes.
            buffer.push(pending === undefined ? '[' : `${pending},`);
            pending = `  ${indentJson(toJson(row))}`;
            break;
          case 'jsonl':
            buffer.push(JSON.stringify(toJson(row)));
            break;
          case 'tsv':
            buffer.push(columns.map((c) => tsvField(c.value(row))).join('\t'));
            break;
          case 'table':
            if (sample) {
              sample.push(cellsOf(row));
              if (sample.length >= SAMPLE_ROWS) {
                startTable();
                await flush();
              }
            } else buffer.push(...renderRow(cellsOf(row), widths!, numeric));
            break;
        }
        if (buffer.length >= FLUSH_LINES) await flush();
      }
    } finally {
      await iterator.return(undefined);
    }
    if (this.format === 'json') {
      if (pending === undefined) buffer.push('[]');
      else buffer.push(pending, ']');
    }
    if (this.format === 'table') {
      if (sample && sample.length === 0) {
        if (options.empty) buffer.push(options.empty);
      } else if (sample) startTable();
    }
    if (buffer.length > 0) this.write(buffer.join('\n'));
    return count;
  }
}
