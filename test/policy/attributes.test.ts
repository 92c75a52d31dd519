import { describe, expect, it } from 'vitest';
import type { DirectoryUser, HrPerson } from '../../shared/contracts/messages.js';
import { mergeAttributes } from '../../shared/domain/policy.js';

const entra: DirectoryUser = {
  id: '3b7d1c9e-0d2a-4c55-8d0e-000000000101',
  userPrincipalName: 'anna.devries@contoso.example',
  mail: 'anna.devries@contoso.example',
  employeeId: 'E1001',
  displayName: 'Anna de Vries',
  department: 'Sales',
  officeLocation: 'AMS',
  jobTitle: 'Account Manager',
  accountEnabled: true,
  usageLocation: 'NL',
  assignedPlans: [],
};

describe('mergeAttributes', () => {
  it('takes the Entra attributes and copies officeLocation to site', () => {
    expect(mergeAttributes(entra, undefined)).toEqual({
      department: 'Sales',
      jobTitle: 'Account Manager',
      employeeId: 'E1001',
      userPrincipalName: 'anna.devries@contoso.example',
      mail: 'anna.devries@contoso.example',
      usageLocation: 'NL',
      accountEnabled: true,
      officeLocation: 'AMS',
      displayName: 'Anna de Vries',
      site: 'AMS',
    });
  });

  it('lets HR values win over Entra values', () => {
    const hr: HrPerson = { employeeId: 'E1001', department: 'Support', site: 'RTM' };
    const merged = mergeAttributes(entra, hr);
    expect([merged['department'], merged['site'], merged['officeLocation']]).toEqual(['Support', 'RTM', 'AMS']);
  });

  it('keeps the Entra value where HR sends an empty or null value', () => {
    const hr: HrPerson = { employeeId: 'E1001', department: '  ', jobTitle: '', costCenter: null };
    const merged = mergeAttributes(entra, hr);
    expect([merged['department'], merged['jobTitle'], 'costCenter' in merged]).toEqual(['Sales', 'Account Manager', false]);
  });

  it('keeps extra HR attributes such as departmentId', () => {
    const hr: HrPerson = { employeeId: 'E1001', departmentId: 'DEPT001', costCenter: 4100 };
    const merged = mergeAttributes(entra, hr);
    expect([merged['departmentId'], merged['costCenter']]).toEqual(['DEPT001', 4100]);
  });

  it('works from HR alone when the directory user is not known', () => {
    expect(mergeAttributes(undefined, { employeeId: 'E1002', site: 'RTM' })).toEqual({ employeeId: 'E1002', site: 'RTM' });
  });

  it('leaves out Entra attributes that are null', () => {
    const merged = mergeAttributes({ ...entra, officeLocation: null, mail: null }, undefined);
    expect(['site' in merged, 'officeLocation' in merged, 'mail' in merged]).toEqual([false, false, false]);
  });
});
