import { afterEach, describe, expect, it } from 'vitest';
import type { VoiceResult } from '../../shared/contracts/messages.js';
import { command, desired, userId } from '../worker/helpers/sim.js';
import { alive, startRealHarness, waitFor, type RealHarness } from './helpers.js';

// The worker's apply suite under real pwsh 7 + the stub MicrosoftTeams module (generated from
// shared/teams/module-cmdlets.json) acting on the Teams simulator's tenant.
let harness: RealHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const writes = (result: VoiceResult) => result.steps.filter((s) => s.write).map((s) => s.cmdlet);

describe('applying voice commands under real pwsh and the stub MicrosoftTeams module', () => {
  for (const naming of ['new', 'old'] as const) {
    it(`applies a joiner, then a leaver, with the ${naming} parameter naming, and writes nothing for a repeat`, async () => {
      harness = await startRealHarness({ naming });
      const joined = await harness.apply(command(1));
      expect([joined.status, joined.error]).toEqual(['applied', undefined]);
      expect(writes(joined)).toEqual(['Set-CsPhoneNumberAssignment', 'Grant-CsCallingLineIdentity', 'Grant-CsOnlineVoiceRoutingPolicy', 'Grant-CsTenantDialPlan']);
      const assign = joined.steps.find((s) => s.cmdlet === 'Set-CsPhoneNumberAssignment');
      expect(Object.keys(assign?.parameters ?? {}).sort()).toEqual(naming === 'new' ? ['Identity', 'NumberType', 'TelephoneNumber'] : ['Identity', 'PhoneNumber', 'PhoneNumberType']);
      expect(harness.sim.tenant.user(userId(1))).toMatchObject({ enterpriseVoiceEnabled: true, lineUri: 'tel:+31201234101' });

      const again = await harness.apply(command(1));
      expect([again.status, writes(again)]).toEqual(['noop', []]);

      const left = await harness.apply(command(1, desired(1, { enterpriseVoiceEnabled: false, phoneNumber: null, policies: {} }), 'cmd-1-leaver'));
      expect(left.status).toBe('applied');
      expect(harness.sim.tenant.user(userId(1))).toMatchObject({ enterpriseVoiceEnabled: false, lineUri: null });
    });
  }

  it('reports a number held by another user as a conflict, with the module exception type', async () => {
    harness = await startRealHarness({ naming: 'new' });
    const result = await harness.apply(command(1, desired(1, { phoneNumber: '+31201234003' })));
    expect(result.error).toMatchObject({
      class: 'conflict',
      code: 'NumberConflict',
      cmdlet: 'Set-CsPhoneNumberAssignment',
      exceptionType: 'Microsoft.Teams.ConfigAPI.Cmdlets.Generated.Runtime.RestException',
    });
  });

  it('refuses, before any write, a command the installed module would not bind (ModuleIncompatible)', async () => {
    harness = await startRealHarness({ naming: 'new', omit: ['Set-CsPhoneNumberAssignment:EnterpriseVoiceEnabled'] });
    const writesBefore = harness.sim.metrics().writeCmdlets;
    // Voice on without a number needs -EnterpriseVoiceEnabled, which this module lacks; the policy
    // grants planned after it must not run either.
    const result = await harness.apply(command(2, desired(2, { phoneNumber: null }), 'cmd-2-voice-only'));
    expect(result.status).toBe('failed');
    expect(result.error).toMatchObject({ class: 'permanent', code: 'ModuleIncompatible', cmdlet: 'Set-CsPhoneNumberAssignment' });
    expect(result.error?.message).toMatch(/^Set-CsPhoneNumberAssignment has no parameter -EnterpriseVoiceEnabled in MicrosoftTeams 7\.4\.0\. Nothing was written\./);
    expect(harness.sim.metrics().writeCmdlets).toBe(writesBefore);
    expect(writes(result)).toEqual([]);
  });

  it('stops a hung cmdlet when the lock is lost: the real pwsh process is gone and nothing else is written (issue 8, defect 6)', async () => {
    // The cmdlet deadline is far past the waits below, so only the lost lock can end the hung call.
    harness = await startRealHarness({ naming: 'new' }, { cmdletTimeoutMs: 600_000 });
    harness.sim.setFaults([{ kind: 'hang', cmdlet: 'Set-CsPhoneNumberAssignment' }]);
    const lock = new AbortController();
    const applying = harness.apply(command(1), { signal: lock.signal });
    await waitFor(() => harness?.sim.metrics().byCmdlet['Set-CsPhoneNumberAssignment'] === 1, 90_000);
    const pids = harness.pool.pids();
    expect(pids).toHaveLength(1);
    lock.abort();
    const result = await Promise.race([applying, new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), 60_000))]);
    expect(result).not.toBe('still running');
    expect(await waitFor(() => pids.every((pid) => !alive(pid)), 60_000)).toBe(true);
    expect(Object.keys(harness.sim.metrics().byCmdlet).filter((c) => c.startsWith('Grant-'))).toEqual([]);
  });
});
