import { describe, expect, it } from 'vitest';
import type { ModuleView } from '../../shared/domain/parameter-binding.js';
import { moduleView } from '../../shared/teams/module-cmdlets.js';
import { adaptToModule, moduleVersionSupported } from '../../worker/module-compat.js';
import { reportedModule } from '../../worker/pwsh-process.js';

const assign = { Identity: 'u1', PhoneNumber: '+31201234001', PhoneNumberType: 'DirectRouting' };

function without(view: ModuleView, cmdlet: string, parameter: string): ModuleView {
  const spec = view.cmdlets[cmdlet]!;
  return { ...view, cmdlets: { ...view.cmdlets, [cmdlet]: { ...spec, parameters: spec.parameters.filter((p) => p.name !== parameter) } } };
}

describe('mapping canonical parameters onto the installed module', () => {
  it("uses the module's current names: -TelephoneNumber / -NumberType in the new naming", () => {
    expect(adaptToModule(moduleView('new'), 'Set-CsPhoneNumberAssignment', assign)).toEqual({
      ok: true,
      parameters: { Identity: 'u1', TelephoneNumber: '+31201234001', NumberType: 'DirectRouting' },
    });
  });

  it('uses -PhoneNumber / -PhoneNumberType in the old naming, whichever spelling the command used', () => {
    const canonical = { Identity: 'u1', TelephoneNumber: '+31201234001', NumberType: 'DirectRouting' };
    expect(adaptToModule(moduleView('old'), 'Set-CsPhoneNumberAssignment', canonical)).toEqual({ ok: true, parameters: assign });
  });

  it('passes parameters unchanged when the host reported no module (the sandbox stand-in)', () => {
    expect(adaptToModule(undefined, 'Set-CsPhoneNumberAssignment', assign)).toEqual({ ok: true, parameters: assign });
  });

  it('refuses a parameter the module lacks under every known spelling, naming cmdlet and parameter', () => {
    const view = without(moduleView('new'), 'Set-CsPhoneNumberAssignment', 'TelephoneNumber');
    expect(adaptToModule(view, 'Set-CsPhoneNumberAssignment', assign)).toEqual({
      ok: false,
      parameter: 'PhoneNumber',
      message: 'Set-CsPhoneNumberAssignment has no parameter -PhoneNumber (also known as -TelephoneNumber) in MicrosoftTeams 7.4.0.',
    });
  });

  it('refuses a combination that fits no single parameter set, and one missing a mandatory parameter', () => {
    expect(adaptToModule(moduleView('new'), 'Set-CsPhoneNumberAssignment', { ...assign, EnterpriseVoiceEnabled: true })).toMatchObject({
      ok: false,
      message: expect.stringContaining('would not bind in MicrosoftTeams 7.4.0: these parameters are in no single parameter set'),
    });
    expect(adaptToModule(moduleView('new'), 'Set-CsPhoneNumberAssignment', { Identity: 'u1', PhoneNumber: '+31201234001' })).toMatchObject({
      ok: false,
      parameter: 'NumberType',
      message: expect.stringContaining('it would also need -NumberType'),
    });
    expect(adaptToModule(moduleView('old'), 'Set-CsPhoneNumberAssignment', { ...assign, AssignmentCategory: 'Private' })).toMatchObject({
      ok: false,
      parameter: 'AssignmentCategory',
    });
  });

  it('refuses a cmdlet the module does not have', () => {
    const view = moduleView('new');
    const gone = { ...view, cmdlets: { ...view.cmdlets, 'Grant-CsTenantDialPlan': null } };
    expect(adaptToModule(gone, 'Grant-CsTenantDialPlan', { Identity: 'u1', PolicyName: 'DP' })).toEqual({
      ok: false,
      parameter: null,
      message: 'Grant-CsTenantDialPlan is not available in MicrosoftTeams 7.4.0.',
    });
  });

  it("reads the host's ready report into the same shape", () => {
    const module = reportedModule({
      type: 'ready',
      protocol: 1,
      module: { name: 'MicrosoftTeams', version: '7.4.0' },
      cmdlets: { 'Get-CsOnlineUser': { defaultParameterSet: null, parameters: [{ name: 'Identity', aliases: [], sets: { '*': false } }] }, 'Get-CsTenantDialPlan': null },
    });
    expect(module).toEqual({
      moduleVersion: '7.4.0',
      cmdlets: { 'Get-CsOnlineUser': { parameters: [{ name: 'Identity', aliases: [], sets: { '*': false } }] }, 'Get-CsTenantDialPlan': null },
    });
    expect(adaptToModule(module, 'Get-CsOnlineUser', { identity: 'u1' })).toEqual({ ok: true, parameters: { Identity: 'u1' } });
  });

  it('knows the supported module version range', () => {
    expect(['6.0.0', '7.4.0', '7.99.1'].map(moduleVersionSupported)).toEqual([true, true, true]);
    expect(['5.9.0', '8.0.0'].map(moduleVersionSupported)).toEqual([false, false]);
  });
});
