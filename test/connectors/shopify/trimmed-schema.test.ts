/**
 * The product ships a trimmed Admin API schema (the full one lives in the
 * shared fixtures, which a clone does not have). It must be exactly what the
 * script produces from the full schema, so it cannot drift from it or from
 * the simulator's resolvers, and every document the connector sends must
 * validate against it as it does against the full one.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildSchema, parse, validate } from 'graphql';
import { FULL_SCHEMA_PATH, trimShopifySchema } from '../../../scripts/trim-shopify-schema.ts';
import { TRIMMED_SCHEMA_PATH } from '../../../connectors/shopify/simulator/schema.ts';
import { DOCUMENTS, bulkOrdersQuery } from '../../../connectors/shopify/documents.ts';
import { rootValue } from '../../../connectors/shopify/simulator/resolvers/index.ts';

const committed = readFileSync(TRIMMED_SCHEMA_PATH, 'utf8');
const trimmed = buildSchema(committed);

describe('the trimmed Shopify schema', () => {
  it('is what scripts/trim-shopify-schema.ts produces from the full schema (regenerate it if this fails)', () => {
    expect(committed === trimShopifySchema(readFileSync(FULL_SCHEMA_PATH, 'utf8'))).toBe(true);
  });

  it.each(Object.entries(DOCUMENTS))('keeps what %s needs', (_name, source) => {
    expect(validate(trimmed, parse(source)).map((e) => e.message)).toEqual([]);
  });

  it('keeps what the bulk orders query needs', () => {
    expect(validate(trimmed, parse(bulkOrdersQuery(new Date('2026-01-02T00:00:00Z')))).map((e) => e.message)).toEqual([]);
  });

  it('keeps every root field the simulator resolves, and drops the rest', () => {
    const served = Object.keys(trimmed.getQueryType()!.getFields()).concat(Object.keys(trimmed.getMutationType()!.getFields()));
    expect(served.sort()).toEqual(Object.keys(rootValue()).sort());
    expect(trimmed.getQueryType()!.getFields().giftCards).toBeUndefined();
  });

  it('still rejects a misspelt field', () => {
    expect(validate(trimmed, parse('query { orders(first: 1) { nodes { totalPriceSett { shopMoney { amount } } } } }'))).not.toEqual([]);
  });
});
