import { describe, expect, it } from 'vitest';
import { parseEqualityFilter } from '../../sandbox/teams-sim/filter.js';
import { assignmentFilter, onlineUserFilter } from '../../shared/domain/bulk-read.js';
import { ANNA, BRAM, DANA, EVA, connectedTenant, errorOf, resultOf } from './fixtures.js';

const ids = (rows: unknown) => (rows as { Identity: string }[]).map((r) => r.Identity);

describe('Get-CsOnlineUser -Filter (reads for many users at once)', () => {
  it('returns exactly the users the -or clauses name, once each', () => {
    const { run } = connectedTenant();
    const rows = resultOf(run('Get-CsOnlineUser', { Filter: onlineUserFilter([ANNA, EVA, ANNA]) }));
    expect(ids(rows)).toEqual([ANNA, EVA]);
    expect((rows as Record<string, unknown>[])[1]).toMatchObject({ LineURI: 'tel:+31201234010', TenantDialPlan: { Name: 'DP-NL' } });
  });

  it('leaves out users Teams does not know yet, as the service does for a filter', () => {
    const { run } = connectedTenant();
    expect(ids(resultOf(run('Get-CsOnlineUser', { Filter: onlineUserFilter([ANNA, DANA]) })))).toEqual([ANNA]);
  });

  it('filters on UserPrincipalName and honours -ResultSize', () => {
    const { run } = connectedTenant();
    const filter = "UserPrincipalName -eq 'anna@contoso.example' -or UserPrincipalName -eq 'bram@contoso.example'";
    expect(ids(resultOf(run('Get-CsOnlineUser', { Filter: filter })))).toEqual([ANNA, BRAM]);
    expect(ids(resultOf(run('Get-CsOnlineUser', { Filter: filter, ResultSize: 1 })))).toEqual([ANNA]);
  });

  it('refuses -Identity together with -Filter, and syntax the simulator does not implement, naming it', () => {
    const { run } = connectedTenant();
    expect(errorOf(run('Get-CsOnlineUser', { Identity: ANNA, Filter: onlineUserFilter([ANNA]) })).message).toMatch(/Identity and Filter/);
    expect(errorOf(run('Get-CsOnlineUser', { Filter: "DisplayName -like 'A*'" })).message).toMatch(/implements only/);
    expect(errorOf(run('Get-CsOnlineUser', { Filter: "Department -eq 'Sales'" })).message).toMatch(/not a filterable attribute/);
  });
});

describe('Get-CsPhoneNumberAssignment -Filter', () => {
  it('returns the numbers assigned to any of the named users, sorted, paged by -Top and -Skip', () => {
    const { run } = connectedTenant();
    resultOf(run('Set-CsPhoneNumberAssignment', { Identity: ANNA, PhoneNumber: '+31201234001', PhoneNumberType: 'DirectRouting' }));
    const rows = resultOf(run('Get-CsPhoneNumberAssignment', { Filter: assignmentFilter([EVA, ANNA, BRAM]) })) as { TelephoneNumber: string; AssignedPstnTargetId: string }[];
    expect(rows.map((r) => [r.TelephoneNumber, r.AssignedPstnTargetId])).toEqual([
      ['+31201234001', ANNA],
      ['+31201234010', EVA],
    ]);
    const second = resultOf(run('Get-CsPhoneNumberAssignment', { Filter: assignmentFilter([EVA, ANNA]), Top: 1, Skip: 1 })) as { TelephoneNumber: string }[];
    expect(second.map((r) => r.TelephoneNumber)).toEqual(['+31201234010']);
  });

  it('refuses a filter on an attribute it does not filter on', () => {
    const { run } = connectedTenant();
    expect(errorOf(run('Get-CsPhoneNumberAssignment', { Filter: "City -eq 'Omaha'" })).message).toMatch(/not a filterable attribute/);
  });
});

describe('Get-CsBatchPolicyAssignmentOperation parameter sets', () => {
  it('takes -Identity (alias -OperationId) for one operation, and -Status without it', () => {
    const { run } = connectedTenant();
    const id = resultOf(run('New-CsBatchPolicyAssignmentOperation', { PolicyType: 'TenantDialPlan', PolicyName: 'DP-NL', Identity: [ANNA] })) as string;
    expect(resultOf(run('Get-CsBatchPolicyAssignmentOperation', { Identity: id }))).toMatchObject({ OperationId: id });
    expect(resultOf(run('Get-CsBatchPolicyAssignmentOperation', { OperationId: id }))).toMatchObject({ OperationId: id });
    expect(Array.isArray(resultOf(run('Get-CsBatchPolicyAssignmentOperation', { Status: 'InProgress' })))).toBe(true);
    expect(errorOf(run('Get-CsBatchPolicyAssignmentOperation', { Identity: id, Status: 'InProgress' })).fullyQualifiedErrorId).toMatch(/AmbiguousParameterSet/);
  });
});

describe('the filter grammar the simulator implements', () => {
  it('reads equality clauses joined by -or, with doubled quotes inside a value', () => {
    expect(parseEqualityFilter("Identity -eq 'a' -or identity -eq 'o''brien'", ['Identity'])).toEqual({
      ok: true,
      clauses: [
        { attribute: 'Identity', value: 'a' },
        { attribute: 'identity', value: "o'brien" },
      ],
    });
    expect(parseEqualityFilter("Identity -eq 'a' -and Identity -eq 'b'", ['Identity']).ok).toBe(false);
    expect(parseEqualityFilter('', ['Identity']).ok).toBe(false);
  });
});
