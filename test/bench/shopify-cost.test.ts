/**
 * The bench's own Shopify cost calculator (bench/shopify-cost.ts), which the
 * Shopify floors are computed with, and the minimal documents it prices.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildSchema, parse, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { queryCost } from '../../bench/shopify-cost.ts';
import { MINIMAL_FULFILLMENT_CREATE, MINIMAL_FULFILLMENT_READ, MINIMAL_ORDERS_PAGE, MINIMAL_STOCK_READ } from '../../bench/shopify-floor.ts';

const SHARED = resolve(import.meta.dirname, '../../../shared/fixtures/shopify');
const schema = buildSchema(readFileSync(join(SHARED, 'admin-2026-07.schema.graphql'), 'utf8'));

describe('the published cost rules', () => {
  it('price scalars 0, objects 1, connections 2 + first x node, mutations 10', () => {
    expect(queryCost(schema, '{ shop { id name currencyCode } }')).toBe(1);
    expect(queryCost(schema, '{ products(first: 10) { edges { node { title } } } }')).toBe(12);
    expect(queryCost(schema, '{ products(first: 10) { nodes { title featuredMedia { id } } pageInfo { hasNextPage } } }')).toBe(22);
    expect(queryCost(schema, 'query($n: Int!) { orders(first: $n) { nodes { id lineItems(first: 5) { nodes { id } } } } }', { n: 3 })).toBe(2 + 3 * (1 + 2 + 5));
    expect(queryCost(schema, 'mutation { tagsAdd(id: "gid://shopify/Order/1", tags: ["a"]) { node { id } userErrors { message } } }')).toBe(10);
  });

  it('charge actual cost for what came back: nodes returned, list elements, nothing for a null', () => {
    const doc = '{ orders(first: 50) { nodes { id customer { id } lineItems(first: 10) { nodes { id } } } } }';
    const data = { orders: { nodes: [{ id: 'a', customer: null, lineItems: { nodes: [{ id: 'l1' }, { id: 'l2' }] } }, { id: 'b', customer: { id: 'c' }, lineItems: { nodes: [] } }] } };
    // 2 + order a (1 + 0 + 2 + 2) + order b (1 + 1 + 2 + 0)
    expect(queryCost(schema, doc, {}, data)).toBe(2 + 5 + 4);
  });

  it('agree with the requestedQueryCost Shopify answered for hundreds of the captured documents', () => {
    // Shopify also prices some fields by rules it does not publish (see the file's comment), so
    // not all agree; this pins how many do, so a change to the calculator that breaks the
    // published rules shows up. 311 of 768 did when it was written.
    let agree = 0;
    const walk = (x: unknown): void => {
      if (!x || typeof x !== 'object') return;
      const step = x as Record<string, any>;
      const q = step.query ?? step.document;
      const body = (step.response ?? step.payload)?.body ?? step.response ?? step.payload;
      const cost = body?.extensions?.cost?.requestedQueryCost;
      if (typeof q === 'string' && typeof cost === 'number') {
        try {
          if (queryCost(schema, q, step.variables ?? {}) === cost) agree++;
        } catch {
          // A document that does not parse (some are invalid on purpose).
        }
      }
      for (const v of Object.values(step)) walk(v);
    };
    const dir = join(SHARED, 'captures');
    for (const f of readdirSync(dir).filter((f) => f.endsWith('.json'))) walk(JSON.parse(readFileSync(join(dir, f), 'utf8')));
    expect(agree).toBeGreaterThanOrEqual(300);
  });
});

describe("the bench's minimal documents", () => {
  it('are valid against the Admin API 2026-07 schema, as Shopify would check them', () => {
    for (const doc of [MINIMAL_ORDERS_PAGE, MINIMAL_FULFILLMENT_READ, MINIMAL_FULFILLMENT_CREATE, MINIMAL_STOCK_READ]) {
      expect(validate(schema, parse(doc)).map((e) => e.message)).toEqual([]);
    }
  });

  it('fit one page of orders under the 1000-point requested cost cap', () => {
    const perOrder = queryCost(schema, MINIMAL_ORDERS_PAGE, { first: 1, lineFirst: 3 }) - 2;
    expect(perOrder).toBeGreaterThan(0);
    expect(queryCost(schema, MINIMAL_ORDERS_PAGE, { first: Math.floor(998 / perOrder), lineFirst: 3 })).toBeLessThanOrEqual(1000);
  });
});
