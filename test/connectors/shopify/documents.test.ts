/**
 * Every GraphQL document the Shopify connector sends validates against the
 * real Admin API 2026-07 schema, so a misspelt field fails here and not on a
 * merchant's shop.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildSchema, parse, validate, type GraphQLSchema } from 'graphql';
import { DOCUMENTS, bulkOrdersQuery } from '../../../connectors/shopify/documents.ts';

const SCHEMA_FILE = fileURLToPath(new URL('../../../../shared/fixtures/shopify/admin-2026-07.schema.graphql', import.meta.url));

// ~4 MB of SDL: built once for the whole file.
let schema: GraphQLSchema | undefined;
function adminSchema(): GraphQLSchema {
  schema ??= buildSchema(readFileSync(SCHEMA_FILE, 'utf8'));
  return schema;
}

function errorsOf(source: string): string[] {
  return validate(adminSchema(), parse(source)).map((e) => e.message);
}

describe('Shopify GraphQL documents', () => {
  it.each(Object.entries(DOCUMENTS))('%s validates against admin 2026-07', (_name, source) => {
    expect(errorsOf(source)).toEqual([]);
  });

  it('the bulk orders query validates, with and without a since date', () => {
    expect(errorsOf(bulkOrdersQuery(new Date('2026-01-02T03:04:05Z')))).toEqual([]);
    expect(errorsOf(bulkOrdersQuery(null))).toEqual([]);
    expect(bulkOrdersQuery(new Date('2026-01-02T03:04:05Z'))).toContain(`updated_at:>='2026-01-02T03:04:05.000Z'`);
  });

  it('rejects a misspelt field (the check is real)', () => {
    expect(errorsOf('query { orders(first: 1) { nodes { totalPriceSett { shopMoney { amount } } } } }')).not.toEqual([]);
  });
});
