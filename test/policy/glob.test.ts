import { describe, expect, it } from 'vitest';
import { anyGlobMatches, globMatches } from '../../shared/domain/glob.js';

describe('globMatches', () => {
  it('matches a literal pattern only in full', () => {
    expect([globMatches('AMS', 'AMS'), globMatches('AMS', 'AMS-2'), globMatches('AMS', 'XAMS')]).toEqual([true, false, false]);
  });

  it('ignores case on both sides', () => {
    expect(globMatches('ams', 'AmS')).toBe(true);
  });

  it('lets * stand for any run of characters, including none', () => {
    expect([globMatches('Intern*', 'Intern'), globMatches('Intern*', 'Intern Finance'), globMatches('*ern', 'Intern')]).toEqual([
      true,
      true,
      true,
    ]);
  });

  it('lets ? stand for exactly one character', () => {
    expect([globMatches('DEPT00?', 'DEPT001'), globMatches('DEPT00?', 'DEPT00'), globMatches('DEPT00?', 'DEPT0012')]).toEqual([
      true,
      false,
      false,
    ]);
  });

  it('backtracks over several stars', () => {
    expect([globMatches('*a*b*c', 'xxaxxbxxbxc'), globMatches('*a*b*c', 'xxaxxbxxbx')]).toEqual([true, false]);
  });

  it('stays fast on a pathological pattern against a long value', () => {
    const value = 'a'.repeat(5000);
    expect(globMatches('*a*a*a*a*a*a*a*a*b', value)).toBe(false);
  });

  it('matches the empty value only with stars', () => {
    expect([globMatches('*', ''), globMatches('?', '')]).toEqual([true, false]);
  });
});

describe('anyGlobMatches', () => {
  it('is true when any pattern of the list matches', () => {
    expect([anyGlobMatches(['AMS', 'RTM'], 'rtm'), anyGlobMatches(['AMS', 'RTM'], 'UTR')]).toEqual([true, false]);
  });
});
