import { describe, expect, it } from 'vitest';
import { addMoney, money, mulMoney, subMoney } from '../../src/domain/money.ts';

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

  it('refuses what is not an amount', () => {
    expect(() => money('12,50')).toThrow(/not a decimal amount/);
    expect(() => money('1.23456')).toThrow(/more than 4 decimal places/);
  });
});
