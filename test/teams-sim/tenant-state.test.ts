import { describe, expect, it } from 'vitest';
import { SimClock } from '../../sandbox/clock.js';
import { SimTenant } from '../../sandbox/teams-sim/tenant.js';
import { ANNA, EVA, connectedTenant, resultOf, tenantFile } from './fixtures.js';

describe('saving and restoring the tenant between sandbox runs', () => {
  it('restores voice state, policies and number assignments', () => {
    const { run, tenant } = connectedTenant();
    resultOf(run('Set-CsPhoneNumberAssignment', { Identity: ANNA, PhoneNumber: '+31201234001', PhoneNumberType: 'DirectRouting' }));
    resultOf(run('Grant-CsCallingLineIdentity', { Identity: ANNA, PolicyName: 'CLI-Sales' }));
    resultOf(run('Remove-CsPhoneNumberAssignment', { Identity: EVA, RemoveAll: true }));
    const saved = JSON.parse(JSON.stringify(tenant.exportState())) as unknown;

    const restored = new SimTenant(tenantFile(), new SimClock());
    restored.importState(saved);
    expect(restored.usersView()).toEqual(tenant.usersView());
    expect(restored.assignments()).toEqual(tenant.assignments());
  });

  it('refuses a state saved for another tenant', () => {
    const { tenant } = connectedTenant();
    const other = new SimTenant({ ...tenantFile(), tenantId: 'another-tenant' }, new SimClock());
    expect(() => other.importState(tenant.exportState())).toThrow(
      'saved Teams state is for tenant 8f0c2a53-5d0e-4c1b-9a57-2f1f0e6f0001, not another-tenant',
    );
  });
});
