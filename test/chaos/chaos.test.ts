import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { chaosOptionsProblem, runChaos, tenantBackendOf } from './chaos.js';
import { certificateInvariantNames, checkInvariants, mergeTenantInvariants, noCrossing, withinFunctionTimeout, webhookAnsweredInTime, type ObservedCrossing } from './invariants.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('npm run chaos', () => {
  it('holds every invariant for a tiny population under every fault, in process', async () => {
    let observed: Parameters<typeof checkInvariants>[0] | undefined;
    const result = await runChaos({ seed: 3, people: 8, tamper: (o) => (observed = structuredClone(o)) });
    expect(Object.keys(result)).toEqual(expect.arrayContaining(['seed', 'faults', 'invariants']));
    expect(result.seed).toBe(3);
    for (const inv of result.invariants) expect(inv, `${inv.name}: ${inv.detail}`).toMatchObject({ ok: true });
    expect(result.invariants.map((i) => i.name)).toHaveLength(13);
    expect(Object.values(result.faults).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);

    // The same observation, deliberately broken, fails the invariants that guard it.
    const broken = observed!;
    const holder = broken.assignments[0]!;
    const leaver = broken.people.find((p) => p.truth.left || p.truth.deleted || !p.truth.licensed);
    broken.assignments.push({ number: holder.number, userId: broken.people.find((p) => p.id !== holder.userId)!.id });
    broken.inputEventIds.push('never-seen');
    if (leaver) broken.teams.set(leaver.id, { enterpriseVoiceEnabled: true, lineUri: 'tel:+31201240999', policies: {} });
    // An Entra change after every plan of its person: never noticed.
    broken.directoryChanges!.push({ atMs: Date.parse('2027-01-01T00:00:00Z'), userId: broken.people[0]!.id, notify: false });
    const failed = checkInvariants(broken).filter((i) => !i.ok).map((i) => i.name);
    expect(failed).toEqual(expect.arrayContaining(['every input accounted for', 'no number on two people', 'inventory agrees with Teams', 'every Entra change was noticed']));
    if (leaver) expect(failed).toContain('no leaver with voice');
  }, 300_000);

  it('runs the population through the graph Teams backend under Graph 429/503 on /admin/teams, and says the certificate invariants do not apply', async () => {
    let observed: Parameters<typeof checkInvariants>[0] | undefined;
    const result = await runChaos({ seed: 3, people: 8, teamsBackend: 'graph', tamper: (o) => (observed = structuredClone(o)) });
    expect(result.teamsBackend).toBe('graph');
    expect(result.invariants.map((i) => i.name)).toHaveLength(13);
    for (const inv of result.invariants) expect(inv, `${inv.name}: ${inv.detail}`).toMatchObject({ ok: true });
    // The worker's certificate invariants have nothing to check: neither passed nor failed, and they say why.
    const notApplicable = result.invariants.filter((i) => i.applies === false);
    expect(notApplicable.map((i) => i.name)).toEqual([...certificateInvariantNames]);
    for (const inv of notApplicable) expect(inv.detail).toMatch(/^does not apply: the graph Teams backend runs no hybrid worker/);
    // Everything else applies and is checked as on the PowerShell path.
    expect(result.invariants.filter((i) => i.applies !== false)).toHaveLength(11);
    // Voice commands went through Graph's Teams administration API, and its faults fired on them.
    const adminFaults = Object.entries(result.faults).filter(([k]) => k.endsWith('/admin/teams')).reduce((a, [, v]) => a + v, 0);
    expect(adminFaults).toBeGreaterThan(0);
    expect(result.faults).not.toHaveProperty('worker:killed');
    expect(observed!.certificates).toBeUndefined();
  }, 300_000);

  it("fails the timeout invariant on an invocation longer than host.json's functionTimeout, naming the Function", () => {
    const held = withinFunctionTimeout({ timeoutMs: 300_000, byFunction: { plan: { invocations: 4, longestMs: 2_000, overTimeout: 0 }, graphResync: { invocations: 2, longestMs: 61_000, overTimeout: 0 } } });
    expect(held).toEqual({ name: "no Function invocation outlasts host.json's functionTimeout", ok: true, detail: '6 invocations of 2 Functions, none over 300 s; the longest: graphResync 61 s, plan 2 s' });
    const over = withinFunctionTimeout({ timeoutMs: 300_000, byFunction: { graphResync: { invocations: 2, longestMs: 340_000, overTimeout: 1 } } });
    expect(over).toMatchObject({ ok: false, detail: 'graphResync: 1 of 2 over 300 s (longest 340 s)' });
    // A run in which no Function ran proves nothing.
    expect(withinFunctionTimeout({ timeoutMs: 300_000, byFunction: {} }).ok).toBe(false);
  });

  it("fails the webhook invariant when Graph waited more than 2.9 s for an answer, summed over the tenants' Graphs", () => {
    const quick = { deliveries: 3, notifications: 5, failedDeliveries: 1, dropped: 0, slowDeliveries: 0, lateDeliveries: 0, slowestDeliveryMs: 210 };
    expect(webhookAnsweredInTime([quick, { ...quick, slowestDeliveryMs: 400 }])).toEqual({
      name: "the webhook answered every Graph delivery within Graph's 3 s",
      ok: true,
      detail: '8 POSTs answered (6 accepted with 10 notifications, 2 refused and sent again by Graph), the slowest in 400 ms, none over 2.9 s; 0 notifications dropped',
    });
    const late = { ...quick, failedDeliveries: 2, slowDeliveries: 1, lateDeliveries: 1, slowestDeliveryMs: 30_000 };
    expect(webhookAnsweredInTime([quick, late])).toMatchObject({ ok: false, detail: 'POSTs answered after 2.9 s: 1, 1 of them after 3 s (failed by Graph); the slowest in 30000 ms' });
    // A run in which Graph delivered nothing has nothing to check, and says so.
    expect(webhookAnsweredInTime([{ ...quick, deliveries: 0, failedDeliveries: 0 }])).toMatchObject({ ok: true, applies: false, detail: expect.stringMatching(/^does not apply: Graph delivered no notification/) });
  });

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

describe('npm run chaos --tenants', () => {
  it('splits a small population over the home and a registered tenant, holds every invariant per tenant and the no-crossing one, and rotates both certificates', async () => {
    const seen: Parameters<typeof checkInvariants>[0][] = [];
    const result = await runChaos({ seed: 3, people: 10, tenants: 2, tamper: (o) => void seen.push(o) });
    expect(result.tenants.map((t) => t.people)).toEqual([5, 5]);
    expect(new Set(result.tenants.map((t) => t.tenantId)).size).toBe(2);
    for (const inv of result.invariants) expect(inv, `${inv.name}: ${inv.detail}`).toMatchObject({ ok: true });
    expect(result.invariants.map((i) => i.name)).toHaveLength(14);
    expect(result.invariants.at(-1)).toMatchObject({ name: 'no crossing between tenants', ok: true });
    // Each tenant's invariants were checked on its own people, its own rotation and its own Teams.
    expect(seen).toHaveLength(2);
    expect(seen.map((o) => o.people.length)).toEqual([5, 5]);
    expect(new Set(seen.flatMap((o) => o.people.map((p) => p.id))).size).toBe(10);
    for (const o of seen) expect(o.certificates?.rotation.completed).toBe(true);
    expect(seen[0]!.certificates!.rotation.newThumbprint).not.toBe(seen[1]!.certificates!.rotation.newThumbprint);
    expect(result.faults['certificate:rotations']).toBe(2);
  }, 300_000);

  it('keeps the certificate invariants not applicable on the graph Teams backend with two tenants, and checks the others', async () => {
    // Ten people: with eight, every notified change of this seed comes before the subscription or is lost, and Graph delivers nothing.
    const result = await runChaos({ seed: 3, people: 10, tenants: 2, teamsBackend: 'graph' });
    expect(result.invariants.map((i) => i.name)).toHaveLength(14);
    for (const inv of result.invariants) expect(inv, `${inv.name}: ${inv.detail}`).toMatchObject({ ok: true });
    const notApplicable = result.invariants.filter((i) => i.applies === false);
    expect(notApplicable.map((i) => i.name)).toEqual([...certificateInvariantNames]);
    for (const inv of notApplicable) expect(inv.detail).toMatch(/^does not apply: the graph Teams backend runs no hybrid worker/);
    expect(result.invariants.filter((i) => i.applies !== false).map((i) => i.name)).toContain('no crossing between tenants');
    expect(result.faults).not.toHaveProperty('certificate:rotations');
  }, 300_000);

  it('fails the no-crossing invariant on a command, number, Teams assignment, dead letter or log line of one tenant\'s person in another', () => {
    const A = 'aaaaaaaa-0000-4000-8000-000000000000';
    const B = 'bbbbbbbb-0000-4000-8000-000000000000';
    const anna = '00000000-0000-4000-8000-000000000001';
    const bram = '00000001-0000-4000-8000-000000000001';
    const clean: ObservedCrossing = {
      tenantOf: new Map([[anna, A], [bram, B]]),
      messages: [
        { queue: 'voice-commands', messageId: 'c1', sessionId: `${A}:${anna}`, userId: anna, tenantId: A },
        { queue: 'voice-commands', messageId: 'c2', sessionId: `${B}:${bram}`, userId: bram, tenantId: B },
      ],
      tenants: [
        { tenantId: A, ranges: [{ from: '+31201240000', to: '+31201241999' }], teamsAssignments: [{ number: 'tel:+31201240001', userId: anna }], teamsVoice: [anna], inventory: [{ number: '+31201240001', userId: anna }] },
        { tenantId: B, ranges: [{ from: '+31201250000', to: '+31201251999' }], teamsAssignments: [{ number: 'tel:+31201250001', userId: bram }], teamsVoice: [bram], inventory: [{ number: '+31201250001', userId: bram }] },
      ],
      deadLetters: [{ queue: 'voice-commands', userId: bram, tenantId: B }],
      logs: [{ where: 'log line 1', userId: anna, tenantId: A }],
    };
    expect(noCrossing(clean)).toMatchObject({ name: 'no crossing between tenants', ok: true });
    const crossings: [string, (c: ObservedCrossing) => void][] = [
      ['a command of B\'s person sent to the home tenant', (c) => c.messages.push({ queue: 'voice-commands', messageId: 'c3', sessionId: bram, userId: bram, tenantId: undefined })],
      ['a session of another tenant', (c) => c.messages.push({ queue: 'user-changes', messageId: 'u1', sessionId: `${A}:${bram}`, userId: bram, tenantId: B })],
      ['B\'s person assigned in A\'s Teams', (c) => c.tenants[0]!.teamsAssignments.push({ number: 'tel:+31201240002', userId: bram })],
      ['B\'s number in A\'s Teams', (c) => c.tenants[0]!.teamsAssignments.push({ number: 'tel:+31201250002', userId: anna })],
      ['B\'s person with voice in A\'s Teams', (c) => c.tenants[0]!.teamsVoice.push(bram)],
      ['B\'s number in A\'s inventory', (c) => c.tenants[0]!.inventory.push({ number: '+31201250003', userId: null })],
      ['a dead letter of B\'s person attributed to A', (c) => c.deadLetters.push({ queue: 'user-changes', userId: bram, tenantId: A })],
      ['a log line of A\'s person naming B', (c) => c.logs.push({ where: 'log line 2', userId: anna, tenantId: B })],
    ];
    for (const [why, cross] of crossings) {
      const broken = structuredClone(clean);
      cross(broken);
      expect(noCrossing(broken), why).toMatchObject({ ok: false });
    }
  });

  it('merges per-tenant invariants: held only when held in every tenant, not applicable only when in none (the graph backend\'s certificate invariants)', () => {
    const na = { ok: true, applies: false as const, detail: 'does not apply: no worker' };
    const merged = mergeTenantInvariants([
      { tenantId: 'aaaaaaaa-1', invariants: [{ name: 'x', ok: true, detail: 'fine' }, { name: certificateInvariantNames[0], ...na }, { name: 'scan', ok: true, detail: 'all scanned' }] },
      { tenantId: 'bbbbbbbb-2', invariants: [{ name: 'x', ok: false, detail: 'broken' }, { name: certificateInvariantNames[0], ...na }] },
    ]);
    expect(merged.map((i) => i.name)).toEqual(['x', certificateInvariantNames[0], 'scan']);
    expect(merged[0]).toMatchObject({ ok: false, detail: 'tenant aaaaaaaa: fine | tenant bbbbbbbb: broken' });
    expect(merged[0]).not.toHaveProperty('applies');
    expect(merged[1]).toMatchObject({ ok: true, applies: false, detail: 'does not apply: no worker' });
    expect(merged[2]).toMatchObject({ ok: true, detail: 'all scanned' });
    // One tenant where it applies: it applies.
    const mixed = mergeTenantInvariants([
      { tenantId: 'a', invariants: [{ name: 'c', ...na }] },
      { tenantId: 'b', invariants: [{ name: 'c', ok: true, detail: 'rotated' }] },
    ]);
    expect(mixed[0]).not.toHaveProperty('applies');
  });
});

describe('npm run chaos --teams-backend mixed', () => {
  it('puts the home tenant and every second registered tenant on Graph, the others on PowerShell, and needs two tenants', async () => {
    expect([0, 1, 2, 3, 4].map((i) => tenantBackendOf('mixed', i))).toEqual(['graph', 'powershell', 'graph', 'powershell', 'graph']);
    expect([0, 1, 2].map((i) => tenantBackendOf('graph', i))).toEqual(['graph', 'graph', 'graph']);
    expect([0, 1, 2].map((i) => tenantBackendOf('powershell', i))).toEqual(['powershell', 'powershell', 'powershell']);
    expect(chaosOptionsProblem({ people: 8, teamsBackend: 'mixed' })).toMatch(/mixed Teams backend needs --tenants 2 or more/);
    expect(chaosOptionsProblem({ people: 8, tenants: 2, teamsBackend: 'mixed' })).toBeUndefined();
    await expect(runChaos({ seed: 3, people: 8, tenants: 1, teamsBackend: 'mixed' })).rejects.toThrow(/needs --tenants 2 or more/);
  });

  it('refuses --teams-backend mixed without --tenants 2 or more with exit code 2', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'test/chaos/main.ts', '--teams-backend', 'mixed', '--people', '4'], { cwd: root, encoding: 'utf8', timeout: 240_000 });
    expect(run.status, run.stderr).toBe(2);
    expect(run.stderr).toContain('the mixed Teams backend needs --tenants 2 or more');
  }, 300_000);

  it('serves the Graph tenant through graphVoice and the PowerShell tenant through the workers, and checks the certificate invariants for the PowerShell tenant only', async () => {
    const seen: Parameters<typeof checkInvariants>[0][] = [];
    const result = await runChaos({ seed: 3, people: 8, tenants: 2, teamsBackend: 'mixed', tamper: (o) => void seen.push(o) });
    expect(result.teamsBackend).toBe('mixed');
    expect(result.tenants.map((t) => t.teamsBackend)).toEqual(['graph', 'powershell']);
    expect(result.invariants.map((i) => i.name)).toHaveLength(14);
    for (const inv of result.invariants) expect(inv, `${inv.name}: ${inv.detail}`).toMatchObject({ ok: true });
    // Checked (in the PowerShell tenant): neither merged invariant is not applicable.
    const certificate = result.invariants.filter((i) => (certificateInvariantNames as readonly string[]).includes(i.name));
    expect(certificate).toHaveLength(2);
    for (const inv of certificate) {
      expect(inv).not.toHaveProperty('applies');
      expect(inv.detail).toMatch(/^tenant [0-9a-f]{8}: does not apply: this tenant is on the graph Teams backend .* \| tenant c4a05001: (?!does not apply)/);
    }
    // The Graph tenant: no certificate, and why; the PowerShell tenant: its own rotated, its workers connected to it.
    expect(seen[0]!.certificates).toBeUndefined();
    expect(seen[0]!.certificatesNotApplicable).toMatch(/graph Teams backend/);
    expect(seen[1]!.certificates?.rotation.completed).toBe(true);
    expect(seen[1]!.certificates!.connects.length).toBeGreaterThan(0);
    expect(result.faults['certificate:rotations']).toBe(1);
    expect(result.faults).toHaveProperty('worker:killed');
    expect(result.faults).toHaveProperty('clock:skewedWorkerHost', 1);
    // The Graph tenant's commands met the /admin/teams faults.
    const adminFaults = Object.entries(result.faults).filter(([k]) => k.endsWith('/admin/teams')).reduce((a, [, v]) => a + v, 0);
    expect(adminFaults).toBeGreaterThan(0);
  }, 300_000);
});
