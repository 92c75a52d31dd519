import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialtone as runCli } from '../helpers/cli.js';
import { bareTenantDir, items, ndjson, statuses, tenantVoice } from './fixtures.js';

let dir: string;

const dialtone = (...args: string[]) => runCli(args);

const everything = [
  'pstnUsage:NL-Local',
  'voiceRoute:NL-All',
  'voiceRoutingPolicy:VRP-NL',
  'dialPlan:DP-NL',
  'callingLineIdentity:CLI-Sales',
  'callingLineIdentity:CLI-Support',
];

beforeAll(async () => {
  dir = await bareTenantDir('dialtone-tenant-', {
    'events.ndjson': ndjson([
      { eventId: 't1', type: 'joiner', occurredAt: '2026-11-02T08:00:00Z', person: { employeeId: 'E1001', departmentId: 'DEPT001', site: 'AMS' } },
      { eventId: 't2', type: 'joiner', occurredAt: '2026-11-02T08:05:00Z', person: { employeeId: 'E1002', departmentId: 'DEPT002', site: 'RTM' } },
    ]),
  });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('dialtone tenant plan|apply|status on a sandbox tenant with no voice configuration', () => {
  const state = () => join(dir, 'state');
  const config = () => join(dir, 'tenant-voice.yaml');

  it('sets the tenant up, so the next sandbox run provisions people; a second apply finds everything in place; a hand-made change is drift', async () => {
    const created = await dialtone('sandbox', 'run', '--tenant', join(dir, 'tenant.json'), '--events', join(dir, 'empty.ndjson'), '--state', state(), '--json');
    expect(JSON.parse(created.out).users).toHaveLength(2);

    const before = await dialtone('tenant', 'status', '--config', config(), '--sandbox', state(), '--json');
    expect(before.code).toBe(1);
    expect(statuses(before.out)).toEqual(everything.map((i) => `${i}=drifted`));
    expect(items(before.out)[1]!.detail).toBe('missing: the tenant has no voice route NL-All');

    const planned = await dialtone('tenant', 'plan', '--config', config(), '--sandbox', state(), '--json');
    expect(statuses(planned.out)).toEqual(everything.map((i) => `${i}=created`));
    expect(items(planned.out)[0]!.detail).toBe('would create with Set-CsOnlinePstnUsage');
    // plan changed nothing
    expect((await dialtone('tenant', 'status', '--config', config(), '--sandbox', state(), '--json')).code).toBe(1);

    const applied = await dialtone('tenant', 'apply', '--config', config(), '--sandbox', state(), '--json');
    expect(applied.err).toBe('');
    expect(applied.code).toBe(0);
    expect(statuses(applied.out)).toEqual(everything.map((i) => `${i}=created`));

    const again = await dialtone('tenant', 'apply', '--config', config(), '--sandbox', state(), '--json');
    expect(again.code).toBe(0);
    expect(statuses(again.out)).toEqual(everything.map((i) => `${i}=already_exists`));

    const run = await dialtone('sandbox', 'run', '--tenant', join(dir, 'tenant.json'), '--events', join(dir, 'events.ndjson'), '--numbers', 'sandbox/data/numbers.json', '--state', state(), '--json');
    const report = JSON.parse(run.out) as { users: { userPrincipalName: string; teams: { enterpriseVoiceEnabled: boolean; lineUri: string | null; policies: Record<string, string | null> } }[]; deadLetters: unknown[] };
    expect(report.deadLetters).toEqual([]);
    const anna = report.users.find((u) => u.userPrincipalName.startsWith('anna'))!;
    const bram = report.users.find((u) => u.userPrincipalName.startsWith('bram'))!;
    expect(anna.teams).toMatchObject({ enterpriseVoiceEnabled: true, lineUri: 'tel:+31201234000' });
    expect(anna.teams.policies).toMatchObject({ CallingLineIdentity: 'CLI-Sales', OnlineVoiceRoutingPolicy: 'VRP-NL', TenantDialPlan: 'DP-NL' });
    expect(bram.teams).toMatchObject({ enterpriseVoiceEnabled: true, lineUri: 'tel:+31101234500' });
    expect(bram.teams.policies).toMatchObject({ CallingLineIdentity: 'CLI-Support' });

    // A hand-made change in the tenant: someone re-prioritised the route and edited a rule.
    const file = join(state(), 'sandbox-state.json');
    const saved = JSON.parse(await readFile(file, 'utf8'));
    saved.teams.voiceRouting.voiceRoutes[0].priority = 7;
    saved.teams.voiceRouting.dialPlans[0].normalizationRules[0].translation = '+310$1';
    await writeFile(file, JSON.stringify(saved));

    const drift = await dialtone('tenant', 'status', '--config', config(), '--sandbox', state(), '--json');
    expect(drift.code).toBe(1);
    expect(statuses(drift.out)).toEqual(
      everything.map((i) => (i === 'voiceRoute:NL-All' || i === 'dialPlan:DP-NL' ? `${i}=drifted` : `${i}=already_exists`)),
    );
    expect(items(drift.out)[1]!.detail).toBe('priority: 7 → 1');
    expect(items(drift.out)[3]!.detail).toContain('NL-national ^0(\\d{9})$ → +310$1');

    const repaired = await dialtone('tenant', 'apply', '--config', config(), '--sandbox', state(), '--json');
    expect(statuses(repaired.out)).toEqual(
      everything.map((i) => (i === 'voiceRoute:NL-All' || i === 'dialPlan:DP-NL' ? `${i}=updated` : `${i}=already_exists`)),
    );
    expect((await dialtone('tenant', 'status', '--config', config(), '--sandbox', state())).code).toBe(0);
  }, 120_000);

  it('exits 2 naming the file and the field when the tenant voice file is unusable', async () => {
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, tenantVoice.replace('priority: 1', 'priority: high'));
    const result = await dialtone('tenant', 'apply', '--config', bad, '--sandbox', state(), '--json');
    expect(result.code).toBe(2);
    expect(result.out).toBe('');
    expect(result.err).toBe(`dialtone: ${bad}: voiceRoutes[0].priority: expected a priority (a whole number, 0 first)`);
  });
});
