/** Input validation for the admin API: zod at the edge, one error shape out. */
import { z } from 'zod';

/** An error the API answers with its own status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/**
 * The first string (key or value) in `value` holding a NUL character, by path.
 * Postgres text cannot store NUL and refuses a query that binds one, so such
 * input is refused here, for every route at once.
 */
export function nulAt(value: unknown, path: string[] = [], depth = 0): string | null {
  if (typeof value === 'string') return value.includes('\0') ? path.join('.') || '(value)' : null;
  if (value === null || typeof value !== 'object' || depth > 32) return null;
  for (const [k, v] of Object.entries(value)) {
    if (k.includes('\0')) return [...path, k].join('.');
    const found = nulAt(v, [...path, k], depth + 1);
    if (found) return found;
  }
  return null;
}

/**
 * Route options publishing a route's zod inputs as JSON Schema, from which the
 * OpenAPI document is generated (./openapi.ts). Zod still does the validating,
 * in the handler (`parse`): the admin API's validator compiler accepts all.
 */
export function documented(inputs: { query?: z.ZodType; params?: z.ZodType; body?: z.ZodType }): { schema: Record<string, unknown> } {
  const json = (s: z.ZodType) => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' });
  return {
    schema: {
      ...(inputs.query ? { querystring: json(inputs.query) } : {}),
      ...(inputs.params ? { params: json(inputs.params) } : {}),
      ...(inputs.body ? { body: json(inputs.body) } : {}),
    },
  };
}

/** Parses or throws a 400 naming every bad field. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, where: 'query' | 'body' | 'path'): z.output<S> {
  const nul = nulAt(value);
  if (nul !== null) throw new ApiError(400, `invalid ${where}: ${nul} contains a NUL character`, [{ field: nul, message: 'contains a NUL character' }]);
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => ({ field: i.path.join('.') || where, message: i.message }));
  throw new ApiError(400, `invalid ${where}: ${issues.map((i) => `${i.field} ${i.message}`).join('; ')}`, issues);
}

export const id = z.coerce.number({ error: 'must be a positive whole number' }).int().positive();
/** A whole number that fits the `integer` columns it is compared with (quantities, levels). */
export const int32 = z.coerce
  .number({ error: 'must be a whole number' })
  .int()
  .min(-2_147_483_648, { error: 'must be at least -2147483648' })
  .max(2_147_483_647, { error: 'must be at most 2147483647' });
export const limit = z.coerce.number().int().min(1).max(500).default(50);
/** Keyset pagination: pass the `next` of the previous page. */
export const before = id.optional();
export const idParams = z.object({ id });

/** A date (`2026-11-01`) or a date-time with offset (`2026-11-01T10:00:00Z`). */
export const instant = z.union([z.iso.datetime({ offset: true }), z.iso.date()]).transform((v) => new Date(v));

/** `a,b` or `a` -> ['a','b'], each checked against `values`. */
export function csvOf<T extends string>(values: readonly [T, ...T[]]) {
  return z
    .string()
    .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .pipe(z.array(z.enum(values)).min(1));
}

export function page<T extends { id: number }>(items: T[], size: number): { items: T[]; next: number | null } {
  return { items, next: items.length === size ? items[items.length - 1]!.id : null };
}
