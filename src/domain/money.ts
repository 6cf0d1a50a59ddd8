/**
 * Exact decimal arithmetic on money strings, in integer minor units scaled by
 * 10^4 (BigInt), so no float ever touches a price.
 */
const SCALE = 4;
const FACTOR = 10n ** BigInt(SCALE);
const DECIMAL = /^(-)?(\d+)(?:\.(\d+))?$/;
const SAFE_UNITS = BigInt(Number.MAX_SAFE_INTEGER);

/** Parses "12.3", "-0.50", "7" into scaled units. Throws on anything else. */
export function toUnits(value: string | number): bigint {
  const text = typeof value === 'number' ? numberToText(value) : value.trim();
  const m = DECIMAL.exec(text);
  if (!m) throw new TypeError(`not a decimal amount: ${JSON.stringify(value)}`);
  const [, sign, whole, frac = ''] = m;
  if (frac.length > SCALE && /[1-9]/.test(frac.slice(SCALE))) {
    throw new RangeError(`amount ${text} has more than ${SCALE} decimal places`);
  }
  const fraction = (frac + '0'.repeat(SCALE)).slice(0, SCALE);
  // Up to 11 whole digits the units fit a double exactly (< 10^15 < 2^53): one BigInt instead of three.
  if (whole!.length <= 11) {
    const units = BigInt(Number(whole) * 10_000 + Number(fraction));
    return sign ? -units : units;
  }
  const units = BigInt(whole!) * FACTOR + BigInt(fraction);
  return sign ? -units : units;
}

/** Formats scaled units with at least two decimals ("12.30", "0.0050"). */
export function fromUnits(units: bigint): string {
  const negative = units < 0n;
  const abs = negative ? -units : units;
  if (abs <= SAFE_UNITS) {
    // Exact in a double: integer arithmetic without BigInt division.
    const n = Number(abs);
    const f = n % 10_000;
    const cents = f % 100 === 0 ? String(f / 100).padStart(2, '0') : String(f).padStart(4, '0').replace(/0+$/, '');
    return `${negative ? '-' : ''}${(n - f) / 10_000}.${cents}`;
  }
  const whole = abs / FACTOR;
  let frac = (abs % FACTOR).toString().padStart(SCALE, '0').replace(/0+$/, '');
  if (frac.length < 2) frac = frac.padEnd(2, '0');
  return `${negative ? '-' : ''}${whole}.${frac}`;
}

/** Already what `money` returns: no leading zero or sign of zero, 2 to 4 decimals, no trailing zero past 2, |x| < 10^16. */
const CANONICAL = /^-?(?:0|[1-9]\d{0,15})\.\d\d(?:[1-9]|\d[1-9])?$/;
export function isCanonicalMoney(text: string): boolean {
  return CANONICAL.test(text) && !/^-0\.0+$/.test(text);
}

/** Normalises any decimal string or number to the canonical form ("12.30"). */
export function money(value: string | number | null | undefined): string {
  if (value === null || value === undefined || value === '') return '0.00';
  // Most amounts a channel sends are canonical already: no BigInt round trip for them.
  if (typeof value === 'string' && isCanonicalMoney(value)) return value;
  return fromUnits(toUnits(value));
}

export function addMoney(...values: Array<string | number>): string {
  return fromUnits(values.reduce<bigint>((sum, v) => sum + toUnits(v), 0n));
}

export function subMoney(a: string | number, b: string | number): string {
  return fromUnits(toUnits(a) - toUnits(b));
}

export function mulMoney(a: string | number, quantity: number): string {
  if (!Number.isInteger(quantity)) throw new TypeError(`quantity must be an integer, got ${quantity}`);
  return fromUnits(toUnits(a) * BigInt(quantity));
}

function numberToText(n: number): string {
  if (!Number.isFinite(n)) throw new TypeError(`not a finite amount: ${n}`);
  // toFixed avoids exponent notation; 10 places is beyond any currency's precision.
  return n.toFixed(10);
}
