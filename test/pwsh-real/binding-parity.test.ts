import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimClock } from '../../sandbox/clock.js';
import { runCmdlet, newSession } from '../../sandbox/teams-sim/cmdlets.js';
import { startTeamsSimulator, type TeamsSimulator } from '../../sandbox/teams-sim/index.js';
import { SimTenant } from '../../sandbox/teams-sim/tenant.js';
import type { PwshProcess } from '../../worker/pwsh-process.js';
import { testTenant } from '../worker/helpers/sim.js';
import { writeStubModule } from './stub-module/generate.js';
import { startHost, tempDir } from './helpers.js';

// Issue 9 item 4: the Teams stand-in binds and words errors as host.ps1 + the module do. The same
// requests go through real pwsh with the stub module (real PowerShell binder) and through the
// stand-in's binder; their errors must be identical.
let sim: TeamsSimulator | undefined;
let host: PwshProcess | undefined;
const dir = tempDir('dialtone-parity-');

beforeAll(async () => {
  sim = await startTeamsSimulator({ tenant: testTenant(), clock: new SimClock('2026-11-02T08:00:00Z') });
  writeStubModule(dir.path, { naming: 'new' });
  host = await startHost({ modulePath: dir.path, simUrl: sim.pwshCommand.env.DIALTONE_TEAMS_SIM_URL ?? '' });
});
afterAll(async () => {
  await host?.exit(5_000);
  await sim?.close();
  dir.remove();
});

const cases: [string, string, Record<string, unknown>][] = [
  ['mixes the Assignment and Attribute sets', 'Set-CsPhoneNumberAssignment', { Identity: 'u', TelephoneNumber: '+31201234001', NumberType: 'DirectRouting', EnterpriseVoiceEnabled: true }],
  ['gives only Identity, which two sets share', 'Set-CsPhoneNumberAssignment', { Identity: 'u' }],
  ['gives nothing (the default set decides what is missing)', 'Set-CsPhoneNumberAssignment', {}],
  ['lacks the number type', 'Set-CsPhoneNumberAssignment', { Identity: 'u', PhoneNumber: '+31201234001' }],
  ['gives a name and its alias', 'Set-CsPhoneNumberAssignment', { Identity: 'u', PhoneNumber: '+31201234001', TelephoneNumber: '+31201234002', NumberType: 'DirectRouting' }],
  ['gives a number type outside the validate set', 'Set-CsPhoneNumberAssignment', { Identity: 'u', PhoneNumber: '+31201234001', PhoneNumberType: 'Direct' }],
  ['mixes -RemoveAll with a number', 'Remove-CsPhoneNumberAssignment', { Identity: 'u', RemoveAll: true, PhoneNumber: '+31201234001' }],
  ['mixes -Identity and -Filter', 'Get-CsTenantDialPlan', { Identity: 'Tag:DP-NL', Filter: '*' }],
  ['gives a batch without Identity', 'New-CsBatchPolicyAssignmentOperation', { PolicyType: 'TenantDialPlan', PolicyName: 'DP-NL' }],
  ['grants without Identity', 'Grant-CsTenantDialPlan', { PolicyName: 'DP-NL' }],
  ['uses a parameter the host does not allow', 'Set-CsPhoneNumberAssignment', { Identity: 'u', LineUri: 'tel:+31201234001' }],
  ['sends keys that differ only in case', 'Get-CsOnlineUser', { Identity: 'a', identity: 'b' }],
  ['sends an object value', 'Get-CsOnlineUser', { Identity: { Id: 'a' } }],
];

describe('the Teams stand-in and real pwsh + the stub module refuse alike', () => {
  for (const [name, cmdlet, parameters] of cases) {
    it(`when a request ${name}`, async () => {
      const real = await host!.call(cmdlet, parameters, { timeoutMs: 60_000 });
      const standIn = runCmdlet(new SimTenant(testTenant(), new SimClock('2026-11-02T08:00:00Z')), { ...newSession(), connected: true }, { cmdlet, parameters });
      expect(real.ok).toBe(false);
      expect(standIn.ok).toBe(false);
      const realError = real.ok ? undefined : { ...real.error, cmdlet: undefined };
      const simError = standIn.ok ? undefined : standIn.error;
      expect({ type: realError?.type, message: realError?.message, category: realError?.category ?? undefined, id: realError?.fullyQualifiedErrorId ?? undefined }).toEqual({
        type: simError?.type,
        message: simError?.message,
        category: simError?.category,
        id: simError?.fullyQualifiedErrorId,
      });
    });
  }
});
