import { describe, expect, it, vi } from 'vitest';
import { DialtoneError } from '../../shared/domain/errors.js';
import { silentLogger } from '../../shared/logging/logger.js';
import { applyVoiceCommand, type ApplyDeps } from '../../worker/apply.js';
import type { CallOutcome } from '../../worker/pwsh-process.js';
import type { SessionLease, SessionProvider } from '../../worker/session.js';
import { ManualTimers } from './helpers/manual-timers.js';
import { command, userId } from './helpers/sim.js';

type Handler = (cmdlet: string, parameters: Record<string, unknown>) => CallOutcome;

/** A session provider over a scripted Teams: no processes, every call answered by `handler`. */
function scripted(handler: Handler) {
  const calls: string[] = [];
  const provider: SessionProvider & { leases: number; discarded: number } = {
    leases: 0,
    discarded: 0,
    acquire: async (): Promise<SessionLease> => {
      provider.leases += 1;
      return {
        session: {
          call: async (cmdlet, parameters) => {
            calls.push(cmdlet);
            return handler(cmdlet, parameters);
          },
        },
        reconnect: async () => undefined,
        release: () => undefined,
        discard: () => {
          provider.discarded += 1;
        },
      };
    },
  };
  return { provider, calls };
}

const ok = (result: unknown): CallOutcome => ({ ok: true, result, durationMs: 1 });
const fail = (message: string): CallOutcome => ({ ok: false, durationMs: 1, error: { type: 'X', message } });
const provisioned = {
  Identity: userId(1),
  LineURI: 'tel:+31201234101',
  EnterpriseVoiceEnabled: true,
  FeatureTypes: ['PhoneSystem'],
  CallingLineIdentity: { Name: 'CLI-Sales' },
  OnlineVoiceRoutingPolicy: { Name: 'VRP-NL' },
  TenantDialPlan: { Name: 'DP-NL' },
};

function deps(sessions: SessionProvider, overrides: Partial<ApplyDeps> = {}): ApplyDeps {
  return {
    sessions,
    tenantId: 't',
    clock: { now: () => new Date('2026-11-02T08:00:00Z') },
    logger: silentLogger,
    cmdletTimeoutMs: 1_000,
    backoffMs: [1],
    ...overrides,
  };
}

describe('applyVoiceCommand', () => {
  it('records the reads and no write for a state that already holds', async () => {
    const { provider } = scripted((cmdlet) => (cmdlet === 'Get-CsOnlineUser' ? ok(provisioned) : ok([])));
    const result = await applyVoiceCommand(command(1), deps(provider));
    expect([result.status, result.steps.map((s) => [s.cmdlet, s.write, s.ok])]).toEqual([
      'noop',
      [
        ['Get-CsOnlineUser', false, true],
        ['Get-CsPhoneNumberAssignment', false, true],
      ],
    ]);
  });

  it('fails with VerificationFailed when Teams does not hold the state after applying', async () => {
    const { provider } = scripted((cmdlet) => (cmdlet === 'Get-CsOnlineUser' ? ok({ ...provisioned, TenantDialPlan: null }) : ok(null)));
    const result = await applyVoiceCommand(command(1), deps(provider));
    expect(result.error).toEqual({
      class: 'transient',
      code: 'VerificationFailed',
      message: 'Teams does not hold the desired state after applying: policies.TenantDialPlan: expected DP-NL, found none',
    });
    expect(result.attempts).toBe(3);
  });

  it('reports a session that cannot be had as a transient failure after the bounded attempts', async () => {
    const provider: SessionProvider = {
      acquire: async () => {
        throw new DialtoneError('SessionBroken', 'Connect-MicrosoftTeams failed: Invalid credential', { transient: true });
      },
    };
    const result = await applyVoiceCommand(command(1), deps(provider));
    expect([result.status, result.attempts, result.error?.code, result.error?.message]).toEqual([
      'failed',
      3,
      'SessionBroken',
      'Connect-MicrosoftTeams failed: Invalid credential',
    ]);
  });

  it('waits as long as Retry-After asks before retrying', async () => {
    const timers = new ManualTimers();
    let throttled = false;
    const { provider } = scripted((cmdlet) => {
      if (cmdlet === 'Get-CsOnlineUser' && !throttled) {
        throttled = true;
        return fail('Too many requests. Retry-After: 7');
      }
      return cmdlet === 'Get-CsOnlineUser' ? ok(provisioned) : ok([]);
    });
    let done = false;
    const pending = applyVoiceCommand(command(1), deps(provider, { timers })).then((r) => {
      done = true;
      return r;
    });
    await vi.waitFor(() => expect(timers.pending()).toBe(1), { timeout: 30_000 });
    timers.advance(6_999);
    await Promise.resolve();
    expect(done).toBe(false);
    timers.advance(1);
    expect(await pending).toMatchObject({ status: 'noop', attempts: 2 });
  });

  it('does not retry once the consumer has given the command up', async () => {
    const controller = new AbortController();
    controller.abort();
    const { provider } = scripted(() => fail('Service is unavailable. Please try again'));
    const result = await applyVoiceCommand(command(1), deps(provider, { signal: controller.signal }));
    expect([result.status, result.attempts]).toEqual(['failed', 1]);
  });

  it('discards the session whose process failed', async () => {
    let first = true;
    const { provider } = scripted((cmdlet) => {
      if (first) {
        first = false;
        throw new DialtoneError('SessionBroken', 'pwsh exited', { transient: true, details: { kind: 'exit' } });
      }
      return cmdlet === 'Get-CsOnlineUser' ? ok(provisioned) : ok([]);
    });
    const result = await applyVoiceCommand(command(1), deps(provider));
    expect([result.status, result.attempts, provider.discarded, provider.leases]).toEqual(['noop', 2, 1, 2]);
  });
});
