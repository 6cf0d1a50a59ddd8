/**
 * Checks the simulator's request validation (graphql-ruby's wording, codes,
 * paths and locations: connectors/shopify/simulator/errors.ts and the
 * variable coercion of graphql-endpoint.ts) against every request of a
 * captures folder that Shopify refused before running it — in scope or
 * not, since validation does not depend on what the simulator resolves. The
 * documents are validated against the full schema they were written for.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Kind, parse, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import { validateLikeShopify, syntaxError } from '../../connectors/shopify/simulator/errors.ts';
import { coerceVariables } from '../../connectors/shopify/simulator/graphql-endpoint.ts';
import { at, documentOf, firstDifference, type IndexRequest } from './replay.ts';

export interface ValidationCase { file: string; path: string; equal: boolean; detail?: string }

/** graphql-ruby's codes for a request refused before execution. */
const REFUSED = new Set(['undefinedField', 'missingRequiredArguments', 'argumentNotAccepted', 'argumentLiteralsIncompatible', 'variableNotUsed', 'variableNotDefined', 'selectionMismatch', 'variableRequiresValidType', 'INVALID_VARIABLE', 'undefinedType', 'fieldsConflict', 'missingRequiredInputObjectAttribute', 'inputObjectFieldsNotDefined']);

export function validationCases(folder: string, schema: GraphQLSchema): ValidationCase[] {
  const index = JSON.parse(readFileSync(path.join(folder, 'documents-index.json'), 'utf8')) as { captures: Record<string, { requests: IndexRequest[] }> };
  const out: ValidationCase[] = [];
  for (const [file, entry] of Object.entries(index.captures)) {
    const capture = JSON.parse(readFileSync(path.join(folder, file), 'utf8'));
    for (const r of entry.requests) {
      const response = at(capture, r.responseCapturePath) as { data?: unknown; errors?: Array<{ extensions?: { code?: string } }> } | undefined;
      const errors = response?.errors;
      if (!errors?.length || response?.data != null || !errors.every((e) => REFUSED.has(e.extensions?.code ?? ''))) continue;
      // Error positions only mean something in the text Shopify got.
      if (r.from !== 'capture') continue;
      const query = documentOf(folder, capture, r);
      if (!query) continue;
      let got: unknown[];
      try {
        const doc = parse(query);
        got = validateLikeShopify(schema, doc);
        if (!got.length) {
          const op = doc.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
          const variables = (r.variablesCapturePath ? (at(capture, r.variablesCapturePath) as Record<string, unknown>) : undefined) ?? {};
          got = coerceVariables(op, variables, schema);
        }
      } catch (err) {
        got = [syntaxError(err as never)];
      }
      const detail = firstDifference(JSON.parse(JSON.stringify(errors)), JSON.parse(JSON.stringify(got)));
      out.push({ file, path: r.path, equal: detail === null, ...(detail ? { detail } : {}) });
    }
  }
  return out;
}
