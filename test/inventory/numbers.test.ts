import { describe, expect, it } from 'vitest';
import { compareNumbers, expandPools, expandRange, PoolDefinitionError, PoolsFileSchema, rangeSize } from '../../shared/domain/numbers.js';

describe('expandRange', () => {
  it('expands +31201234000..+31201234099 to 100 numbers in order', () => {
    const numbers = expandRange({ from: '+31201234000', to: '+31201234099' });
    expect(numbers.length).toBe(100);
    expect(numbers[0]).toBe('+31201234000');
    expect(numbers[99]).toBe('+31201234099');
  });

  it('expands an extension range on one trunk number', () => {
    expect(expandRange({ from: '+31201234567', to: '+31201234567', extensions: { from: 100, to: 102 } })).toEqual([
      '+31201234567;ext=100',
      '+31201234567;ext=101',
      '+31201234567;ext=102',
    ]);
  });

  it('counts a range without expanding it', () => {
    expect(rangeSize({ from: '+14255550000', to: '+14255559999' })).toBe(10_000);
  });
});

describe('expandPools', () => {
  const file = PoolsFileSchema.parse({
    pools: [
      { id: 'ams', ranges: [{ from: '+31201234000', to: '+31201234099' }], quarantineDays: 90 },
      { id: 'rtm', ranges: [{ from: '+31101234500', to: '+31101234549' }] },
    ],
  });

  it('expands every pool of the contract file', () => {
    const pools = expandPools(file.pools);
    expect([...pools.keys()]).toEqual(['ams', 'rtm']);
    expect(pools.get('rtm')?.length).toBe(50);
  });

  it('refuses a pool over the cap and names the field path', () => {
    expect(() => expandPools(file.pools, 99)).toThrow(
      new PoolDefinitionError(
        'pools[0].ranges',
        "pool 'ams' would hold 100 numbers, more than the 99 a pool may hold; split it into several pools or check the range ends",
      ),
    );
  });

  it('refuses a number listed twice', () => {
    const twice = [{ id: 'a', ranges: [{ from: '+31201234000', to: '+31201234001' }, { from: '+31201234001', to: '+31201234002' }], quarantineDays: 90 }];
    expect(() => expandPools(twice)).toThrow('pools[0].ranges[1]: +31201234001 is already listed at pools[0].ranges[0]');
  });

  it('refuses a pool id used twice', () => {
    expect(() => expandPools([file.pools[0]!, file.pools[0]!])).toThrow("pools[1].id: pool 'ams' is defined twice");
  });
});

describe('compareNumbers', () => {
  it('orders extensions numerically', () => {
    expect(['+31201234567;ext=100', '+31201234567;ext=99', '+31201234567'].sort(compareNumbers)).toEqual([
      '+31201234567',
      '+31201234567;ext=99',
      '+31201234567;ext=100',
    ]);
  });

  it('puts shorter numbers first', () => {
    expect(['+31201234567', '+1425555000'].sort(compareNumbers)).toEqual(['+1425555000', '+31201234567']);
  });
});
