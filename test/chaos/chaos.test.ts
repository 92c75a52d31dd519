import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runChaos } from './chaos.js';
import { certificateInvariantNames, checkInvariants } from './invariants.js';

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

  it('runs the population through the graph Teams backend under Graph 429/503 on /admin/teams, and says the certificate invariants do not apply', async () => {
    let observed: Parameters<typeof checkInvariants>[0] | undefined;
    const result = await runChaos({ seed: 3, people: 8, teamsBackend: 'graph', tamper: (o) => (observed = structuredClone(o)) });
    expect(result.teamsBackend).toBe('graph');
    expect(result.invariants.map((i) => i.name)).toHaveLength(10);
    for (const inv of result.invariants) expect(inv, `${inv.name}: ${inv.detail}`).toMatchObject({ ok: true });
    // The worker's certificate invariants have nothing to check: neither passed nor failed, and they say why.
    const notApplicable = result.invariants.filter((i) => i.applies === false);
    expect(notApplicable.map((i) => i.name)).toEqual([...certificateInvariantNames]);
    for (const inv of notApplicable) expect(inv.detail).toMatch(/^does not apply: the graph Teams backend runs no hybrid worker/);
    // Everything else applies and is checked as on the PowerShell path.
    expect(result.invariants.filter((i) => i.applies !== false)).toHaveLength(8);
    // Voice commands went through Graph's Teams administration API, and its faults fired on them.
    const adminFaults = Object.entries(result.faults).filter(([k]) => k.endsWith('/admin/teams')).reduce((a, [, v]) => a + v, 0);
    expect(adminFaults).toBeGreaterThan(0);
    expect(result.faults).not.toHaveProperty('worker:killed');
    expect(observed!.certificates).toBeUndefined();
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
