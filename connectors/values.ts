/**
 * Schemas of the values every connector reads from a channel: amounts, times,
 * quantities. Each checks what the mapping and the database will need, so a
 * bad value is refused at the boundary with the path of the field (a webhook
 * answers 400, a pulled order is set aside) instead of surfacing later as an
 * exception (a 500) or a refused write.
 *
 * Limits follow the columns they land in: money is `numeric(20,4)` (16 digits
 * before the point), quantities are `integer`.
 */
import { z } from 'zod';
import { toUnits } from '../src/domain/money.ts';
import { WebhookRejectedError } from '../src/domain/errors.ts';

/** Largest value a Postgres `integer` column holds. */
export const MAX_QUANTITY = 2_147_483_647;
/** `numeric(20,4)` holds |x| < 10^16; in the 10^-4 units of `toUnits`, 10^20. */
export const MONEY_LIMIT_UNITS = 10n ** 20n;

function amountProblem(value: string | number): string | null {
  let units: bigint;
  try {
    units = toUnits(value);
  } catch {
    return `expected a decimal amount such as "12.30" (at most 4 decimals), got ${JSON.stringify(value).slice(0, 40)}`;
  }
  return (units < 0n ? -units : units) >= MONEY_LIMIT_UNITS ? 'amount out of range (at most 16 digits before the point)' : null;
}

/** A money amount as text ("12.30") or a number (12.3): exact decimal, within `numeric(20,4)`. */
export const decimalAmount = z.union([z.string(), z.number()]).superRefine((value, ctx) => {
  const problem = amountProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** A time with a date that `Date` reads (ISO 8601, as both channels send). */
export const dateTimeText = z
  .string()
  .refine((text) => /^\d{4}-\d{2}-\d{2}T/.test(text) && !Number.isNaN(Date.parse(text)), 'expected an ISO 8601 date and time');

/** A count of units on a line: a whole number from 0 to what an `integer` column holds. */
export const lineQuantity = z.number().int('expected a whole number of units').min(0, 'a quantity cannot be negative').max(MAX_QUANTITY, 'quantity out of range');

/** An ISO 4217 code: three letters (the column is `char(3)`). */
export const currencyCode = z.string().regex(/^[A-Za-z]{3}$/, 'expected a three-letter currency code');

/** One line naming the first problem of a failed parse, for a 400 body or a rejected order's reason. */
export function describeIssues(error: z.ZodError): string {
  const first = error.issues[0];
  if (!first) return 'invalid';
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more)` : '';
  return `${first.path.join('.') || 'body'}: ${first.message}${more}`;
}

/**
 * Runs a mapping of a parsed body; a value the schema let through but the
 * mapping cannot use (a bug, or a case no schema foresaw) is the sender's bad
 * input: a 400 naming the delivery, never an exception that answers 500 and
 * makes the channel retry the same body forever. The detail is the mapping's
 * own (a value, never a stack or a database message).
 */
export function mapOrRefuse<T>(map: () => T, what: string): T {
  try {
    return map();
  } catch (err) {
    if (err instanceof TypeError || err instanceof RangeError) throw new WebhookRejectedError(`${what}: body has a value that cannot be read (${err.message.slice(0, 120)})`, 400);
    throw err;
  }
}
