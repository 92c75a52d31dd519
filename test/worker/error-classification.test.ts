import { describe, expect, it } from 'vitest';
import {
  classifyCmdletError,
  classifyProcessFailure,
  conflictNumber,
  ownerFromAssignments,
} from '../../shared/domain/error-classification.js';

const restException = 'Microsoft.Teams.ConfigAPI.Cmdlets.Generated.Runtime.RestException';

describe('classifyCmdletError', () => {
  it('treats a number held by another user as a conflict and extracts the number', () => {
    expect(
      classifyCmdletError({
        type: restException,
        message: "Telephone Number '+31201234003' has already been assigned to another user",
        cmdlet: 'Set-CsPhoneNumberAssignment',
      }),
    ).toEqual({ class: 'conflict', code: 'NumberConflict', number: '+31201234003', reconnect: false, replaceSession: false });
  });

  it('treats "Service is unavailable" as transient', () => {
    expect(classifyCmdletError({ message: 'Service is unavailable. Please try again' })).toMatchObject({
      class: 'transient',
      code: 'ServiceUnavailable',
      reconnect: false,
    });
  });

  it('treats throttling as transient and keeps the retry hint', () => {
    expect(classifyCmdletError({ message: 'Too many requests. Retry-After: 7' })).toMatchObject({
      class: 'transient',
      code: 'Throttled',
      retryAfterMs: 7000,
    });
  });

  it('treats "session availability is Busy" (the tenant session limit) as transient throttling, not a permanent failure', () => {
    expect(
      classifyCmdletError({
        type: restException,
        message: 'Connecting to the tenant failed: session availability is Busy.',
        cmdlet: 'Connect-MicrosoftTeams',
        fullyQualifiedErrorId: 'SessionBusy,Connect-MicrosoftTeams',
      }),
    ).toMatchObject({ class: 'transient', code: 'Throttled', reconnect: false, replaceSession: false });
  });

  it('treats a 429 status as throttling', () => {
    expect(classifyCmdletError({ message: 'Response status code does not indicate success: 429' }).code).toBe('Throttled');
  });

  it('asks for a reconnect on Unauthorized', () => {
    expect(classifyCmdletError({ message: 'Unauthorized' })).toMatchObject({
      class: 'transient',
      code: 'SessionBroken',
      reconnect: true,
    });
  });

  it('asks for a reconnect on an invalid credential', () => {
    expect(classifyCmdletError({ message: 'Invalid credential. Please run Connect-MicrosoftTeams' }).reconnect).toBe(true);
  });

  it('treats a missing policy as permanent PolicyNotFound', () => {
    expect(classifyCmdletError({ message: "Cannot find policy 'VRP-XX' of type OnlineVoiceRoutingPolicy", cmdlet: 'Grant-CsOnlineVoiceRoutingPolicy' })).toMatchObject({
      class: 'permanent',
      code: 'PolicyNotFound',
    });
  });

  it('treats a user without Teams Phone as permanent UserNotVoiceCapable', () => {
    expect(
      classifyCmdletError({ message: 'The user is not licensed for PhoneSystem and cannot be enabled for Enterprise Voice' }),
    ).toMatchObject({ class: 'permanent', code: 'UserNotVoiceCapable' });
  });

  it('treats a user Teams does not know yet as transient UserNotFound', () => {
    expect(classifyCmdletError({ message: "Management object not found for identity '3b7d'" })).toMatchObject({
      class: 'transient',
      code: 'UserNotFound',
    });
  });

  it('reports anything else as permanent CmdletFailed', () => {
    expect(classifyCmdletError({ message: 'Something odd happened' })).toEqual({
      class: 'permanent',
      code: 'CmdletFailed',
      reconnect: false,
      replaceSession: false,
    });
  });
});

describe('classifyProcessFailure', () => {
  it('turns a hung cmdlet into a transient Timeout that replaces the session', () => {
    expect(classifyProcessFailure('timeout')).toEqual({ class: 'transient', code: 'Timeout', reconnect: false, replaceSession: true });
  });

  it('turns a crash into a transient SessionBroken that replaces the session', () => {
    expect(classifyProcessFailure('crash')).toMatchObject({ class: 'transient', code: 'SessionBroken', replaceSession: true });
  });
});

describe('conflictNumber', () => {
  it('keeps a Direct Routing extension', () => {
    expect(conflictNumber("Telephone Number '+31201234567;ext=12' has already been assigned to another user")).toBe(
      '+31201234567;ext=12',
    );
  });

  it('adds the + that some messages leave out', () => {
    expect(conflictNumber('Telephone Number 31201234003 has already been assigned to another user')).toBe('+31201234003');
  });
});

describe('ownerFromAssignments', () => {
  it('returns the AssignedPstnTargetId of the first row', () => {
    expect(ownerFromAssignments([{ TelephoneNumber: '+31201234003', AssignedPstnTargetId: 'abc' }])).toBe('abc');
  });

  it('returns undefined when nobody holds the number', () => {
    expect(ownerFromAssignments([])).toBeUndefined();
  });
});
