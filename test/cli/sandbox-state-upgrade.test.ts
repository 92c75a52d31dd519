import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildProgram } from '../../cli/program.js';
import { ANNA } from '../integration/sandbox-fixtures.js';

/** A `--state` directory written by the version before the owner index (the sample timeline, played). */
const v1State = fileURLToPath(new URL('../fixtures/sandbox-state-v1/sandbox-state.json', import.meta.url));
const sample = (name: string) => fileURLToPath(new URL(`../../sandbox/data/${name}`, import.meta.url));

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dialtone-upgrade-'));
  await mkdir(join(dir, 'state'));
  await copyFile(v1State, join(dir, 'state', 'sandbox-state.json'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function dialtone(...args: string[]) {
  const out: string[] = [];
  const io = { out: (s: string) => out.push(s), err: () => undefined, exit: () => undefined };
  await buildProgram(io).parseAsync(['node', 'dialtone', ...args]);
  return out.join('\n');
}

describe('a sandbox state saved before the owner index', () => {
  it('still finds each person’s numbers through the index it builds on load', async () => {
    const status = JSON.parse(await dialtone('status', 'anna.devries@contoso.example', '--sandbox', join(dir, 'state'), '--json')) as { numbers: { number: string; state: string }[] };
    expect(status.numbers.map((n) => [n.number, n.state]).sort()).toEqual([
      ['+31101234500', 'assigned'],
      ['+31201234000', 'quarantined'],
    ]);
  }, 180_000);

  it('is rewritten in the chunked layout by the first command that saves, and reads back the same', async () => {
    const state = join(dir, 'state');
    const before = JSON.parse(await dialtone('numbers', 'list', '--sandbox', state, '-o', 'json')) as unknown[];
    await dialtone('numbers', 'block', '+31201234050', '--owner', 'pbx', '--sandbox', state);
    const manifest = JSON.parse(await readFile(join(state, 'sandbox-state.json'), 'utf8')) as { version: number };
    expect(manifest.version).toBe(2);
    const after = JSON.parse(await dialtone('numbers', 'list', '--sandbox', state, '-o', 'json')) as { number: string; state: string }[];
    expect(after.length).toBe(before.length);
    expect(after.find((n) => n.number === '+31201234050')?.state).toBe('blocked');
    const status = JSON.parse(await dialtone('status', 'anna.devries@contoso.example', '--sandbox', state, '--json')) as { numbers: { number: string }[] };
    expect(status.numbers.map((n) => n.number).sort()).toEqual(['+31101234500', '+31201234000']);
  }, 180_000);

  it('continues: a later leaver quarantines the number the older version assigned', async () => {
    await writeFile(join(dir, 'leaver.ndjson'), JSON.stringify({ eventId: 'evt-0100', type: 'leaver', occurredAt: '2026-12-05T17:00:00Z', person: { employeeId: 'E1001' } }));
    const report = JSON.parse(
      await dialtone('sandbox', 'run', '--tenant', sample('tenant.json'), '--events', join(dir, 'leaver.ndjson'), '--policy', sample('voice-policy.yaml'), '--numbers', sample('numbers.json'), '--state', join(dir, 'state'), '--json'),
    ) as { numbers: { number: string; state: string; userId: string | null }[]; deadLetters: unknown[] };
    // No inventory failure (the older run's own dead letters stay; sample data has moved on since).
    expect(report.deadLetters.map((d) => (d as { reason: string }).reason)).not.toContain('NumberConflict');
    expect(report.numbers.filter((n) => n.userId === ANNA).map((n) => [n.number, n.state]).sort()).toEqual([
      ['+31101234500', 'quarantined'],
      ['+31201234000', 'quarantined'],
    ]);
  }, 180_000);
});
