import { describe, expect, it } from 'vitest';
import { dialtone } from '../helpers/cli.js';
import { createStaticPolicyCatalog } from '../../shared/adapters/file-policy-catalog.js';
import { createGraphDirectory } from '../../shared/adapters/graph-directory.js';
import { createGraphTeamsAdmin } from '../../shared/adapters/graph-teams-admin.js';
import { parseVoicePolicy, type VoicePolicy } from '../../shared/domain/policy.js';
import type { PlanDeps } from '../../shared/usecases/plan-voice.js';
import type { Sandbox } from '../../sandbox/host/sandbox.js';
import { hrEvent, inputs, played, tenantWith, user } from '../integration/sandbox-fixtures.js';

const U1 = '00000000-0000-4000-8000-000000000001';
const U2 = '00000000-0000-4000-8000-000000000002';

const siteOnlyPolicy = parseVoicePolicy(
  ['version: 1', 'defaults:', '  policies: { TenantDialPlan: DP-NL }', 'rules:', '  - name: rotterdam', '    when: { site: RTM }', '    numberPool: rtm'].join('\n'),
  'yaml',
  'site-only.yaml',
);

function planDeps(sandbox: Sandbox, policy = sandbox.inputs.policy): PlanDeps {
  return {
    directory: createGraphDirectory({ baseUrl: sandbox.graph.baseUrl, accessToken: async () => 'token' }),
    records: sandbox.records,
    inventory: sandbox.inventory,
    catalog: createStaticPolicyCatalog([
      { identity: 'Tag:CLI-Sales', description: 'DEPT001' },
      { identity: 'Tag:CLI-Support', description: 'DEPT002' },
    ]),
    policy,
    clock: sandbox.clock,
    snapshotMaxAgeMs: 0,
    reservationTtlMs: 0,
    teams: createGraphTeamsAdmin({ baseUrl: sandbox.graph.baseUrl, accessToken: async () => 'token' }),
  };
}

async function dryRun(args: string[], policy?: VoicePolicy, change?: (sandbox: Sandbox) => void, dirk: Record<string, unknown> = {}) {
  const tenant = tenantWith([
    user(U1, 'carla@contoso.example', 'E1'),
    user(U2, 'dirk@contoso.example', 'E2', { department: 'Support', officeLocation: 'RTM', ...dirk }),
  ]);
  const events = [hrEvent('e1', 'joiner', '2026-11-02T08:00:00Z', { employeeId: 'E1', site: 'AMS', departmentId: 'DEPT001' })];
  const out: string[] = [];
  let freeBefore = 0;
  let freeAfter = 0;
  await played(inputs({ tenant, eventLines: events }), {}, async (sandbox) => {
    change?.(sandbox);
    freeBefore = (await sandbox.inventory.list({ state: 'free' })).length;
    const run = await dialtone(['plan', ...args], { plan: async () => planDeps(sandbox, policy ?? sandbox.inputs.policy) });
    out.push(run.out, run.err);
    freeAfter = (await sandbox.inventory.list({ state: 'free' })).length;
  });
  return { out: out.join('\n'), freeBefore, freeAfter };
}

describe('dialtone plan (dry run)', () => {
  it('says nothing would change for a provisioned person', async () => {
    const { out } = await dryRun(['carla@contoso.example']);
    expect(out).toContain('number: +31201234000 from pool ams');
    expect(out).toContain('no change: plan would send nothing');
  });

  it('shows the number a person not yet provisioned would get, without reserving it', async () => {
    const { out, freeBefore, freeAfter } = await dryRun(['dirk@contoso.example'], siteOnlyPolicy);
    expect(out).toContain('number: +31101234500 from pool rtm');
    expect(out).toContain('changes: nothing applied yet');
    expect(freeAfter).toBe(freeBefore);
  });

  it('explains why it would not send a command', async () => {
    const { out } = await dryRun(['dirk@contoso.example']);
    expect(out).toContain('would not send a command: CallingLineIdentityNotFound: dirk@contoso.example: the person has no departmentId');
  });

  it("shows Teams' live state next to the desired one, and where Teams differs", async () => {
    const matches = await dryRun(['carla@contoso.example']);
    expect(matches.out).toMatch(/live in Teams: Enterprise Voice on, number \+31201234000, .*TenantDialPlan=DP-NL.* \(featureTypes: PhoneSystem, Teams\)/);
    expect(matches.out).toContain('Teams already matches the desired state');
    // Someone took Carla's number away in Teams by hand: Dialtone's record still says applied.
    const drifted = await dryRun(['carla@contoso.example'], undefined, (sandbox) => {
      sandbox.teams?.tenant.removeNumber('Remove-CsPhoneNumberAssignment', U1, 'all');
    });
    expect(drifted.out).toContain('no change: plan would send nothing');
    expect(drifted.out).toMatch(/Teams differs \(Teams now → desired\): Enterprise Voice off → on; number none → \+31201234000/);
  });

  it('shows that Teams has not provisioned PhoneSystem yet, and that plan waits for it', async () => {
    const { out } = await dryRun(['dirk@contoso.example'], siteOnlyPolicy, undefined, { teamsProvisioningLagMs: 48 * 60 * 60_000 });
    expect(out).toContain('would not send a command: TeamsNotProvisioned: dirk@contoso.example: Entra ID shows Teams Phone, but Teams does not list the PhoneSystem feature yet');
    expect(out).toContain('live in Teams: Enterprise Voice off, number none (featureTypes: Teams; PhoneSystem not provisioned yet)');
  });
});
