import { describe, expect, it } from 'vitest';
import { FaultPlan } from '../../sandbox/teams-sim/faults.js';

const request = (cmdlet: string, identities: string[] = []) => ({ cmdlet, identities });

describe('fault rules', () => {
  it('fires only for the named cmdlet, case-insensitively', () => {
    const plan = new FaultPlan([{ kind: 'throttle', cmdlet: 'Set-CsPhoneNumberAssignment' }]);
    expect(plan.next(request('Get-CsOnlineUser'))).toBeUndefined();
    expect(plan.next(request('set-csphonenumberassignment'))?.kind).toBe('throttle');
  });

  it('fires `times` times and then stops', () => {
    const plan = new FaultPlan([{ kind: 'unavailable', times: 2 }]);
    const fired = [1, 2, 3].map(() => plan.next(request('Get-CsOnlineUser'))?.kind);
    expect(fired).toEqual(['unavailable', 'unavailable', undefined]);
  });

  it('matches a user by any name the request resolved to', () => {
    const plan = new FaultPlan([{ kind: 'crash', userId: 'anna@contoso.example' }]);
    expect(plan.next(request('Get-CsOnlineUser', ['bram@contoso.example']))).toBeUndefined();
    expect(plan.next(request('Get-CsOnlineUser', ['3b7d', 'Anna@contoso.example']))?.kind).toBe('crash');
  });

  it('fires only in the tenant it names, and only within its sandbox time window', () => {
    const A = '11111111-1111-4111-8111-111111111111';
    const plan = new FaultPlan([{ kind: 'busy', tenantId: A.toUpperCase(), fromMs: 1_000, untilMs: 60_000 }]);
    const at = (tenantId: string, elapsedMs: number) => plan.next({ cmdlet: 'Get-CsOnlineUser', identities: [], tenantId, elapsedMs })?.kind;
    expect(at(A, 999)).toBeUndefined();
    expect(at(A, 1_000)).toBe('busy');
    expect(at('22222222-2222-4222-8222-222222222222', 30_000)).toBeUndefined();
    expect(at(A, 59_999)).toBe('busy');
    expect(at(A, 60_000)).toBeUndefined();
    expect(() => new FaultPlan([{ kind: 'busy', fromMs: 5, untilMs: 5 }])).toThrow(/untilMs/);
  });

  it('repeats the same sequence for the same seed', () => {
    const draw = (seed: number) => {
      const plan = new FaultPlan([{ kind: 'throttle', probability: 0.3 }], seed);
      return Array.from({ length: 40 }, () => plan.next(request('Get-CsOnlineUser')) !== undefined);
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
    expect(draw(42).filter(Boolean).length).toBeGreaterThan(0);
  });

  it('resets the counts when the rules are replaced', () => {
    const plan = new FaultPlan([{ kind: 'hang', times: 1 }]);
    plan.next(request('Get-CsOnlineUser'));
    plan.set([{ kind: 'hang', times: 1 }]);
    expect(plan.next(request('Get-CsOnlineUser'))?.kind).toBe('hang');
  });
});
