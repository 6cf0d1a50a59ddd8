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

  it('parses and formats like plain BigInt arithmetic, small amounts and huge ones', () => {
    const refUnits = (t: string) => {
      const [, sign, whole, frac = ''] = /^(-)?(\d+)(?:\.(\d+))?$/.exec(t)!;
      const u = BigInt(whole!) * 10_000n + BigInt((frac + '0000').slice(0, 4));
      return sign ? -u : u;
    };
    const refText = (u: bigint) => {
      const abs = u < 0n ? -u : u;
      let frac = (abs % 10_000n).toString().padStart(4, '0').replace(/0+$/, '');
      if (frac.length < 2) frac = frac.padEnd(2, '0');
      return `${u < 0n ? '-' : ''}${abs / 10_000n}.${frac}`;
    };
    const texts = ['0', '0.0', '-0.00', '00012.5', '99999999999.9999', '999999999999.9999', '900719925474.0991', '900719925474.0992', '12345678901234567890.0001'];
    for (let i = 0; i < 3000; i++) {
      const whole = String(Math.floor(Math.random() * 10 ** (1 + (i % 20)))).replace(/e.*/, '');
      const frac = String(Math.floor(Math.random() * 10_000)).padStart(4, '0').slice(0, i % 5);
      texts.push(`${i % 3 === 0 ? '-' : ''}${whole}${frac ? `.${frac}` : ''}`);
    }
    for (const t of texts) {
      expect(toUnits(t), t).toBe(refUnits(t));
      expect(fromUnits(toUnits(t)), t).toBe(refText(refUnits(t)));
    }
  });

  it('refuses what is not an amount', () => {
    expect(() => money('12,50')).toThrow(/not a decimal amount/);
    expect(() => money('1.23456')).toThrow(/more than 4 decimal places/);
  });
});
