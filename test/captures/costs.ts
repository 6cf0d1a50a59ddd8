/**
 * Checks the simulator's cost model (connectors/shopify/simulator/cost.ts)
 * against every `extensions.cost` Shopify recorded in a captures folder:
 * the requested cost from the document and variables alone, the actual cost
 * from the document and the data Shopify returned. Needs no simulator state,
 * so it covers every capture, in scope or not, against the full schema the
 * folder's documents were written for.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildSchema, Kind, parse, validate, type FragmentDefinitionNode, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import { queryCost } from '../../connectors/shopify/simulator/cost.ts';
import { withShopifyScalars } from '../../connectors/shopify/simulator/schema.ts';
import { at, documentOf, type IndexRequest } from './replay.ts';

export interface CostCase {
  file: string;
  path: string;
  operation: 'query' | 'mutation';
  requested: [shopify: number, model: number];
  actual: [shopify: number, model: number] | null;
}

/** Every recorded cost of the folder next to the model's, for documents valid against `schema`. */
export function costCases(folder: string, schema: GraphQLSchema): CostCase[] {
  const index = JSON.parse(readFileSync(path.join(folder, 'documents-index.json'), 'utf8')) as { captures: Record<string, { requests: IndexRequest[] }> };
  const out: CostCase[] = [];
  for (const [file, entry] of Object.entries(index.captures)) {
    const capture = JSON.parse(readFileSync(path.join(folder, file), 'utf8'));
    for (const r of entry.requests) {
      const response = at(capture, r.responseCapturePath) as { data?: Record<string, unknown> | null; extensions?: { cost?: { requestedQueryCost?: number; actualQueryCost?: number | null } } } | undefined;
      const cost = response?.extensions?.cost;
      const query = documentOf(folder, capture, r);
      if (typeof cost?.requestedQueryCost !== 'number' || !query) continue;
      let doc;
      try {
        doc = parse(query);
      } catch {
        continue;
      }
      if (validate(schema, doc).length) continue;
      const ops = doc.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
      if (ops.length !== 1) continue;
      const op = ops[0]!;
      const fragments = doc.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION);
      const variables = (r.variablesCapturePath ? (at(capture, r.variablesCapturePath) as Record<string, unknown>) : undefined) ?? {};
      const requested = queryCost(schema, op, fragments, variables);
      const actual = typeof cost.actualQueryCost === 'number' && response?.data ? queryCost(schema, op, fragments, variables, response.data) : null;
      out.push({
        file, path: r.path, operation: op.operation === 'mutation' ? 'mutation' : 'query',
        requested: [cost.requestedQueryCost, requested],
        actual: actual === null ? null : [cost.actualQueryCost!, actual],
      });
    }
  }
  return out;
}

let full: GraphQLSchema | undefined;
/** The full 2026-07 schema of the shared fixtures (dev and test use only). */
export function fullSchema(file: string): GraphQLSchema {
  full ??= withShopifyScalars(buildSchema(readFileSync(file, 'utf8')));
  return full;
}
