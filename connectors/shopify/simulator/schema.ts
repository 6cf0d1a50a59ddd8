/**
 * The real Shopify Admin GraphQL schema (2026-07), built once per process.
 *
 * The file is ~4 MB of SDL; `buildSchema` takes about half a second, so it is
 * cached at module level and shared by every simulator in the process.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { buildSchema, type GraphQLSchema } from 'graphql';

/** The API version this simulator speaks, as in `/admin/api/<version>/graphql.json`. */
export const API_VERSION = '2026-07';

/** Where the schema file lives: `../shared/fixtures` next to the repository. */
export const SCHEMA_PATH =
  process.env.CHANNELSYNC_SHOPIFY_SCHEMA ??
  path.resolve(
    path.dirname(fileURLToPath(import.meta.url)),
    '../../../../shared/fixtures/shopify/admin-2026-07.schema.graphql',
  );

let cached: GraphQLSchema | undefined;

/** The Admin API schema, built on first use. */
export function adminSchema(): GraphQLSchema {
  cached ??= buildSchema(readFileSync(SCHEMA_PATH, 'utf8'));
  return cached;
}
