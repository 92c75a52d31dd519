import { afterEach, describe, expect, it } from 'vitest';
import { openTenantSetupShell, type OpenedShell } from '../../cli/tenant-shell.js';
import { SimClock } from '../../sandbox/clock.js';
import { startTeamsSimulator, type TeamsSimulator } from '../../sandbox/teams-sim/index.js';
import { TenantVoiceConfigSchema } from '../../shared/domain/tenant-voice.js';
import { createMemoryLogger } from '../../shared/logging/logger.js';
import { applyTenant } from '../../shared/usecases/tenant-setup.js';
import { unlinkTeams } from '../../shared/usecases/tenant-unlink.js';
import { ephemeralCertificateSource } from '../../worker/ephemeral-certificate.js';
import { APP_ID, TENANT_ID, testTenant } from '../worker/helpers/sim.js';
import { hostCommand, READY_TIMEOUT_MS, tempDir } from './helpers.js';
import { writeStubModule } from './stub-module/generate.js';

// `dialtone tenant apply` through host.ps1 -Scope TenantSetup under real pwsh 7 and the stub
// MicrosoftTeams module: the hashtable parameters module-cmdlets.json declares (PSListModifiers,
// NormalizationRules) reach the module; every other object is still refused (issue 10, item 4).
let sim: TeamsSimulator | undefined;
let opened: OpenedShell | undefined;
let modules: { path: string; remove(): void } | undefined;
afterEach(async () => {
  await opened?.close();
  await sim?.close();
  modules?.remove();
  opened = sim = modules = undefined;
});

const config = TenantVoiceConfigSchema.parse({
  version: 1,
  pstnUsages: ['NL-Local'],
  voiceRoutes: [{ name: 'NL-All', numberPattern: '^\\+31\\d+$', gateways: ['sbc1.contoso.example'], usages: ['NL-Local'], priority: 1 }],
  voiceRoutingPolicies: [{ name: 'VRP-NL', usages: ['NL-Local'] }],
  dialPlans: [{ name: 'DP-NL', normalizationRules: [{ name: 'NL-national', pattern: '^0(\\d{9})$', translation: '+31$1' }] }],
  callingLineIdentities: [{ name: 'CLI-Sales', description: 'DEPT001', callingIdSubstitute: 'LineUri' }],
});

async function open(): Promise<OpenedShell> {
  const clock = new SimClock('2026-11-02T08:00:00Z');
  const tenant = testTenant();
  tenant.pstnGateways = ['sbc1.contoso.example'];
  delete tenant.policies;
  sim = await startTeamsSimulator({ tenant, clock });
  modules = tempDir('dialtone-stub-');
  writeStubModule(modules.path, { naming: 'new' });
  const base = hostCommand({ modulePath: modules.path, simUrl: sim.pwshCommand.env.DIALTONE_TEAMS_SIM_URL ?? '' });
  opened = await openTenantSetupShell({
    pwsh: base,
    certificates: ephemeralCertificateSource({ now: clock.now() }),
    tenantId: TENANT_ID,
    applicationId: APP_ID,
    logger: createMemoryLogger('warn'),
    readyTimeoutMs: READY_TIMEOUT_MS,
  });
  return opened;
}

describe('tenant set-up under real pwsh and the stub MicrosoftTeams module', () => {
  it('creates every item from an empty tenant, then finds every item already there, then unlink removes them', async () => {
    const { shell } = await open();
    const first = await applyTenant(shell, config);
    expect(first.map((i) => `${i.kind}:${i.status}`)).toEqual([
      'pstnUsage:created',
      'voiceRoute:created',
      'voiceRoutingPolicy:created',
      'dialPlan:created',
      'callingLineIdentity:created',
    ]);
    expect(sim!.tenant.callingLineIdentityCatalog().map((c) => c.description)).toContain('DEPT001');
    const second = await applyTenant(shell, config);
    expect(second.map((i) => i.status)).toEqual(Array(5).fill('already_exists'));
    // tenant unlink: the Remove-Cs* cmdlets and -Usage @{Remove=…} bind in the module too.
    const removed = await unlinkTeams(shell, config, false);
    expect(removed.map((i) => `${i.kind}:${i.status}`)).toEqual([
      'callingLineIdentity:removed',
      'dialPlan:removed',
      'voiceRoutingPolicy:removed',
      'voiceRoute:removed',
      'pstnUsage:removed',
    ]);
    expect(sim!.tenant.exportState().voiceRouting).toMatchObject({ pstnUsages: [], voiceRoutes: [], voiceRoutingPolicies: [], dialPlans: [], callingLineIdentities: [] });
  });

  it('passes a list modifier only as Add/Remove/Replace of plain values, and an object to no other parameter', async () => {
    const { shell } = await open();
    const refused = [
      ['Set-CsOnlinePstnUsage', { Identity: 'Global', Usage: { Add: ['NL-Local'], Clear: true } }, "Parameter 'Usage' of Set-CsOnlinePstnUsage must be a string, number, boolean, null, an array of those, or an object of Add, Remove or Replace holding those."],
      ['Set-CsOnlinePstnUsage', { Identity: 'Global', Usage: { Add: [{ nested: 'x' }] } }, "Parameter 'Usage' of Set-CsOnlinePstnUsage must be a string, number, boolean, null, an array of those, or an object of Add, Remove or Replace holding those."],
      ['Set-CsOnlinePstnUsage', { Identity: 'Global', Usage: { Add: ['a'], add: ['b'] } }, "Parameter 'Usage' of Set-CsOnlinePstnUsage must be a string, number, boolean, null, an array of those, or an object of Add, Remove or Replace holding those."],
      ['Set-CsOnlinePstnUsage', { Identity: { Add: 'Global' }, Usage: { Add: ['NL-Local'] } }, "Parameter 'Identity' of Set-CsOnlinePstnUsage must be a string, number, boolean, null or an array of those; an object is never passed on."],
      ['New-CsTenantDialPlan', { Identity: 'DP-X', NormalizationRules: { Name: 'r' } }, "Parameter 'NormalizationRules' of New-CsTenantDialPlan must be an array of objects of New-CsVoiceNormalizationRule parameters."],
      ['New-CsTenantDialPlan', { Identity: 'DP-X', NormalizationRules: [{ Name: 'r', Pattern: { x: 1 }, Translation: '+31$1' }] }, "Parameter 'Pattern' of New-CsVoiceNormalizationRule must be a string, number, boolean, null or an array of those; an object is never passed on."],
    ] as const;
    for (const [cmdlet, parameters, message] of refused) {
      expect(await shell.run(cmdlet, parameters)).toMatchObject({ ok: false, error: { type: 'Dialtone.ProtocolError', message } });
    }
    expect(sim!.tenant.exportState().voiceRouting?.pstnUsages ?? []).toEqual([]);
    expect(await shell.run('Set-CsOnlinePstnUsage', { Identity: 'Global', Usage: { add: ['NL-Local'] } })).toMatchObject({ ok: true });
    expect(sim!.tenant.exportState().voiceRouting?.pstnUsages).toEqual(['NL-Local']);
  });
});
