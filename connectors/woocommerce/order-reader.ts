/**
 * `wooOrderSchema.safeParse` with a fast path. zod spent ~0.75 us a field
 * (2.5-4.5 ms of CPU a 100-order page, more than JSON.parse of the page), and
 * a pull is CPU-bound on the connector's side. The fast path checks the same
 * fields with plain code and gives the same output (the payload's other keys
 * passed through, as looseObject does; only the keys' order differs, which
 * nothing reads); whenever a value is not the plain case it gives up and zod
 * decides, so a bad order is refused with zod's own issues, exactly as
 * before. Being stricter than the schema is safe here, being looser is not:
 * test/connectors/woocommerce/mapping.test.ts compares the two on real
 * payloads and on broken variants of them.
 */
import type { z } from 'zod';
import { fromUnits, isCanonicalMoney, toUnits } from '../../src/domain/money.ts';
import { MAX_QUANTITY, MONEY_LIMIT_UNITS } from '../values.ts';
import { wooOrderSchema, type WooOrder } from './mapping.ts';

type Obj = Record<string, unknown>;
/** Thrown (and caught below) as soon as a value is not the plain case. */
const GIVE_UP = Symbol('give up');
type Result = { success: true; data: WooOrder } | { success: false; error: z.ZodError };

export function readOrder(raw: unknown): Result {
  const data = plainOrder(raw);
  return data ? { success: true, data } : (wooOrderSchema.safeParse(raw) as Result);
}

/** The fast path alone: the schema's output, or undefined when zod has to decide. */
export function plainOrder(raw: unknown): WooOrder | undefined {
  try {
    return order(raw);
  } catch (err) {
    if (err !== GIVE_UP) throw err;
    return undefined;
  }
}

const GMT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/;
const CURRENCY = /^[A-Za-z]{3}$/;

/** A copy of a plain object (the payload's other keys kept); `__proto__` as a key is left to zod. */
function object(v: unknown): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || Object.getPrototypeOf(v) !== Object.prototype || Object.hasOwn(v, '__proto__')) throw GIVE_UP;
  return { ...(v as Obj) };
}

/** A key that is absent, or present with any value: `undefined` (never in JSON) is left to zod. */
function has(input: Obj, key: string): boolean {
  if (!(key in input)) return false;
  if (input[key] === undefined) throw GIVE_UP;
  return true;
}

const int = (v: unknown): number => {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw GIVE_UP;
  return v;
};
const str = (v: unknown): string => {
  if (typeof v !== 'string') throw GIVE_UP;
  return v;
};
/** `text`: a string, or '' for null and absent. */
const text = (v: unknown): string => (v === null || v === undefined ? '' : str(v));

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
/** `gmtDate`: YYYY-MM-DDTHH:MM:SS that is a real time (the schema's round trip through Date, without a Date). */
function gmt(v: unknown): string {
  const s = str(v);
  if (!GMT.test(s)) throw GIVE_UP;
  const y = +s.slice(0, 4), mo = +s.slice(5, 7), d = +s.slice(8, 10);
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  const days = mo === 2 && leap ? 29 : DAYS[mo - 1];
  if (days === undefined || d < 1 || d > days || +s.slice(11, 13) > 23 || +s.slice(14, 16) > 59 || +s.slice(17, 19) > 59) throw GIVE_UP;
  return s;
}

/** `moneyField` (`decimalAmount`, then `money`): an exact decimal within the column, normalised ("12.3" -> "12.30"). */
function amount(v: unknown): string {
  if (typeof v === 'string' && isCanonicalMoney(v)) return v;
  if (typeof v !== 'string' && (typeof v !== 'number' || !Number.isFinite(v))) throw GIVE_UP;
  let units: bigint;
  try {
    units = toUnits(v);
  } catch {
    throw GIVE_UP;
  }
  if ((units < 0n ? -units : units) >= MONEY_LIMIT_UNITS) throw GIVE_UP;
  return fromUnits(units);
}

/** A `.nullish()` field: absent stays absent, null stays null, anything else is read. */
function nullish(o: Obj, key: string, read: (v: unknown) => unknown): void {
  if (!has(o, key)) return;
  if (o[key] !== null) o[key] = read(o[key]);
}

function address(v: unknown): Obj {
  const a = object(v);
  a.first_name = text(a.first_name);
  a.last_name = text(a.last_name);
  a.company = text(a.company);
  a.address_1 = text(a.address_1);
  a.address_2 = text(a.address_2);
  a.city = text(a.city);
  a.state = text(a.state);
  a.postcode = text(a.postcode);
  a.country = text(a.country);
  if (has(a, 'email')) a.email = text(a.email);
  if (has(a, 'phone')) a.phone = text(a.phone);
  return a;
}

function line(v: unknown): Obj {
  const l = object(v);
  int(l.id);
  l.name = text(l.name);
  nullish(l, 'product_id', int);
  nullish(l, 'variation_id', int);
  const quantity = int(l.quantity);
  if (quantity < 0 || quantity > MAX_QUANTITY) throw GIVE_UP;
  l.subtotal = amount(l.subtotal);
  l.total = amount(l.total);
  l.total_tax = amount(l.total_tax);
  nullish(l, 'sku', str);
  nullish(l, 'price', (p) => {
    if (typeof p !== 'number' && typeof p !== 'string') throw GIVE_UP;
    const n = Number(p);
    if (!Number.isFinite(n) || Math.abs(n) >= 1e16) throw GIVE_UP;
    return p;
  });
  return l;
}

function refund(v: unknown): Obj {
  const r = object(v);
  if (typeof r.id !== 'number' || !Number.isFinite(r.id)) throw GIVE_UP;
  r.total = amount(r.total);
  return r;
}

function list(v: unknown, read: (item: unknown) => Obj): Obj[] {
  if (!Array.isArray(v)) throw GIVE_UP;
  const out = new Array<Obj>(v.length);
  for (let i = 0; i < v.length; i++) out[i] = read(v[i]);
  return out;
}

function order(raw: unknown): WooOrder {
  const o = object(raw);
  if (int(o.id) <= 0) throw GIVE_UP;
  if (typeof o.number === 'string') {
    /* kept */
  } else if (typeof o.number === 'number' && Number.isFinite(o.number)) o.number = String(o.number);
  else throw GIVE_UP;
  str(o.status);
  if (!CURRENCY.test(str(o.currency))) throw GIVE_UP;
  gmt(o.date_created_gmt);
  gmt(o.date_modified_gmt);
  nullish(o, 'date_completed_gmt', gmt);
  nullish(o, 'date_paid_gmt', gmt);
  o.discount_total = amount(o.discount_total);
  o.shipping_total = amount(o.shipping_total);
  o.total = amount(o.total);
  o.total_tax = amount(o.total_tax);
  nullish(o, 'customer_id', int);
  nullish(o, 'billing', address);
  nullish(o, 'shipping', address);
  o.line_items = list(o.line_items, line);
  o.refunds = has(o, 'refunds') ? list(o.refunds, refund) : [];
  return o as WooOrder;
}
