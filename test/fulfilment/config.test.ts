import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';

describe('fulfilment settings', () => {
  it('default to manual fulfilment, a manual carrier and allocation when paid or authorized', () => {
    const c = loadConfig({});
    expect(c.fulfilmentMode).toBe('manual');
    expect(c.carrier).toBe('manual');
    expect(c.allocateWhen).toEqual(['paid', 'authorized']);
  });

  it('parse a custom list', () => {
    expect(loadConfig({ ALLOCATE_WHEN: 'paid, partially_paid' }).allocateWhen).toEqual(['paid', 'partially_paid']);
  });

  it.each([
    ['FULFILMENT_MODE', 'automatic', /^FULFILMENT_MODE must be manual or auto \(got "automatic"\)$/],
    ['CARRIER', 'ups', /^CARRIER must be manual or simulated \(got "ups"\)$/],
    ['ALLOCATE_WHEN', 'paid,payed', /^ALLOCATE_WHEN must be a comma-separated list of financial statuses \(pending, authorized, .*\) \(got "paid,payed"\)$/],
  ])('refuse a bad %s with one line naming it', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(message);
  });
});
