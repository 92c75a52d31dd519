import { describe, expect, it } from 'vitest';
import { Sandbox } from '../../sandbox/host/sandbox.js';
import { SandboxTenantFileSchema } from '../../sandbox/teams-sim/tenant-file.js';
import { hrEvent, inputs, sampleTenant } from '../integration/sandbox-fixtures.js';
import { checkInvariants, type Observed } from './invariants.js';
import { certificateWorkers, observeCertificates, prepareCertificates, scheduleRotation } from './rotation.js';

const MINUTE = 60_000;
const START = Date.parse('2026-11-02T08:00:00Z');
const ROTATE_AT = START + 30 * MINUTE;

/** The certificate invariants alone (the rest of an observation is empty). */
function certificateVerdicts(certificates: Observed['certificates'], deadLetters: Observed['deadLetters'] = []) {
  const none: Observed = {
    people: [],
    teams: new Map(),
    assignments: [],
    inventory: [],
    deadLetters,
    recordedEventIds: new Set(),
    inputEventIds: [],
    leftOnQueues: 0,
    faults: {},
    retries: {},
    policy: undefined as unknown as Observed['policy'],
    catalog: { callingLineIdentities: [] } as unknown as Observed['catalog'],
    pools: [],
    ...(certificates ? { certificates } : {}),
  };
  return Object.fromEntries(checkInvariants(none).filter((i) => i.name.includes('certificate')).map((i) => [i.name, i]));
}

describe('certificate rotation in the sandbox under Key Vault outages (the chaos run\'s rotation, alone)', () => {
  it('completes through every outage, moves every worker and warm session to the new certificate, and no connect is refused', async () => {
    const tenant = SandboxTenantFileSchema.parse(sampleTenant());
    for (const u of tenant.users) {
      u.servicePlans = ['TEAMS1', 'MCOEV'];
      delete u.licensedAfterMs;
    }
    const at = (min: number) => new Date(START + min * MINUTE).toISOString();
    const sites = ['AMS', 'RTM'];
    // Joiners before the rotation, then movers every 20 minutes through it and after the old key is gone.
    const lines = [
      hrEvent('j1', 'joiner', at(0), { employeeId: 'E1001', departmentId: 'DEPT001', site: 'AMS' }),
      hrEvent('j2', 'joiner', at(1), { employeeId: 'E1002', departmentId: 'DEPT002', site: 'RTM' }),
      ...Array.from({ length: 14 }, (_, k) => [
        hrEvent(`m${k}a`, 'mover', at(20 + k * 20), { employeeId: 'E1001', departmentId: 'DEPT001', site: sites[(k + 1) % 2] }),
        hrEvent(`m${k}b`, 'mover', at(21 + k * 20), { employeeId: 'E1002', departmentId: 'DEPT002', site: sites[k % 2] }),
      ]).flat(),
    ];
    const ref: { sandbox?: Sandbox } = {};
    // Deterministic outages only (times: N), so each must have fired exactly as often as its rule says.
    const certificates = await prepareCertificates({ tenant, start: START, clock: () => ref.sandbox?.clock.nowMs() ?? START, seed: 5, rotateAt: ROTATE_AT, noise: 0 });
    const sandbox = await Sandbox.start(inputs({ tenant, eventLines: lines }), {
      storage: 'memory',
      ...certificateWorkers(certificates),
    });
    ref.sandbox = sandbox;
    try {
      scheduleRotation(sandbox, certificates, ROTATE_AT);
      await sandbox.enqueueEvents(lines);
      await sandbox.runUntilQuiet();

      const r = certificates.record;
      // Key Vault was down at the workers' start (2 secret reads) and for one call of each kind during the rotation.
      expect(certificates.vault.metrics().faults).toEqual({ getSecret: 3, latest: 1, create: 1, setEnabled: 1, getCertificate: 2 });
      // Then it throttled the next two secret reads of the start (waited out within the start), each
      // step's retry and two reload checks: each waited out in the same attempt.
      expect(certificates.vault.metrics().throttled).toEqual({ getSecret: 2, latest: 1, create: 1, setEnabled: 1, setTags: 1, getCertificate: 2 });
      expect(sandbox.workers()!.failedStarts()).toBe(2);
      // Each outage failed one attempt, which the operator ran again: latest, create, enable, then done.
      expect(r.attempts.map((a) => a.items.find((i) => i.status === 'failed')?.kind ?? 'done')).toEqual(['application', 'certificate', 'certificate', 'done']);
      expect(r.attempts[3]!.items.map((i) => `${i.kind}:${i.status}`)).toEqual(['certificate:already_exists', 'keyCredential:already_exists', 'workers:updated', 'keyCredential:removed']);
      expect(r.completed).toBe(true);
      expect(r.newThumbprint).toBeDefined();
      expect(r.newThumbprint).not.toBe(r.oldThumbprint);
      expect(sandbox.graph.exportEntra().applications[0]!.keyCredentials.map((k) => k.thumbprint)).toEqual([r.newThumbprint]);

      const observed = await observeCertificates(sandbox, certificates);
      // Warm sessions of the old certificate were retired; commands after the removal connected with the new one.
      expect(observed.connects.some((c) => c.thumbprint === r.oldThumbprint)).toBe(true);
      expect(observed.connects.some((c) => c.thumbprint === r.newThumbprint)).toBe(true);
      expect(observed.connectedThumbprints.length).toBeGreaterThan(0);
      const deadLetters = (await sandbox.report()).deadLetters.map((d) => ({ queue: d.queue, reason: d.reason, description: d.description, eventId: undefined }));
      expect(deadLetters).toEqual([]);
      const verdicts = certificateVerdicts(observed, deadLetters);
      for (const v of Object.values(verdicts)) expect(v, v.detail).toMatchObject({ ok: true });
      expect(Object.keys(verdicts)).toHaveLength(2);

      // The invariants catch a worker left behind: a session still on the old certificate, or a refused connect.
      const behind = certificateVerdicts({ ...observed, connectedThumbprints: [...observed.connectedThumbprints, r.oldThumbprint] });
      expect(behind['every worker session ended on the new certificate']?.ok).toBe(false);
      const refused = certificateVerdicts({ ...observed, connects: [...observed.connects, { atMs: r.oldRemovedAt! + MINUTE, thumbprint: r.oldThumbprint, trusted: false }] });
      expect(refused['every worker session ended on the new certificate']?.ok).toBe(false);
      expect(refused['no command failed for a certificate reason after the overlap']?.ok).toBe(false);
    } finally {
      await sandbox.stop();
    }
  }, 300_000);

  it('control: a worker that never reloads keeps the old certificate, so the rotation keeps the old key and says who is behind', async () => {
    const tenant = SandboxTenantFileSchema.parse(sampleTenant());
    const ref: { sandbox?: Sandbox } = {};
    const certificates = await prepareCertificates({ tenant, start: START, clock: () => ref.sandbox?.clock.nowMs() ?? START, seed: 5, rotateAt: Number.MAX_SAFE_INTEGER, noise: 0 });
    const sandbox = await Sandbox.start(inputs({ tenant, eventLines: [] }), {
      storage: 'memory',
      ...certificateWorkers(certificates),
      workerCount: 1,
      // DIALTONE_CERT_RELOAD off: this worker never looks for a new version.
      workerTuning: { certificateReloadMs: 0 },
    });
    ref.sandbox = sandbox;
    try {
      scheduleRotation(sandbox, certificates, START + MINUTE);
      await sandbox.runFor(4 * 60 * MINUTE);
      const r = certificates.record;
      expect(r.completed).toBe(false);
      expect(r.oldRemovedAt).toBeUndefined();
      const last = r.attempts.at(-1)!;
      expect(last.items.find((i) => i.kind === 'workers')).toMatchObject({ status: 'failed' });
      expect(last.items.find((i) => i.kind === 'workers')!.detail).toContain(r.oldThumbprint);
      // The old key stays beside the new one: nothing stops working.
      expect(sandbox.graph.exportEntra().applications[0]!.keyCredentials.map((k) => k.thumbprint)).toContain(r.oldThumbprint);
      const verdicts = certificateVerdicts(await observeCertificates(sandbox, certificates));
      expect(verdicts['every worker session ended on the new certificate']?.ok).toBe(false);
    } finally {
      await sandbox.stop();
    }
  }, 300_000);
});
