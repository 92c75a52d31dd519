import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dialtone } from '../helpers/cli.js';

async function run(args: string[]) {
  const { out, err, code } = await dialtone(['sandbox', 'run', ...args]);
  // A slow machine prints the progress heartbeat ("sandbox run: reading the inputs (10 s)") before the error: not part of what is asserted.
  return { out: out === '' ? [] : out.split('\n'), err: err.split('\n').filter((line) => !line.startsWith('dialtone: sandbox run: ')), code };
}

describe('dialtone sandbox run with unusable inputs', () => {
  it('exits 2 naming the tenant file and the field', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dialtone-inputs-'));
    try {
      const tenant = join(dir, 'tenant.json');
      await writeFile(tenant, JSON.stringify({ tenantId: 't', users: [{ id: 'u1' }] }));
      const { err, code, out } = await run(['--tenant', tenant, '--events', 'sandbox/data/hr-events.ndjson', '--storage', 'memory']);
      expect(code).toBe(2);
      expect(out).toEqual([]);
      expect(err[0]).toBe(`dialtone: tenant file ${tenant}: users.0.userPrincipalName: Invalid input: expected string, received undefined`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('exits 2 naming the policy file and the field when a when names an attribute nothing supplies (a typo)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dialtone-inputs-'));
    try {
      const policy = join(dir, 'typo.yaml');
      await writeFile(policy, 'version: 1\nrules:\n  - { name: amsterdam, when: { sight: AMS }, numberPool: ams }\n');
      const { err, code, out } = await run(['--tenant', 'sandbox/data/tenant.json', '--events', 'sandbox/data/hr-events.ndjson', '--policy', policy, '--storage', 'memory']);
      expect(code).toBe(2);
      expect(out).toEqual([]);
      expect(err[0]).toContain(`policy file ${policy}: `);
      expect(err[0]).toContain("rules[0].when.sight: unknown attribute 'sight'");
      expect(err[0]).toContain("did you mean 'site'?");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('exits 2 when the events file cannot be read', async () => {
    const { err, code } = await run(['--tenant', 'sandbox/data/tenant.json', '--events', '/nonexistent/events.ndjson', '--storage', 'memory']);
    expect(code).toBe(2);
    expect(err[0]).toBe('dialtone: events file /nonexistent/events.ndjson: cannot be read (ENOENT)');
  });

  it('exits 2 naming the numbers file and the field', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dialtone-inputs-'));
    try {
      const numbers = join(dir, 'numbers.json');
      await writeFile(numbers, JSON.stringify({ pools: [{ id: 'ams', ranges: [{ from: 'tel:+31201234000', to: '+31201234099' }] }] }));
      const { err, code } = await run(['--tenant', 'sandbox/data/tenant.json', '--events', 'sandbox/data/hr-events.ndjson', '--numbers', numbers, '--storage', 'memory']);
      expect(code).toBe(2);
      expect(err[0]).toMatch(new RegExp(`^dialtone: numbers file ${numbers.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: pools\\.0\\.ranges\\.0\\.from: must be E\\.164`));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('dialtone sandbox run in the list formats', () => {
  const sample = ['--tenant', 'sandbox/data/tenant.json', '--events', 'sandbox/data/hr-events.ndjson', '--numbers', 'sandbox/data/numbers.json', '--storage', 'memory'];
  interface Report {
    users: { id: string; userPrincipalName: string; teams: { lineUri: string | null } }[];
    numbers: { number: string; state: string; userId: string | null }[];
    deadLetters: { queue: string; reason: string }[];
    metrics: { eventsIn: number };
  }

  it('-o tsv prints a row per user, number and dead letter, and one of metrics, each kind with its own fixed columns', async () => {
    const report = JSON.parse((await dialtone(['sandbox', 'run', ...sample, '--json'])).out) as Report;
    const { out, code } = await dialtone(['sandbox', 'run', ...sample, '-o', 'tsv']);
    expect(code).toBe(0);
    const rows = out.split('\n').map((line) => line.split('\t'));
    const of = (kind: string) => rows.filter((r) => r[0] === kind);
    expect(new Set(rows.map((r) => r[0]))).toEqual(new Set(['user', 'number', 'deadLetter', 'metrics']));
    // kind, id, userPrincipalName, enterpriseVoiceEnabled, lineUri, policies, tenantId
    expect(of('user').map((r) => [r.length, r[1], r[2], r[4]])).toEqual(report.users.map((u) => [7, u.id, u.userPrincipalName, u.teams.lineUri ?? '']));
    // kind, number, pool, state, userId, tenantId
    expect(of('number').map((r) => [r.length, r[1], r[3], r[4]])).toEqual(report.numbers.map((n) => [6, n.number, n.state, n.userId ?? '']));
    // kind, queue, reason, description, body, tenantId
    expect(report.deadLetters.length).toBeGreaterThan(0);
    expect(of('deadLetter').map((r) => [r.length, r[1], r[2]])).toEqual(report.deadLetters.map((d) => [6, d.queue, d.reason]));
    // kind, eventsIn, graphRequests, cmdlets, writeCmdlets, connects, simulatedMs
    expect(of('metrics').map((r) => [r.length, r[1]])).toEqual([[7, String(report.metrics.eventsIn)]]);
  }, 120_000);

  it('-o jsonl prints the same rows as JSON objects with their kind', async () => {
    const { out, code } = await dialtone(['sandbox', 'run', ...sample, '-o', 'jsonl']);
    expect(code).toBe(0);
    const rows = out.split('\n').map((line) => JSON.parse(line) as { kind: string; userPrincipalName?: string; teams?: unknown; number?: string; reason?: string; eventsIn?: number });
    const anna = rows.find((r) => r.kind === 'user' && r.userPrincipalName === 'anna.devries@contoso.example');
    expect(anna?.teams).toMatchObject({ enterpriseVoiceEnabled: true });
    expect(rows.filter((r) => r.kind === 'number').every((r) => typeof r.number === 'string')).toBe(true);
    expect(rows.filter((r) => r.kind === 'deadLetter').every((r) => typeof r.reason === 'string')).toBe(true);
    expect(rows.filter((r) => r.kind === 'metrics').map((r) => typeof r.eventsIn)).toEqual(['number']);
  }, 120_000);
});
