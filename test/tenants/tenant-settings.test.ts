/**
 * Issue 16: a registered tenant's own voice policy and Teams backend, the deployment's when it
 * sets none. plan evaluates each tenant's people with that tenant's policy and sends its commands
 * where its backend consumes them; graphVoice hands a PowerShell tenant's command to the worker.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createStaticPolicyCatalog } from '../../shared/adapters/file-policy-catalog.js';
import { createMemoryNumberInventory } from '../../shared/adapters/memory-number-inventory.js';
import { createMemoryProvisioningRecords } from '../../shared/adapters/memory-provisioning-records.js';
import { MCOEV_SERVICE_PLAN_ID, queueNames, type DirectoryUser, type UserChange, type VoiceCommand } from '../../shared/contracts/messages.js';
import { DialtoneError } from '../../shared/domain/errors.js';
import { parseVoicePolicy, type VoicePolicy } from '../../shared/domain/policy.js';
import { effectiveTenants, implicitTenant, voiceCommandRoute, type Tenant } from '../../shared/domain/tenants.js';
import { silentLogger } from '../../shared/logging/logger.js';
import type { TeamsAdmin } from '../../shared/ports/teams-admin.js';
import { applyVoiceCommandViaGraph, PolicyIdCache } from '../../shared/usecases/apply-voice-graph.js';
import { planVoice, type PlanDeps } from '../../shared/usecases/plan-voice.js';
import { tenantCommandRoutes, tenantVoicePolicies } from '../../shared/usecases/tenant-settings.js';
import { SimClock } from '../../sandbox/clock.js';
import { samplePools } from '../integration/sandbox-fixtures.js';
import { registeredTenant } from './fixtures.js';

const A = '11111111-1111-4111-8111-111111111111';
const B = '22222222-2222-4222-8222-222222222222';
const tenant = registeredTenant;
const clock = new SimClock('2026-11-02T08:00:00Z');
const deploymentPolicy = parseVoicePolicy(readFileSync(fileURLToPath(new URL('../../sandbox/data/voice-policy.yaml', import.meta.url)), 'utf8'), 'yaml', 'voice-policy.yaml');
// Fabrikam's own policy: its Amsterdam people in the rtm pool, its own dial plan.
const fabrikamPolicy = parseVoicePolicy(
  ['version: 1', 'defaults:', '  enterpriseVoice: true', '  policies: { TenantDialPlan: DP-FAB }', 'rules:', '  - name: amsterdam-office-uses-rtm-range', '    when: { site: AMS }', '    numberPool: rtm'].join('\n'),
  'yaml',
  'fabrikam-policy.yaml',
);
const licensed = (id: string): DirectoryUser => ({ id, userPrincipalName: `${id}@example.org`, accountEnabled: true, assignedPlans: [{ servicePlanId: MCOEV_SERVICE_PLAN_ID, capabilityStatus: 'Enabled' }] });
const change = (userId: string, tenantId: string): UserChange => ({
  userId,
  tenantId,
  source: 'hr',
  changeType: 'joiner',
  eventId: `j-${userId}`,
  correlationId: `j-${userId}`,
  occurredAt: clock.now().toISOString(),
  person: { employeeId: 'E1', site: 'AMS', departmentId: 'DEPT001' },
});

async function planner(registered: Tenant[], options: { load?: (ref: string) => Promise<VoicePolicy>; backend?: 'powershell' | 'graph'; pwshQueue?: string } = {}) {
  // A is the deployment's own tenant; B has the same pool ids in its own inventory, with ranges of its own (+32).
  const inventory = createMemoryNumberInventory({ defaultTenantId: A });
  await inventory.forTenant(A).importPools(samplePools(), { now: clock.now(), correlationId: 'import' });
  const shifted = samplePools().map((pool) => ({ ...pool, ranges: pool.ranges.map((r) => ({ ...r, from: r.from.replace('+31', '+32'), to: r.to.replace('+31', '+32') })) }));
  await inventory.forTenant(B).importPools(shifted, { now: clock.now(), correlationId: 'import' });
  const tenants = async () => effectiveTenants(registered, implicitTenant({ tenantId: undefined }));
  const loads: string[] = [];
  const deps: PlanDeps = {
    directory: { findUsers: async () => [], getUser: async (id) => licensed(id) },
    records: createMemoryProvisioningRecords(),
    inventory,
    catalog: createStaticPolicyCatalog([{ identity: 'Tag:CLI-Sales', description: 'DEPT001' }]),
    policy: tenantVoicePolicies({
      tenants,
      deployment: deploymentPolicy,
      load: async (ref) => {
        loads.push(ref);
        return (options.load ?? (async () => fabrikamPolicy))(ref);
      },
    }),
    route: tenantCommandRoutes({ tenants, deployment: { backend: options.backend ?? 'powershell', commandsQueue: queueNames.voiceCommands, pwshQueue: options.pwshQueue } }),
    clock,
    snapshotMaxAgeMs: 300_000,
    reservationTtlMs: 86_400_000,
  };
  return { deps, inventory, loads };
}

describe('a tenant\'s own voice policy', () => {
  it('plans a tenant that names a policy file with that policy, and one that names none with the deployment\'s', async () => {
    const p = await planner([tenant(A, 'Contoso'), tenant(B, 'Fabrikam', { voicePolicy: 'policies/fabrikam.yaml' })]);
    const a = (await planVoice(change('anna', A), p.deps)).send?.[0]?.messages[0]?.body as VoiceCommand;
    const b = (await planVoice(change('bram', B), p.deps)).send?.[0]?.messages[0]?.body as VoiceCommand;
    const b2 = (await planVoice(change('cees', B), p.deps)).send?.[0]?.messages[0]?.body as VoiceCommand;
    expect(a).toMatchObject({ tenantId: A, allocation: { pool: 'ams' }, desired: { policies: { TenantDialPlan: 'DP-NL', CallingLineIdentity: 'CLI-Sales' } } });
    expect(b).toMatchObject({ tenantId: B, allocation: { pool: 'rtm' }, desired: { policies: { TenantDialPlan: 'DP-FAB' } } });
    expect(b2.allocation?.pool).toBe('rtm');
    expect(p.loads).toEqual(['policies/fabrikam.yaml']);
  });

  it('fails only that tenant\'s changes when its policy file is unusable, naming the file, and reads it again on the next change', async () => {
    let broken = true;
    const p = await planner([tenant(A, 'Contoso'), tenant(B, 'Fabrikam', { voicePolicy: 'policies/fabrikam.yaml' })], {
      load: async (ref) => {
        if (broken) throw new DialtoneError('PolicyInvalid', `${ref}: cannot read the voice policy file (ENOENT)`);
        return fabrikamPolicy;
      },
    });
    const refused = await planVoice(change('bram', B), p.deps).catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: 'PolicyInvalid', message: expect.stringContaining('policies/fabrikam.yaml') });
    expect((await planVoice(change('anna', A), p.deps)).outcome.kind).toBe('done');
    broken = false;
    expect((await planVoice(change('bram', B), p.deps)).send?.[0]?.messages[0]?.body).toMatchObject({ allocation: { pool: 'rtm' } });
    expect(p.loads).toHaveLength(2);
  });
});

describe('a tenant\'s own Teams backend', () => {
  const deployment = (backend: 'powershell' | 'graph', pwshQueue?: string) => ({ backend, commandsQueue: 'voice-commands', pwshQueue });

  it('routes each tenant\'s commands to the consumer of its backend, the deployment\'s when it sets none', () => {
    expect(voiceCommandRoute({ tenantId: A }, deployment('graph', 'voice-commands-pwsh'))).toEqual({ ok: true, queue: 'voice-commands' });
    expect(voiceCommandRoute({ tenantId: A, teamsBackend: 'graph' }, deployment('graph', 'voice-commands-pwsh'))).toEqual({ ok: true, queue: 'voice-commands' });
    expect(voiceCommandRoute({ tenantId: A, teamsBackend: 'powershell' }, deployment('graph', 'voice-commands-pwsh'))).toEqual({ ok: true, queue: 'voice-commands-pwsh' });
    expect(voiceCommandRoute({ tenantId: A, teamsBackend: 'powershell' }, deployment('powershell'))).toEqual({ ok: true, queue: 'voice-commands' });
    expect(voiceCommandRoute(undefined, deployment('powershell'))).toEqual({ ok: true, queue: 'voice-commands' });
    expect(voiceCommandRoute({ tenantId: A, teamsBackend: 'powershell' }, deployment('graph'))).toMatchObject({ ok: false, reason: expect.stringContaining('runs no hybrid worker') });
    expect(voiceCommandRoute({ tenantId: A, teamsBackend: 'graph' }, deployment('powershell'))).toMatchObject({ ok: false, reason: expect.stringContaining(`tenant ${A} is registered with teamsBackend graph`) });
  });

  it('sends a PowerShell tenant\'s command to the worker\'s queue in a graph deployment, and the graph tenant\'s to graphVoice', async () => {
    const p = await planner([tenant(A, 'Contoso', { teamsBackend: 'powershell' }), tenant(B, 'Fabrikam')], { backend: 'graph', pwshQueue: 'voice-commands-pwsh' });
    expect((await planVoice(change('anna', A), p.deps)).send?.[0]?.queue).toBe('voice-commands-pwsh');
    expect((await planVoice(change('bram', B), p.deps)).send?.[0]?.queue).toBe('voice-commands');
  });

  it('refuses, reserving no number, a tenant whose backend this deployment does not run', async () => {
    const p = await planner([tenant(A, 'Contoso'), tenant(B, 'Fabrikam', { teamsBackend: 'graph' })], { backend: 'powershell' });
    const out = await planVoice(change('bram', B), p.deps);
    expect(out.outcome).toMatchObject({ kind: 'permanent', code: 'ConfigInvalid', message: expect.stringContaining('teamsBackend graph') });
    expect(out.send).toBeUndefined();
    expect(await p.inventory.list({ userId: 'bram' })).toEqual([]);
    expect((await planVoice(change('anna', A), p.deps)).send?.[0]?.queue).toBe('voice-commands');
  });

  it('graphVoice hands a PowerShell tenant\'s command whole to the worker without calling Graph', async () => {
    const untouchable = new Proxy({}, { get: () => () => Promise.reject(new Error('Graph must not be called for a PowerShell tenant')) }) as TeamsAdmin;
    const tenants = async () => effectiveTenants([tenant(A, 'Contoso', { teamsBackend: 'powershell' })], implicitTenant({ tenantId: undefined }));
    const command: VoiceCommand = {
      commandId: 'cmd-1',
      userId: 'anna',
      tenantId: A,
      userPrincipalName: 'anna@contoso.example',
      correlationId: 'c1',
      eventId: 'e1',
      occurredAt: clock.now().toISOString(),
      issuedAt: clock.now().toISOString(),
      reason: 'joiner',
      desired: { enterpriseVoiceEnabled: true, phoneNumber: '+31201234000', phoneNumberType: 'DirectRouting', policies: {} },
      allocation: { pool: 'ams', number: '+31201234000' },
      releases: [],
    };
    const out = await applyVoiceCommandViaGraph(command, { messageId: 'cmd-1', correlationId: 'c1', deliveryCount: 1, attempt: 0, properties: {} }, {
      admin: untouchable,
      clock,
      logger: silentLogger,
      policyIds: new PolicyIdCache(),
      unsupportedPolicyTypes: new Set(),
      fallbackQueue: 'voice-commands-pwsh',
      pollAfterMs: 5_000,
      route: tenantCommandRoutes({ tenants, deployment: { backend: 'graph', commandsQueue: queueNames.voiceCommands, pwshQueue: 'voice-commands-pwsh' } }),
    });
    expect(out.outcome.kind).toBe('done');
    expect(out.send).toEqual([{ queue: 'voice-commands-pwsh', messages: [expect.objectContaining({ body: command, sessionId: `${A}:anna`, messageId: 'cmd-1:pwsh' })] }]);
  });
});
