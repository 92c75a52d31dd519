import { SimClock } from '../../../sandbox/clock.js';
import { startTeamsSimulator, type SandboxTenantFile, type TeamsSimulator } from '../../../sandbox/teams-sim/index.js';
import type { VoiceCommand, VoiceResult } from '../../../shared/contracts/messages.js';
import type { DesiredVoiceState } from '../../../shared/domain/voice-state.js';
import { createMemoryLogger } from '../../../shared/logging/logger.js';
import { applyVoiceCommand, type ApplyDeps } from '../../../worker/apply.js';
import { SessionPool, type PoolOptions } from '../../../worker/pool.js';
import { makeTestPfx } from './certificates.js';

export const TENANT_ID = '8f0c2a53-5d0e-4c1b-9a57-2f1f0e6f0001';
export const APP_ID = '00000000-0000-0000-0000-00000000a001';
export const userId = (n: number) => `3b7d1c9e-0d2a-4c55-8d0e-${String(100 + n).padStart(12, '0')}`;
export const OUTSIDER = 'someone-outside-dialtone@contoso.example';
/** The certificate the tests hand to the pool, made in memory. */
export const CERTIFICATE = { pfxBase64: makeTestPfx({ password: 'sim-pfx-password-42' }), password: 'sim-pfx-password-42' };

/** `apply` for the test worlds: the test tenant, short back-offs, and the test's own overrides. */
export const applyOn =
  (base: Pick<ApplyDeps, 'sessions' | 'clock' | 'logger' | 'cmdletTimeoutMs'>) =>
  (cmd: VoiceCommand, overrides: Partial<ApplyDeps> = {}) =>
    applyVoiceCommand(cmd, { ...base, tenantId: TENANT_ID, backoffMs: [10, 20], ...overrides });

export function testTenant(users = 8): SandboxTenantFile {
  return {
    tenantId: TENANT_ID,
    users: [
      ...Array.from({ length: users }, (_, i) => ({
        id: userId(i + 1),
        userPrincipalName: `user${i + 1}@contoso.example`,
        servicePlans: ['TEAMS1', 'MCOEV'],
        teams: { enterpriseVoiceEnabled: false, lineUri: null, policies: {} },
      })),
      {
        id: userId(99),
        userPrincipalName: 'unlicensed@contoso.example',
        servicePlans: ['TEAMS1'],
        teams: { enterpriseVoiceEnabled: false, lineUri: null, policies: {} },
      },
    ],
    policies: {
      CallingLineIdentity: [{ identity: 'Tag:CLI-Sales', description: 'DEPT001' }],
      OnlineVoiceRoutingPolicy: [{ identity: 'Tag:VRP-NL' }],
      TenantDialPlan: [{ identity: 'Tag:DP-NL' }],
    },
    externalAssignments: [{ number: '+31201234003', assignedTo: OUTSIDER }],
  } as SandboxTenantFile;
}

export function desired(n: number, overrides: Partial<DesiredVoiceState> = {}): DesiredVoiceState {
  return {
    enterpriseVoiceEnabled: true,
    phoneNumber: `+3120123${String(4100 + n)}`,
    phoneNumberType: 'DirectRouting',
    policies: { CallingLineIdentity: 'CLI-Sales', OnlineVoiceRoutingPolicy: 'VRP-NL', TenantDialPlan: 'DP-NL' },
    ...overrides,
  };
}

export function command(n: number, state: DesiredVoiceState = desired(n), id = `cmd-${n}`): VoiceCommand {
  return {
    commandId: id,
    userId: userId(n),
    userPrincipalName: `user${n}@contoso.example`,
    correlationId: `corr-${n}`,
    eventId: `evt-${n}`,
    occurredAt: '2026-11-02T07:59:00Z',
    issuedAt: '2026-11-02T07:59:30Z',
    reason: 'joiner',
    desired: state,
    allocation: state.phoneNumber ? { pool: 'ams', number: state.phoneNumber } : null,
    releases: [],
  };
}

export interface SimHarness {
  sim: TeamsSimulator;
  pool: SessionPool;
  clock: SimClock;
  logger: ReturnType<typeof createMemoryLogger>;
  apply(cmd: VoiceCommand, overrides?: Partial<ApplyDeps>): ReturnType<typeof applyVoiceCommand>;
  close(): Promise<void>;
}

export async function startHarness(options: { users?: number; pool?: Partial<PoolOptions>; cmdletTimeoutMs?: number } = {}): Promise<SimHarness> {
  const clock = new SimClock('2026-11-02T08:00:00Z');
  const logger = createMemoryLogger('debug');
  const sim = await startTeamsSimulator({ tenant: testTenant(options.users), clock });
  const pool = new SessionPool({
    command: sim.pwshCommand,
    credentials: async (tenantId) => ({ applicationId: APP_ID, tenantId, certificate: CERTIFICATE }),
    maxSessions: 4,
    maxSessionsPerTenant: 2,
    idleTimeoutMs: 600_000,
    maxSessionAgeMs: 3_600_000,
    connectTimeoutMs: 15_000,
    exitGraceMs: 2_000,
    logger,
    ...options.pool,
  });
  return {
    sim,
    pool,
    clock,
    logger,
    apply: applyOn({ sessions: pool, clock, logger, cmdletTimeoutMs: options.cmdletTimeoutMs ?? 10_000 }),
    close: async () => {
      await pool.drain();
      await sim.close();
    },
  };
}

/** The result an apply reports for `cmd` without touching Teams (a noop unless `extra` says otherwise). */
export function resultFor(cmd: VoiceCommand, extra: Partial<VoiceResult> = {}): VoiceResult {
  return {
    commandId: cmd.commandId,
    userId: cmd.userId,
    userPrincipalName: cmd.userPrincipalName,
    correlationId: cmd.correlationId,
    eventId: cmd.eventId,
    occurredAt: cmd.occurredAt,
    finishedAt: '2026-11-02T08:00:00.000Z',
    status: 'noop',
    desired: cmd.desired,
    allocation: cmd.allocation,
    releases: cmd.releases,
    steps: [],
    actual: null,
    attempts: 1,
    ...extra,
  };
}
