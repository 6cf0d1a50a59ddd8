/**
 * Root fields Shopify's Admin API has that the simulator answers with a
 * clear "not supported" instead of running them, each with why: a request
 * for one gets a top-level error naming the field and what to send instead,
 * not graphql-ruby's "Field … doesn't exist" (which would claim Shopify lacks
 * it). The trimmed schema (schema.ts) keeps only what the simulator serves, so
 * these are checked before validation.
 *
 * Only fields channelsync has a reason to be asked about belong here; any
 * other unserved root still answers as a field the schema lacks.
 */
import { Kind, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import type { ShopifyError } from './errors.ts';

export const NOT_SIMULATED: Readonly<Record<string, string>> = Object.freeze({
  // https://shopify.dev/docs/api/admin-graphql/2026-07/mutations/fulfillmentCreateV2
  fulfillmentCreateV2:
    'Shopify deprecated it ("Use `fulfillmentCreate` instead.") and channelsync sends fulfillmentCreate, which the simulator runs',
});

/** The "not supported" errors for the root fields of the operation to run; [] when it selects none. */
export function notSimulated(doc: DocumentNode, operationName: string | null): ShopifyError[] {
  const ops = doc.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const op = operationName ? ops.find((o) => o.name?.value === operationName) : ops[0];
  const errors: ShopifyError[] = [];
  for (const s of op?.selectionSet.selections ?? []) {
    if (s.kind !== Kind.FIELD) continue;
    const why = NOT_SIMULATED[s.name.value];
    if (!why) continue;
    errors.push({
      message: `${s.name.value} is not supported by the channelsync Shopify simulator: ${why}`,
      locations: s.loc ? [{ line: s.loc.startToken.line, column: s.loc.startToken.column }] : undefined,
      path: [s.alias?.value ?? s.name.value],
      extensions: { code: 'NOT_SUPPORTED_BY_SIMULATOR', fieldName: s.name.value },
    });
  }
  return errors;
}
