/**
 * Trims Shopify's Admin GraphQL schema (2026-07, ~4 MB of SDL) to what the
 * simulator serves, so the product ships the schema it runs on and never
 * reads `../shared` at run time.
 *
 * Kept: the Query and Mutation fields the simulator resolves
 * (`rootValue()` in connectors/shopify/simulator/resolvers) plus every root
 * field a connector document selects, and every type, field, argument,
 * interface, union member and directive reachable from them, unchanged.
 * Dropped: the other root fields, the types only they reach, descriptions.
 *
 * Regenerate (developers only; reads the shared fixtures):
 *   node bin/run-ts.js scripts/trim-shopify-schema.ts [full.graphql]
 * `test/connectors/shopify/trimmed-schema.test.ts` fails when the committed
 * file differs from what this produces.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Kind,
  parse,
  print,
  visit,
  type DefinitionNode,
  type DocumentNode,
  type FieldDefinitionNode,
  type InputValueDefinitionNode,
  type ObjectTypeDefinitionNode,
  type OperationDefinitionNode,
  type TypeNode,
} from 'graphql';
import { DOCUMENTS, bulkOrdersQuery } from '../connectors/shopify/documents.ts';
import { rootValue } from '../connectors/shopify/simulator/resolvers/index.ts';
import { TRIMMED_SCHEMA_PATH } from '../connectors/shopify/simulator/schema.ts';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The full schema as shared with the project's fixtures (never shipped). */
export const FULL_SCHEMA_PATH = path.resolve(here, '../../shared/fixtures/shopify/admin-2026-07.schema.graphql');

/** Root field names the simulator must answer: what it resolves and what the connector sends. */
export function servedRootFields(): Set<string> {
  const names = new Set(Object.keys(rootValue()));
  for (const source of [...Object.values(DOCUMENTS), bulkOrdersQuery(null)]) {
    for (const def of parse(source).definitions) {
      if (def.kind !== Kind.OPERATION_DEFINITION) continue;
      for (const sel of (def as OperationDefinitionNode).selectionSet.selections) {
        if (sel.kind === Kind.FIELD) names.add(sel.name.value);
      }
    }
  }
  return names;
}

function namedType(t: TypeNode): string {
  return t.kind === Kind.NAMED_TYPE ? t.name.value : namedType(t.type);
}

/** The trimmed SDL, with a header saying where it came from. Deterministic: definitions keep the source order. */
export function trimShopifySchema(fullSdl: string, rootFields: Set<string> = servedRootFields()): string {
  const doc = parse(fullSdl);
  const byName = new Map<string, DefinitionNode>();
  let rootNames: string[] = [];
  for (const def of doc.definitions) {
    if ('name' in def && def.name) byName.set(def.kind === Kind.DIRECTIVE_DEFINITION ? `@${def.name.value}` : def.name.value, def);
    if (def.kind === Kind.SCHEMA_DEFINITION) rootNames = def.operationTypes.map((o) => o.type.name.value);
  }
  const isRoot = new Set(rootNames);

  // Root types keep only the served fields; everything else is kept whole.
  const trimmedRoot = (def: ObjectTypeDefinitionNode): ObjectTypeDefinitionNode => ({
    ...def,
    fields: def.fields?.filter((f) => rootFields.has(f.name.value)),
  });

  const kept = new Set<string>();
  const queue: string[] = [...rootNames, ...[...byName.keys()].filter((k) => k.startsWith('@'))];
  const visitInputs = (args: readonly InputValueDefinitionNode[] | undefined) => {
    for (const a of args ?? []) queue.push(namedType(a.type));
  };
  while (queue.length) {
    const name = queue.pop()!;
    if (kept.has(name)) continue;
    kept.add(name);
    let def = byName.get(name);
    if (!def) continue; // built-in scalar
    if (def.kind === Kind.OBJECT_TYPE_DEFINITION && isRoot.has(name)) def = trimmedRoot(def);
    switch (def.kind) {
      case Kind.OBJECT_TYPE_DEFINITION:
      case Kind.INTERFACE_TYPE_DEFINITION:
        for (const i of def.interfaces ?? []) queue.push(i.name.value);
        for (const f of (def.fields ?? []) as FieldDefinitionNode[]) {
          queue.push(namedType(f.type));
          visitInputs(f.arguments);
        }
        break;
      case Kind.UNION_TYPE_DEFINITION:
        for (const t of def.types ?? []) queue.push(t.name.value);
        break;
      case Kind.INPUT_OBJECT_TYPE_DEFINITION:
        visitInputs(def.fields);
        break;
      case Kind.DIRECTIVE_DEFINITION:
        visitInputs(def.arguments);
        break;
      default:
        break;
    }
    // Directives used on kept definitions are kept above (all directive definitions are).
  }

  const definitions = doc.definitions.flatMap((def): DefinitionNode[] => {
    if (def.kind === Kind.SCHEMA_DEFINITION) return [def];
    const name = 'name' in def && def.name ? (def.kind === Kind.DIRECTIVE_DEFINITION ? `@${def.name.value}` : def.name.value) : null;
    if (!name || !kept.has(name)) return [];
    return [def.kind === Kind.OBJECT_TYPE_DEFINITION && isRoot.has(name) ? trimmedRoot(def) : def];
  });
  // Descriptions are most of the size and nothing reads them at run time.
  const stripped = visit({ kind: Kind.DOCUMENT, definitions } as DocumentNode, {
    enter(node) {
      if ('description' in node && node.description) return { ...node, description: undefined };
      return undefined;
    },
  });
  const lines = fullSdl.split('\n');
  const leading = lines.slice(0, Math.max(0, lines.findIndex((l) => !l.startsWith('#'))));
  const sourceHeader = leading.map((l) => `# source: ${l.slice(1).trim()}`);
  return [
    '# Shopify Admin GraphQL 2026-07, trimmed to what the channelsync simulator serves.',
    '# Generated by scripts/trim-shopify-schema.ts from the full schema in the',
    "# developers' fixtures (the script says where); do not hand-edit.",
    '# Regenerate: node bin/run-ts.js scripts/trim-shopify-schema.ts',
    ...sourceHeader,
    '',
    print(stripped),
    '',
  ].join('\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const from = process.argv[2] ?? FULL_SCHEMA_PATH;
  const out = trimShopifySchema(readFileSync(from, 'utf8'));
  writeFileSync(TRIMMED_SCHEMA_PATH, out);
  console.log(`wrote ${path.relative(process.cwd(), TRIMMED_SCHEMA_PATH)} (${out.length} bytes) from ${from}`);
}
