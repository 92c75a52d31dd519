import { describe, expect, it } from 'vitest';
import { operationIdOf, operationProgress, succeeded } from '../../shared/domain/batch-policy.js';
import { assignmentFilter, bulkReadable, onlineUserFilter, splitBulkRead } from '../../shared/domain/bulk-read.js';

const A = '3b7d1c9e-0d2a-4c55-8d0e-000000000101';
const B = '3B7D1C9E-0D2A-4C55-8D0E-000000000102';

describe('bulk reads (shared/domain/bulk-read.ts)', () => {
  it('builds one -or filter of object ids, lower case', () => {
    expect(onlineUserFilter([A, B])).toBe(`Identity -eq '${A}' -or Identity -eq '${B.toLowerCase()}'`);
    expect(assignmentFilter([A])).toBe(`AssignedPstnTargetId -eq '${A}'`);
  });

  it('never puts anything but an object id into a filter', () => {
    expect(bulkReadable(A)).toBe(true);
    expect(bulkReadable("x' -or Identity -like '*")).toBe(false);
    expect(bulkReadable('anna@contoso.example')).toBe(false);
    expect(() => onlineUserFilter([A, "x' -or Identity -like '*"])).toThrow(/not an object id/);
    expect(() => onlineUserFilter([])).toThrow(/at least one/);
  });

  it('splits the answers per user: numbers from the assignment rows, policies by name', () => {
    const users = [
      { Identity: A, EnterpriseVoiceEnabled: true, LineURI: 'tel:+31201234001', FeatureTypes: ['PhoneSystem'], TenantDialPlan: { Name: 'DP-NL' } },
      { Identity: B.toLowerCase(), EnterpriseVoiceEnabled: false, LineURI: null, FeatureTypes: [] },
      { Identity: '00000000-0000-4000-8000-000000000999', EnterpriseVoiceEnabled: true },
    ];
    const rows = [
      { TelephoneNumber: '+31201234009', AssignedPstnTargetId: A },
      { TelephoneNumber: '+31201234777', AssignedPstnTargetId: '00000000-0000-4000-8000-000000000999' },
    ];
    const split = splitBulkRead([A, B], users, rows);
    expect([...split.keys()]).toEqual([A, B.toLowerCase()]);
    expect(split.get(A)).toMatchObject({ enterpriseVoiceEnabled: true, phoneNumber: '+31201234009', phoneSystemLicensed: true, policies: { TenantDialPlan: 'DP-NL' } });
    expect(split.get(B.toLowerCase())).toMatchObject({ enterpriseVoiceEnabled: false, phoneNumber: null, phoneSystemLicensed: false });
  });

  it('leaves out a user the answer does not contain, so the caller reads them one by one', () => {
    expect(splitBulkRead([A, B], [{ Identity: A }], null).has(B.toLowerCase())).toBe(false);
  });
});

describe('batch policy operations (shared/domain/batch-policy.ts)', () => {
  it('takes the operation id as a string or from an object', () => {
    expect(operationIdOf('e640a5c9-c74f-4df7-b62e-4b01ae878bdc')).toBe('e640a5c9-c74f-4df7-b62e-4b01ae878bdc');
    expect(operationIdOf({ OperationId: 'op-1' })).toBe('op-1');
    expect(operationIdOf(null)).toBeUndefined();
  });

  it('is not done until OverallStatus is Completed (or Complete), then reports each user', () => {
    expect(operationProgress({ OverallStatus: 'InProgress', UserState: [] })).toEqual({ done: false });
    const done = operationProgress({
      OverallStatus: 'Completed',
      UserState: [
        { Id: A, Result: 'Success', State: 'Completed' },
        { Id: B, Result: 'User not found', State: 'Completed' },
        { Id: 'c', Result: '', State: 'InProgress' },
      ],
    });
    expect(done.done && [...done.results]).toEqual([
      [A, 'Success'],
      [B.toLowerCase(), 'User not found'],
      ['c', 'not completed (InProgress)'],
    ]);
    expect(operationProgress({ OverallStatus: 'Complete' }).done).toBe(true);
    expect([succeeded('Success'), succeeded('User not found'), succeeded(undefined)]).toEqual([true, false, false]);
  });
});
