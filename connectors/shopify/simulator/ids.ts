/**
 * Global ids and money as Shopify prints them.
 */

/** `gid://shopify/<Type>/<n>` */
export function gid(type: string, id: number): string {
  return `gid://shopify/${type}/${id}`;
}

/** The numeric id of a gid of this type, or null when it is not one. */
export function parseGid(value: unknown, type: string): number | null {
  if (typeof value !== 'string') return null;
  const m = /^gid:\/\/shopify\/([A-Za-z]+)\/(\d+)(?:\?.*)?$/.exec(value);
  if (!m || m[1] !== type) return null;
  return Number(m[2]);
}

/** The type name of any gid (`Order`), or null. */
export function gidType(value: string): string | null {
  return /^gid:\/\/shopify\/([A-Za-z]+)\/\d+/.exec(value)?.[1] ?? null;
}

/**
 * Cents → Shopify's `Decimal` rendering: no trailing zeros but at least one
 * decimal ("24.0", "12.5", "10.99"), as every `amount` in the captures shows.
 */
export function money(cents: number): string {
  const neg = cents < 0;
  const abs = Math.abs(Math.round(cents));
  const whole = Math.floor(abs / 100);
  const frac = abs % 100;
  let f = frac.toString().padStart(2, '0');
  if (f.endsWith('0')) f = f.slice(0, 1);
  return `${neg ? '-' : ''}${whole}.${f}`;
}

/** "12.00" / "12" / 12 → 1200 cents. */
export function toCents(amount: unknown): number {
  const n = typeof amount === 'number' ? amount : Number(String(amount ?? '0'));
  return Math.round((Number.isFinite(n) ? n : 0) * 100);
}

/** Shopify's DateTime rendering: second precision, `Z`. */
export function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
