/**
 * The simulated carrier (demo and tests): issues tracking numbers in real
 * carriers' formats, with valid check digits, and reports delivery after a
 * delay. Deterministic per fulfilment, so asking twice gives the same label.
 * Never contacts anything.
 * - UPS: "1Z" + 6-character shipper + 2-digit service + 7 digits + check digit (18 characters);
 * - USPS: IMpb, 22 digits starting 9400 1, mod-10 check digit;
 * - DHL Express: 10 digits, mod-7 check digit.
 */
import { createHash } from 'node:crypto';
import type { CarrierAdapter, Label, ShipmentRequest } from './types.ts';
import { trackingUrlFor } from './urls.ts';

function digits(seed: string, count: number): string {
  const hash = createHash('sha256').update(seed).digest();
  let out = '';
  for (let i = 0; out.length < count; i++) out += String(hash[i % hash.length]! % 10);
  return out;
}

/** UPS 1Z check digit over the 15 characters after "1Z": letters map to (code - 63) mod 10, odd positions once, even twice. */
export function upsCheckDigit(body: string): number {
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    const value = /\d/.test(ch) ? Number(ch) : (ch.charCodeAt(0) - 63) % 10;
    sum += i % 2 === 1 ? value * 2 : value;
  }
  return (10 - (sum % 10)) % 10;
}

/** USPS (and GS1) mod-10: from the right, weights 3, 1, 3, ... */
export function mod10CheckDigit(body: string): number {
  let sum = 0;
  for (let i = 0; i < body.length; i++) sum += Number(body[body.length - 1 - i]) * (i % 2 === 0 ? 3 : 1);
  return (10 - (sum % 10)) % 10;
}

export function upsNumber(seed: string): string {
  const body = `A1B2C3` + '03' + digits(seed, 7);
  return `1Z${body}${upsCheckDigit(body)}`;
}

export function uspsNumber(seed: string): string {
  const body = '94001' + digits(seed, 16);
  return `${body}${mod10CheckDigit(body)}`;
}

export function dhlNumber(seed: string): string {
  const body = digits(seed, 9).replace(/^0/, '1');
  return `${body}${Number(body) % 7}`;
}

const CARRIERS = [
  { carrier: 'UPS', service: 'Ground', number: upsNumber },
  { carrier: 'USPS', service: 'Priority Mail', number: uspsNumber },
  { carrier: 'DHL', service: 'Express Worldwide', number: dhlNumber },
] as const;

export function simulatedCarrier(options: { deliveryAfterMs: number; salt?: string }): CarrierAdapter {
  const salt = options.salt ?? 'channelsync';
  return {
    name: 'simulated',
    automatic: true,
    deliveryCheckAfterMs: options.deliveryAfterMs,
    async createShipment(request: ShipmentRequest): Promise<Label> {
      const pick = CARRIERS[request.fulfilmentId % CARRIERS.length]!;
      const trackingNumber = pick.number(`${salt}:${request.fulfilmentId}`);
      return { carrier: pick.carrier, service: pick.service, trackingNumber, trackingUrl: trackingUrlFor(pick.carrier, trackingNumber) };
    },
    async trackDelivery(shipment) {
      const due = shipment.shippedAt.getTime() + options.deliveryAfterMs - Date.now();
      return due <= 0 ? { delivered: true } : { delivered: false, checkAgainInMs: due };
    },
  };
}
