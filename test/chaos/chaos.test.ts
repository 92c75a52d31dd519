import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runChaos } from './chaos.js';
import { checkInvariants } from './invariants.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('npm run chaos', () => {
  it('holds every invariant for a tiny population under every fault, in process', async () => {
    let observed: Parameters<typeof checkInvariants>[0] | undefined;
    const result = await runChaos({ seed: 3, people: 8, tamper: (o) => (observed = structuredClone(o)) });
    expect(Object.keys(result)).toEqual(expect.arrayContaining(['seed', 'faults', 'invariants']));
    expect(result.seed).toBe(3);
    for (const inv of result.invariants) expect(inv, `${inv.name}: ${inv.detail}`).toMatchObject({ ok: true });
    expect(result.invariants.map((i) => i.name)).toHaveLength(10);
    expect(Object.values(result.faults).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);

    // The same observation, deliberately broken, fails the invariants that guard it.
    const broken = observed!;
    const holder = broken.assignments[0]!;
    const leaver = broken.people.find((p) => p.truth.left || p.truth.deleted || !p.truth.licensed);
    broken.assignments.push({ number: holder.number, userId: broken.people.find((p) => p.id !== holder.userId)!.id });
    broken.inputEventIds.push('never-seen');
    if (leaver) broken.teams.set(leaver.id, { enterpriseVoiceEnabled: true, lineUri: 'tel:+31201240999', policies: {} });
    const failed = checkInvariants(broken).filter((i) => !i.ok).map((i) => i.name);
    expect(failed).toEqual(expect.arrayContaining(['every input accounted for', 'no number on two people', 'inventory agrees with Teams']));
    if (leaver) expect(failed).toContain('no leaver with voice');
  }, 300_000);

  it('exits 1 when an invariant fails, and prints the contract with --json', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'test/chaos/main.ts', '--seed', '2', '--people', '3', '--json', '--break-invariant'], {
      cwd: root,
      encoding: 'utf8',
      // A kill at the deadline shows as status null; a loaded CI box needs minutes to start Node with tsx.
      timeout: 540_000,
    });
    expect(run.status, run.stderr).toBe(1);
    const out = JSON.parse(run.stdout) as { seed: number; faults: Record<string, number>; invariants: { name: string; ok: boolean; detail: string }[] };
    expect(out.seed).toBe(2);
    expect(out.invariants.find((i) => i.name === 'no number on two people')).toMatchObject({ ok: false });
  }, 600_000);

  it('refuses an unknown option with exit code 2', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'test/chaos/main.ts', '--people', 'many'], { cwd: root, encoding: 'utf8', timeout: 240_000 });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('--people must be an integer');
  }, 300_000);
});
