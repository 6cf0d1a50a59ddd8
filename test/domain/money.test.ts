import { describe, expect, it } from 'vitest';
import { addMoney, fromUnits, isCanonicalMoney, money, mulMoney, subMoney, toUnits } from '../../src/domain/money.ts';

describe('money', () => {
  it('adds exactly where floats do not', () => {
    expect(0.1 + 0.2).not.toBe(0.3);
    expect(addMoney('0.10', '0.20')).toBe('0.30');
    expect(addMoney('19.99', '19.99', '19.99')).toBe('59.97');
  });

  it('normalises channel strings and numbers', () => {
    expect(money('12.5')).toBe('12.50');
    expect(money('7')).toBe('7.00');
    expect(money(null)).toBe('0.00');
    expect(money('0.0050')).toBe('0.005');
    expect(money(-3.1)).toBe('-3.10');
    expect(subMoney('10.00', '10.01')).toBe('-0.01');
    expect(mulMoney('12.50', 3)).toBe('37.50');
  });

  it('takes the canonical shortcut only for text the exact round trip leaves unchanged', () => {
    const texts = ['0.00', '-0.00', '-0.01', '0.50', '00.50', '012.30', '12.30', '12.3', '12.300', '12.301', '12.3010', '12.3333', '-0.000', '-0.001',
      '9999999999999999.99', '10000000000000000.00', '1e3', '+1.00', ' 1.00', '1.00 ', '-5.10', '--5.10', '5.', '.50'];
    for (let i = 0; i < 2000; i++) {
      const digits = '0123456789-.'.split('');
      texts.push(Array.from({ length: 1 + (i % 8) }, (_, j) => digits[(i * 7 + j * 13 + (i >> 3)) % digits.length]).join(''));
    }
    for (const text of texts) {
      let exact: string | null = null;
      try {
        exact = fromUnits(toUnits(text));
      } catch {
        /* not an amount */
      }
      if (isCanonicalMoney(text)) expect(exact, text).toBe(text);
      if (exact === text && Math.abs(Number(text)) < 1e16) expect(isCanonicalMoney(text), text).toBe(true);
    }
  });

  it('refuses what is not an amount', () => {
    expect(() => money('12,50')).toThrow(/not a decimal amount/);
    expect(() => money('1.23456')).toThrow(/more than 4 decimal places/);
  });
});
