import { SimClock } from '../../sandbox/clock.js';
import { newSession, runCmdlet, type HostOutcome } from '../../sandbox/teams-sim/cmdlets.js';
import { SimTenant } from '../../sandbox/teams-sim/tenant.js';
import type { SandboxTenantFile } from '../../sandbox/teams-sim/tenant-file.js';

export const TENANT_ID = '8f0c2a53-5d0e-4c1b-9a57-2f1f0e6f0001';
export const ANNA = '3b7d1c9e-0d2a-4c55-8d0e-000000000101';
export const BRAM = '3b7d1c9e-0d2a-4c55-8d0e-000000000102';
export const CEES = '3b7d1c9e-0d2a-4c55-8d0e-000000000103';
export const DANA = '3b7d1c9e-0d2a-4c55-8d0e-000000000104';
export const EVA = '3b7d1c9e-0d2a-4c55-8d0e-000000000105';
/** Valid base64, not a real PFX: the simulator only checks the encoding. */
export const FAKE_PFX = Buffer.from('not-a-real-pfx-but-base64-secret-material').toString('base64');

const user = (id: string, upn: string, extra: Record<string, unknown> = {}) => ({
  id,
  userPrincipalName: upn,
  accountEnabled: true,
  servicePlans: ['TEAMS1', 'MCOEV'],
  teams: { enterpriseVoiceEnabled: false, lineUri: null, policies: {} },
  ...extra,
});

export function tenantFile(): SandboxTenantFile {
  return {
    tenantId: TENANT_ID,
    users: [
      user(ANNA, 'anna@contoso.example'),
      user(BRAM, 'bram@contoso.example', { servicePlans: ['TEAMS1'] }),
      user(CEES, 'cees@contoso.example', { licensedAfterMs: 30_000 }),
      user(DANA, 'dana@contoso.example', { appearsAfterMs: 10_000 }),
      user(EVA, 'eva@contoso.example', {
        teams: { enterpriseVoiceEnabled: true, lineUri: 'tel:+31201234010', policies: { TenantDialPlan: 'DP-NL' } },
      }),
    ],
    policies: {
      CallingLineIdentity: [
        { identity: 'Tag:CLI-Sales', description: 'DEPT001' },
        { identity: 'Tag:CLI-Support', description: 'DEPT002' },
      ],
      OnlineVoiceRoutingPolicy: [{ identity: 'Tag:VRP-NL' }],
      TenantDialPlan: [{ identity: 'Tag:DP-NL' }],
      TeamsCallingPolicy: [{ identity: 'Tag:AllowCalling' }],
    },
    externalAssignments: [{ number: '+31201234003', assignedTo: 'outsider@contoso.example' }],
  };
}

/** A tenant with a connected session, driven the way a stand-in drives it. */
export function connectedTenant(file: SandboxTenantFile = tenantFile()) {
  const clock = new SimClock('2026-11-02T08:00:00Z');
  const tenant = new SimTenant(file, clock);
  const session = newSession();
  const connect = runCmdlet(tenant, session, {
    cmdlet: 'Connect-MicrosoftTeams',
    parameters: { ApplicationId: 'app-id', TenantId: TENANT_ID },
    certificate: { pfxBase64: FAKE_PFX, password: null },
  });
  if (!connect.ok) throw new Error(`fixture could not connect: ${connect.error.message}`);
  const run = (cmdlet: string, parameters: Record<string, unknown> = {}): HostOutcome => runCmdlet(tenant, session, { cmdlet, parameters });
  return { clock, tenant, session, run };
}

export function resultOf(outcome: HostOutcome): unknown {
  if (!outcome.ok) throw new Error(`expected success, got ${outcome.error.type}: ${outcome.error.message}`);
  return outcome.result;
}

export function errorOf(outcome: HostOutcome) {
  if (outcome.ok) throw new Error(`expected an error, got ${JSON.stringify(outcome.result)}`);
  return outcome.error;
}
