import { describe, expect, it } from 'vitest';
import { checkPolicy, didYouMean, knownAttributes } from '../../shared/domain/policy-check.js';
import { parseVoicePolicy } from '../../shared/domain/policy.js';

const parse = (lines: string[]) => parseVoicePolicy(lines.join('\n'), 'yaml', 'p.yaml', { unknownAttributes: 'report' });

describe('policy references', () => {
  it('knows the HR contract, the Entra ID attributes, site and the declared ones', () => {
    const names = knownAttributes(parse(['version: 1', 'rules: []', 'attributes: [costCenter]']));
    for (const n of ['employeeId', 'departmentId', 'officeLocation', 'usageLocation', 'site', 'costCenter']) expect(names).toContain(n);
  });

  it('suggests the nearest known name, and nothing for a name unlike any', () => {
    expect(didYouMean('sight', ['site', 'mail', 'jobTitle'])).toBe('site');
    expect(didYouMean('JOBTITLE', ['site', 'jobTitle'])).toBe('jobTitle');
    expect(didYouMean('zzzzzzzz', ['site', 'mail'])).toBeUndefined();
  });

  it('checks pools and policies only against what it was given', () => {
    const policy = parse(['version: 1', 'defaults: { numberPool: nowhere, policies: { TenantDialPlan: DP-X } }', 'rules: []']);
    expect(checkPolicy(policy, {})).toEqual([]);
    expect(checkPolicy(policy, { pools: ['ams'], policies: { TenantDialPlan: ['DP-NL'] } }).map((f) => f.path)).toEqual(['defaults.numberPool', 'defaults.policies.TenantDialPlan']);
  });

  it('checks the attribute callingLineIdentity looks up by', () => {
    const policy = parse(['version: 1', 'callingLineIdentity: { byDescription: departmentld }', 'rules: []']);
    expect(checkPolicy(policy, {})).toEqual([expect.objectContaining({ path: 'callingLineIdentity.byDescription', message: expect.stringContaining("did you mean 'departmentId'?") })]);
  });
});
