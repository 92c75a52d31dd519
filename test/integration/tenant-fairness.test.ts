/**
 * Issue 16, item 3, end to end: one tenant's throttling or broken certificate never stalls another.
 * Two tenants in one sandbox deployment, sharing the worker's receivers and sessions. Tenant A
 * (Fabrikam) is throttled by Teams ("session availability is Busy") for two sandbox hours, or its
 * certificate cannot be loaded from Key Vault; tenant B (Contoso) is healthy. B's joiners complete
 * in the same sandbox time as when B runs alone, and A's are neither lost nor dead-lettered: they
 * complete once A is back. Asserted on the sandbox clock and on order, never on wall clock.
 */
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { loadSandboxInputs, type SandboxInputs } from '../../sandbox/host/inputs.js';
import { Sandbox, type SandboxOptions } from '../../sandbox/host/sandbox.js';
import { DialtoneError } from '../../shared/domain/errors.js';
import type { CertificateSource } from '../../worker/certificate.js';
import { ephemeralCertificateSource } from '../../worker/ephemeral-certificate.js';
import { fieldLatencyModel } from '../../sandbox/latency-model.js';

const data = (name: string) => fileURLToPath(new URL(`../../sandbox/data/tenants/${name}`, import.meta.url));
const CONTOSO = '8f0c2a53-5d0e-4c1b-9a57-2f1f0e6f0001';
const FABRIKAM = '5c1e7b42-9a3d-4f60-8e21-7d4b3c2a0002';
const B = CONTOSO;
const A = FABRIKAM;
const HOUR = 3_600_000;
const PEOPLE = 6;
const domain = { [CONTOSO]: 'contoso.example', [FABRIKAM]: 'fabrikam.example' } as const;
const site = { [CONTOSO]: 'AMS', [FABRIKAM]: 'FAB-AMS' } as const;
const idPrefix = { [CONTOSO]: '3b7d1c9e-0d2a-4c55-8d0e-0000000002', [FABRIKAM]: '7e2a4f10-0d2a-4c55-8d0e-0000000002' } as const;
const personId = (tenantId: typeof A | typeof B, n: number) => `${idPrefix[tenantId]}${String(n).padStart(2, '0')}`;

const running: Sandbox[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.stop();
});

/** The bundled two tenants with PEOPLE licensed joiners each (the same employee ids in both). */
async function twoTenantInputs(joinersOf: readonly (typeof A | typeof B)[]): Promise<SandboxInputs> {
  const inputs = await loadSandboxInputs({ tenant: data('contoso.json'), extraTenants: [data('fabrikam.json')], events: data('hr-events.ndjson'), policy: data('voice-policy.yaml'), numbers: data('numbers.json') });
  const withPeople = <T extends { tenantId: string; users: unknown[] }>(file: T): T => {
    const tenantId = file.tenantId as typeof A | typeof B;
    const users = Array.from({ length: PEOPLE }, (_, i) => ({
      id: personId(tenantId, i + 1),
      userPrincipalName: `joiner${i + 1}@${domain[tenantId]}`,
      mail: `joiner${i + 1}@${domain[tenantId]}`,
      employeeId: `E2${String(i + 1).padStart(3, '0')}`,
      displayName: `Joiner ${i + 1}`,
      department: 'Sales',
      officeLocation: site[tenantId],
      accountEnabled: true,
      usageLocation: 'NL',
      servicePlans: ['TEAMS1', 'MCOEV'],
      teams: { enterpriseVoiceEnabled: false, lineUri: null, policies: {} },
    }));
    return { ...file, users: [...file.users, ...users] };
  };
  const eventLines = joinersOf.flatMap((tenantId) =>
    Array.from({ length: PEOPLE }, (_, i) =>
      JSON.stringify({
        eventId: `${tenantId.slice(0, 8)}-join-${i + 1}`,
        tenantId,
        type: 'joiner',
        occurredAt: '2026-11-02T08:00:00Z',
        person: { employeeId: `E2${String(i + 1).padStart(3, '0')}`, userPrincipalName: `joiner${i + 1}@${domain[tenantId]}`, departmentId: 'DEPT001', site: site[tenantId] },
      }),
    ),
  );
  return { ...inputs, tenant: withPeople(inputs.tenant), extraTenants: (inputs.extraTenants ?? []).map(withPeople), eventLines };
}

interface Outcome {
  sandbox: Sandbox;
  /** Sandbox ms from the start at which `record` confirmed each person's voice, by tenant. */
  appliedAt: Record<string, number[]>;
}

async function play(joinersOf: readonly (typeof A | typeof B)[], options: SandboxOptions = {}): Promise<Outcome> {
  const inputs = await twoTenantInputs(joinersOf);
  const sandbox = await Sandbox.start(inputs, { storage: 'memory', ...options });
  running.push(sandbox);
  await sandbox.enqueueEvents(inputs.eventLines);
  await sandbox.runUntilQuiet();
  const appliedAt: Record<string, number[]> = { [A]: [], [B]: [] };
  for (const tenantId of [A, B] as const) {
    if (!joinersOf.includes(tenantId)) continue;
    for (let n = 1; n <= PEOPLE; n++) {
      const record = await sandbox.records.get(personId(tenantId, n));
      const applied = record?.history.find((h) => h.stage === 'record' && h.outcome === 'applied');
      expect(applied, `${tenantId} joiner ${n}: ${JSON.stringify(record?.history.map((h) => `${h.stage}:${h.outcome}:${h.detail}`))}`).toBeDefined();
      appliedAt[tenantId]!.push(Date.parse(applied!.at) - sandbox.clock.startedAt);
    }
  }
  return { sandbox, appliedAt };
}

const last = (xs: number[]) => Math.max(...xs);
const first = (xs: number[]) => Math.min(...xs);

describe('one tenant throttled beside a healthy one', () => {
  it("completes the healthy tenant's joiners in the same sandbox time as alone, and the throttled tenant's once it is back, none lost or dead-lettered", async () => {
    const alone = await play([B]);
    const bAlone = last(alone.appliedAt[B]!);
    await alone.sandbox.stop();

    const throttledFor = 2 * HOUR;
    // A's joiners come first on the queue: the broker offers their sessions before B's.
    const beside = await play([A, B], { teams: { faults: [{ kind: 'busy', tenantId: A, untilMs: throttledFor }] } });
    const bBeside = last(beside.appliedAt[B]!);
    const report = await beside.sandbox.report();
    console.info(`tenant fairness (throttled): B alone done at ${bAlone} sandbox ms; beside A throttled for ${throttledFor} ms: B done at ${bBeside}, A done at ${last(beside.appliedAt[A]!)}`);

    // B is served as if A were not there: within one session connect of its time alone (the one
    // connect of A's that finds A throttled holds shared receivers meanwhile), and long before A is back.
    expect(bBeside).toBeLessThanOrEqual(bAlone + fieldLatencyModel.connectMs);
    expect(bBeside).toBeLessThan(throttledFor);
    // A: every joiner has voice, each applied only after A was back, none dead-lettered.
    expect(first(beside.appliedAt[A]!)).toBeGreaterThanOrEqual(throttledFor);
    for (let n = 1; n <= PEOPLE; n++) expect(beside.sandbox.teams!.tenants[1]!.user(personId(A, n))?.lineUri).toMatch(/^tel:\+31205550/);
    expect(report.deadLetters).toEqual([]);
    // The Teams stand-in did refuse A meanwhile: the fault really fired.
    expect(beside.sandbox.teams!.metrics().faultsByKind['busy'] ?? 0).toBeGreaterThan(0);
    const deferred = beside.sandbox.workerStats().reduce((n, w) => n + w.consumer.deferred, 0);
    expect(deferred).toBeGreaterThanOrEqual(PEOPLE);
  }, 300_000);
});

describe("one tenant's certificate broken beside a healthy one", () => {
  it("completes the healthy tenant's joiners as alone, and the broken tenant's once its certificate loads again, none dead-lettered", async () => {
    const alone = await play([B]);
    const bAlone = last(alone.appliedAt[B]!);
    await alone.sandbox.stop();

    const brokenFor = HOUR;
    const state: { sandbox?: Sandbox } = {};
    const good = ephemeralCertificateSource({ now: new Date('2026-11-02T08:00:00Z'), validDays: 3650 });
    const flaky: CertificateSource = {
      description: "Fabrikam's certificate in Key Vault",
      load: async () => {
        const elapsed = state.sandbox ? state.sandbox.clock.elapsedMs() : 0;
        if (elapsed < brokenFor) throw new DialtoneError('CertificateInvalid', 'Key Vault refused getSecret(fabrikam-teams): Forbidden (the worker identity lost Key Vault Secrets User)');
        return good.load();
      },
    };
    const inputs = await twoTenantInputs([A, B]);
    const sandbox = await Sandbox.start(inputs, { storage: 'memory', tenantCertificates: (tenantId) => (tenantId === A.toLowerCase() ? flaky : undefined) });
    state.sandbox = sandbox;
    running.push(sandbox);
    await sandbox.enqueueEvents(inputs.eventLines);
    await sandbox.runUntilQuiet();
    const at = async (tenantId: string, n: number) => {
      const record = await sandbox.records.get(personId(tenantId as typeof A, n));
      const applied = record?.history.find((h) => h.stage === 'record' && h.outcome === 'applied');
      expect(applied, `${tenantId} joiner ${n}: ${JSON.stringify(record?.history.map((h) => `${h.stage}:${h.outcome}:${h.detail}`))}`).toBeDefined();
      return Date.parse(applied!.at) - sandbox.clock.startedAt;
    };
    const bTimes: number[] = [];
    const aTimes: number[] = [];
    for (let n = 1; n <= PEOPLE; n++) {
      bTimes.push(await at(B, n));
      aTimes.push(await at(A, n));
    }
    console.info(`tenant fairness (certificate): B alone done at ${bAlone} sandbox ms; beside A without a certificate for ${brokenFor} ms: B done at ${last(bTimes)}, A done at ${last(aTimes)}`);
    expect(last(bTimes)).toBeLessThanOrEqual(bAlone + fieldLatencyModel.connectMs);
    expect(last(bTimes)).toBeLessThan(brokenFor);
    expect(first(aTimes)).toBeGreaterThanOrEqual(brokenFor);
    expect((await sandbox.report()).deadLetters).toEqual([]);
  }, 300_000);
});

describe("one tenant's certificate throttled by Key Vault when a command loads it again", () => {
  it('waits the 429s out on the sandbox clock inside the session start without holding the clock, and the tenant\'s joiners complete', async () => {
    const state: { sandbox?: Sandbox; loads: number } = { loads: 0 };
    const good = ephemeralCertificateSource({ now: new Date('2026-11-02T08:00:00Z'), validDays: 3650 });
    // Refused at the workers' start (so a command loads it again), then throttled twice with Retry-After 30 s.
    const throttledAt: number[] = [];
    const flaky: CertificateSource = {
      description: "Fabrikam's certificate in Key Vault",
      load: async () => {
        state.loads += 1;
        if (!state.sandbox) throw new DialtoneError('CertificateInvalid', 'Key Vault is unavailable (503) at the start');
        if (throttledAt.length < 2) {
          throttledAt.push(state.sandbox.clock.elapsedMs());
          throw new DialtoneError('Throttled', "Fabrikam's certificate cannot be read now: Key Vault answered 429 (throttled), retry after 30 s.", { transient: true, retryAfterMs: 30_000 });
        }
        return good.load();
      },
    };
    const inputs = await twoTenantInputs([A, B]);
    const sandbox = await Sandbox.start(inputs, { storage: 'memory', stallTimeoutMs: 5_000, tenantCertificates: (tenantId) => (tenantId === A.toLowerCase() ? flaky : undefined) });
    state.sandbox = sandbox;
    running.push(sandbox);
    await sandbox.enqueueEvents(inputs.eventLines);
    await sandbox.runUntilQuiet();
    expect(throttledAt).toHaveLength(2);
    // The second try came after the first Retry-After, on the sandbox clock.
    expect(throttledAt[1]! - throttledAt[0]!).toBeGreaterThanOrEqual(30_000);
    for (let n = 1; n <= PEOPLE; n++) {
      expect(sandbox.teams!.tenants[1]!.user(personId(A, n))?.lineUri).toMatch(/^tel:\+31205550/);
    }
    expect((await sandbox.report()).deadLetters).toEqual([]);
  }, 120_000);
});
