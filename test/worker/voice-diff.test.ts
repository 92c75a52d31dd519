import { describe, expect, it } from 'vitest';
import { normaliseActual, normalisePhoneNumber, planSteps, verify } from '../../shared/domain/voice-diff.js';
import type { ActualVoiceState, DesiredVoiceState } from '../../shared/domain/voice-state.js';

const userId = '3b7d1c9e-0d2a-4c55-8d0e-000000000101';

const joiner: DesiredVoiceState = {
  enterpriseVoiceEnabled: true,
  phoneNumber: '+31201234001',
  phoneNumberType: 'DirectRouting',
  policies: { OnlineVoiceRoutingPolicy: 'VRP-NL', TenantDialPlan: 'DP-NL', CallingLineIdentity: 'CLI-Sales' },
};

const empty: ActualVoiceState = { enterpriseVoiceEnabled: false, phoneNumber: null, phoneSystemLicensed: true, policies: {} };

const provisioned: ActualVoiceState = {
  enterpriseVoiceEnabled: true,
  phoneNumber: '+31201234001',
  phoneSystemLicensed: true,
  policies: { OnlineVoiceRoutingPolicy: 'VRP-NL', TenantDialPlan: 'DP-NL', CallingLineIdentity: 'CLI-Sales' },
};

describe('normalisePhoneNumber', () => {
  it('drops the tel: prefix in any case', () => {
    expect(normalisePhoneNumber('TEL:+31201234001')).toBe('+31201234001');
  });

  it('lower-cases the extension marker', () => {
    expect(normalisePhoneNumber('tel:+31201234567;EXT=12')).toBe('+31201234567;ext=12');
  });

  it('treats an empty LineURI as no number', () => {
    expect(normalisePhoneNumber('')).toBeNull();
  });
});

describe('normaliseActual', () => {
  it('reads the number from LineURI without tel: when there is no assignment row', () => {
    const actual = normaliseActual({ LineURI: 'tel:+31201234001', EnterpriseVoiceEnabled: true, FeatureTypes: [] }, []);
    expect(actual.phoneNumber).toBe('+31201234001');
  });

  it('prefers the assignment row over a lagging LineURI', () => {
    const actual = normaliseActual({ LineURI: null }, [{ TelephoneNumber: '+31201234002', AssignedPstnTargetId: userId }]);
    expect(actual.phoneNumber).toBe('+31201234002');
  });

  it('reads policy objects by their Name, never as objects', () => {
    const actual = normaliseActual(
      { OnlineVoiceRoutingPolicy: { Authority: 'Tenant', Name: 'VRP-NL' }, TenantDialPlan: null },
      [],
    );
    expect(actual.policies).toMatchObject({ OnlineVoiceRoutingPolicy: 'VRP-NL', TenantDialPlan: null });
  });

  it('accepts a policy given as a string with Tag:', () => {
    expect(normaliseActual({ CallingLineIdentity: 'Tag:CLI-Sales' }, []).policies.CallingLineIdentity).toBe('CLI-Sales');
  });

  it('treats the Global policy object as no assignment', () => {
    expect(normaliseActual({ TenantDialPlan: { Name: 'Global' } }, []).policies.TenantDialPlan).toBeNull();
  });

  it('sees Teams Phone licensing in FeatureTypes', () => {
    expect(normaliseActual({ FeatureTypes: ['Teams', 'PhoneSystem'] }, []).phoneSystemLicensed).toBe(true);
  });

  it('sees no licensing without PhoneSystem', () => {
    expect(normaliseActual({ FeatureTypes: ['Teams'] }, []).phoneSystemLicensed).toBe(false);
  });

  it('takes the first user when the cmdlet returned an array', () => {
    expect(normaliseActual([{ EnterpriseVoiceEnabled: true }], []).enterpriseVoiceEnabled).toBe(true);
  });

  it('refuses a missing user with UserNotFound', () => {
    expect(() => normaliseActual(null, [])).toThrow(expect.objectContaining({ code: 'UserNotFound' }));
  });
});

describe('planSteps', () => {
  it('assigns the number and grants every policy for a joiner, in order, without a separate EV step', () => {
    expect(planSteps(joiner, empty, userId)).toEqual([
      {
        cmdlet: 'Set-CsPhoneNumberAssignment',
        parameters: { Identity: userId, PhoneNumber: '+31201234001', PhoneNumberType: 'DirectRouting' },
        write: true,
      },
      { cmdlet: 'Grant-CsCallingLineIdentity', parameters: { Identity: userId, PolicyName: 'CLI-Sales' }, write: true },
      { cmdlet: 'Grant-CsOnlineVoiceRoutingPolicy', parameters: { Identity: userId, PolicyName: 'VRP-NL' }, write: true },
      { cmdlet: 'Grant-CsTenantDialPlan', parameters: { Identity: userId, PolicyName: 'DP-NL' }, write: true },
    ]);
  });

  it('plans nothing when the desired state already holds', () => {
    expect(planSteps(joiner, provisioned, userId)).toEqual([]);
  });

  it('plans nothing when Teams spells the number with tel: and EXT', () => {
    const desired = { ...joiner, phoneNumber: '+31201234567;ext=12' };
    const actual = normaliseActual(
      { LineURI: 'tel:+31201234567;EXT=12', EnterpriseVoiceEnabled: true, ...policyObjects() },
      [],
    );
    expect(planSteps(desired, actual, userId)).toEqual([]);
  });

  it('plans nothing when policies come back as objects with the same names in another case', () => {
    const actual = normaliseActual(
      { LineURI: 'tel:+31201234001', EnterpriseVoiceEnabled: true, OnlineVoiceRoutingPolicy: { Name: 'vrp-nl' }, TenantDialPlan: { Name: 'DP-NL' }, CallingLineIdentity: { Name: 'CLI-Sales' } },
      [],
    );
    expect(planSteps(joiner, actual, userId)).toEqual([]);
  });

  it('removes the exact number for a leaver and relies on the removal to turn EV off', () => {
    const leaver: DesiredVoiceState = { enterpriseVoiceEnabled: false, phoneNumber: null, phoneNumberType: 'DirectRouting', policies: {} };
    expect(planSteps(leaver, provisioned, userId)).toEqual([
      {
        cmdlet: 'Remove-CsPhoneNumberAssignment',
        parameters: { Identity: userId, PhoneNumber: '+31201234001', PhoneNumberType: 'DirectRouting' },
        write: true,
      },
    ]);
  });

  it('resets every managed policy to global with a null PolicyName', () => {
    const leaver: DesiredVoiceState = {
      enterpriseVoiceEnabled: false,
      phoneNumber: null,
      phoneNumberType: 'DirectRouting',
      policies: { TenantDialPlan: null },
    };
    const steps = planSteps(leaver, { ...provisioned, phoneNumber: null, enterpriseVoiceEnabled: false }, userId);
    expect(steps).toEqual([{ cmdlet: 'Grant-CsTenantDialPlan', parameters: { Identity: userId, PolicyName: null }, write: true }]);
  });

  it('does not reset a policy that is already global', () => {
    const desired: DesiredVoiceState = { ...joiner, policies: { TenantDialPlan: null } };
    expect(planSteps(desired, { ...provisioned, policies: { TenantDialPlan: null } }, userId)).toEqual([]);
  });

  it('leaves policy types that the desired state does not name alone', () => {
    const desired: DesiredVoiceState = { ...joiner, policies: {} };
    expect(planSteps(desired, { ...provisioned, policies: { TeamsCallingPolicy: 'Other' } }, userId)).toEqual([]);
  });

  it('turns EV on with the attribute parameter set when the number is already there', () => {
    expect(planSteps(joiner, { ...provisioned, enterpriseVoiceEnabled: false }, userId)).toEqual([
      { cmdlet: 'Set-CsPhoneNumberAssignment', parameters: { Identity: userId, EnterpriseVoiceEnabled: true }, write: true },
    ]);
  });

  it('turns EV off for voice without a number when nothing is assigned', () => {
    const off: DesiredVoiceState = { enterpriseVoiceEnabled: false, phoneNumber: null, phoneNumberType: 'DirectRouting', policies: {} };
    expect(planSteps(off, { ...empty, enterpriseVoiceEnabled: true }, userId)).toEqual([
      { cmdlet: 'Set-CsPhoneNumberAssignment', parameters: { Identity: userId, EnterpriseVoiceEnabled: false }, write: true },
    ]);
  });

  it('turns EV back off after assigning when the desired state wants a number without voice', () => {
    const steps = planSteps({ ...joiner, enterpriseVoiceEnabled: false, policies: {} }, empty, userId);
    expect(steps.map((s) => s.parameters)).toEqual([
      { Identity: userId, PhoneNumber: '+31201234001', PhoneNumberType: 'DirectRouting' },
      { Identity: userId, EnterpriseVoiceEnabled: false },
    ]);
  });

  it('moves a mover to the new number with one assignment step', () => {
    const mover = { ...joiner, phoneNumber: '+31101234001' };
    expect(planSteps(mover, provisioned, userId)).toEqual([
      {
        cmdlet: 'Set-CsPhoneNumberAssignment',
        parameters: { Identity: userId, PhoneNumber: '+31101234001', PhoneNumberType: 'DirectRouting' },
        write: true,
      },
    ]);
  });

  it('grants a policy given with Tag: by its bare name', () => {
    const desired = { ...joiner, policies: { TenantDialPlan: 'Tag:DP-BE' } };
    expect(planSteps(desired, provisioned, userId)).toEqual([
      { cmdlet: 'Grant-CsTenantDialPlan', parameters: { Identity: userId, PolicyName: 'DP-BE' }, write: true },
    ]);
  });
});

describe('verify', () => {
  it('finds no difference when the state holds', () => {
    expect(verify(joiner, provisioned)).toEqual([]);
  });

  it('names every field that still differs', () => {
    expect(verify(joiner, empty)).toEqual([
      'phoneNumber: expected +31201234001, found none',
      'enterpriseVoiceEnabled: expected true, found false',
      'policies.CallingLineIdentity: expected CLI-Sales, found none',
      'policies.OnlineVoiceRoutingPolicy: expected VRP-NL, found none',
      'policies.TenantDialPlan: expected DP-NL, found none',
    ]);
  });
});

function policyObjects(): Record<string, unknown> {
  return {
    OnlineVoiceRoutingPolicy: { Authority: 'Tenant', Name: 'VRP-NL' },
    TenantDialPlan: { Authority: 'Tenant', Name: 'DP-NL' },
    CallingLineIdentity: { Authority: 'Tenant', Name: 'CLI-Sales' },
  };
}
