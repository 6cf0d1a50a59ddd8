/**
 * Shopify's search syntax for the `query` argument of list fields.
 *
 * Docs: https://shopify.dev/docs/api/usage/search-syntax
 * Supported: `field:value`, comparators `:>`, `:>=`, `:<`, `:<=`, quoted
 * values ('…' or "…"), implicit AND, `AND`, `OR`, negation with `-` or `NOT`.
 * Terms without a field, and unknown fields, match nothing the way Shopify
 * ignores them: they are reported to the caller as unknown.
 */
export type Comparator = '=' | '>' | '>=' | '<' | '<=';

export interface Term { field: string; op: Comparator; value: string; negate: boolean }

/** Disjunction of conjunctions. */
export type SearchQuery = Term[][];

export function parseSearch(query: string | null | undefined): SearchQuery {
  if (!query || !query.trim()) return [];
  const tokens: string[] = [];
  const re = /\s*(-?[A-Za-z_.]+:(?:[<>]=?)?(?:'[^']*'|"[^"]*"|\S+)|\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(query))) tokens.push(m[1]!);
  const groups: SearchQuery = [[]];
  let negateNext = false;
  for (const tok of tokens) {
    if (tok === 'OR') { groups.push([]); continue; }
    if (tok === 'AND') continue;
    if (tok === 'NOT') { negateNext = true; continue; }
    const t = /^(-?)([A-Za-z_.]+):([<>]=?)?(.*)$/.exec(tok);
    // Parentheses group bare terms (`(word`) but are part of a field's value (`tag:(word` matches
    // no tag): recorded in 2025-01_products_product-invalid-search-query-syntax.json.
    const bare = t ? '' : unquote(tok.replace(/^\(+|\)+$/g, ''));
    if (!t && !bare) continue;
    const term: Term = t
      ? { field: t[2]!.toLowerCase(), op: (t[3] as Comparator | undefined) ?? '=', value: unquote(t[4]!), negate: t[1] === '-' || negateNext }
      : { field: 'default', op: '=', value: bare, negate: negateNext };
    negateNext = false;
    groups.at(-1)!.push(term);
  }
  return groups.filter((g) => g.length > 0);
}

function unquote(v: string): string {
  return /^(['"]).*\1$/.test(v) ? v.slice(1, -1) : v;
}

/** How one field of a record compares to a term's value. */
export type FieldMatcher<T> = (record: T, term: Term) => boolean;

/** Does `record` satisfy `q`? Fields without a matcher match everything (Shopify ignores them). */
export function matches<T>(record: T, q: SearchQuery, fields: Record<string, FieldMatcher<T>>): boolean {
  if (q.length === 0) return true;
  return q.some((group) =>
    group.every((term) => {
      const m = fields[term.field];
      if (!m) return true;
      const r = m(record, term);
      return term.negate ? !r : r;
    }),
  );
}

/** Compare a timestamp field to a term's date value (`2024-01-01`, `2024-01-01T00:00:00Z`). */
export function compareTime(ms: number | null, term: Term): boolean {
  if (ms === null) return false;
  const v = Date.parse(term.value);
  if (Number.isNaN(v)) return false;
  return compare(ms, v, term.op);
}

export function compare(a: number, b: number, op: Comparator): boolean {
  switch (op) {
    case '>': return a > b;
    case '>=': return a >= b;
    case '<': return a < b;
    case '<=': return a <= b;
    default: return a === b;
  }
}

/** A bare term against free text: one of its words (case-insensitive), or a prefix with `*`. */
export function compareWords(value: string | null | undefined, term: Term): boolean {
  if (value == null) return false;
  const t = term.value.toLowerCase();
  return value.toLowerCase().split(/\s+/).some((w) => (t.endsWith('*') ? w.startsWith(t.slice(0, -1)) : w === t));
}

/** Case-insensitive equality, with a trailing `*` as prefix match. */
export function compareText(value: string | null | undefined, term: Term): boolean {
  if (value == null) return false;
  const v = value.toLowerCase();
  const t = term.value.toLowerCase();
  return t.endsWith('*') ? v.startsWith(t.slice(0, -1)) : v === t;
}
