/**
 * The OpenAPI document of the admin API, generated from the routes (by
 * @fastify/swagger): which routes exist, and each one's path, query and body
 * inputs, from the zod schemas the handlers validate with (`documented()` in
 * validate.ts puts them on the route as JSON Schema). What code cannot say is
 * kept from docs/openapi.json: summaries, descriptions, tags, examples, the
 * responses and the shared components.
 *
 * So docs/openapi.json is both the prose's source and the generated result:
 * `npm run openapi` rewrites it, and test/server/openapi.test.ts fails when
 * it is not what the code generates (a new query parameter, a route added or
 * removed, a body field renamed).
 */
import { readFileSync } from 'node:fs';

/** The parts of an OpenAPI 3.1 document this module reads; the rest passes through. */
export interface Doc {
  paths?: Record<string, Record<string, Operation>>;
  [key: string]: unknown;
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: RequestBody;
  [key: string]: unknown;
}
interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  description?: string;
  schema?: Record<string, unknown>;
}
interface RequestBody {
  required?: boolean;
  content?: Record<string, { schema?: unknown; [key: string]: unknown }>;
  [key: string]: unknown;
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/** The checked-in document: prose, responses and components. */
export function readDocumented(path: string): Doc {
  return JSON.parse(readFileSync(path, 'utf8')) as Doc;
}

/** The document's head (everything but the paths), the base @fastify/swagger generates into. */
export function baseOf(doc: Doc): Partial<Doc> {
  const { paths: _paths, ...rest } = doc;
  return rest;
}

/**
 * The generated paths with the documented prose: operations in the documented
 * order, then any new ones; parameters and request body schemas as generated,
 * each parameter keeping its documented description and example.
 */
export function withProse(generated: Doc, documented: Doc): Doc {
  const paths: Record<string, Record<string, Operation>> = {};
  const genPaths = generated.paths ?? {};
  const docPaths = documented.paths ?? {};
  const order = [...Object.keys(docPaths), ...Object.keys(genPaths).filter((p) => !(p in docPaths))];
  for (const path of order) {
    const gen = genPaths[path];
    const doc = docPaths[path];
    const item: Record<string, Operation> = {};
    const methods = METHODS.filter((m) => gen?.[m] || doc?.[m]);
    for (const method of methods) {
      const g = gen?.[method];
      const d = doc?.[method];
      // A documented route the code no longer has is kept, so the routes test names it.
      if (!g) {
        item[method] = d!;
        continue;
      }
      item[method] = merge(g, d);
    }
    paths[path] = item;
  }
  // The documented key order, so a regenerated file differs from the last one only where the code changed.
  const out: Doc = {};
  for (const key of Object.keys(documented)) out[key] = key === 'paths' ? paths : documented[key];
  for (const key of Object.keys(generated)) if (!(key in out)) out[key] = key === 'paths' ? paths : generated[key];
  return out;
}

function merge(g: Operation, d: Operation | undefined): Operation {
  const documentedParams = new Map((d?.parameters ?? []).map((p) => [`${p.in}:${p.name}`, p]));
  const parameters = (g.parameters ?? []).map((p): Parameter => {
    const known = documentedParams.get(`${p.in}:${p.name}`);
    const schema = tidy(p.schema) as Record<string, unknown>;
    const example = known?.schema?.example;
    return {
      name: p.name,
      in: p.in,
      required: p.required ?? false,
      ...(known?.description ? { description: known.description } : {}),
      schema: example !== undefined ? { ...schema, example } : schema,
    };
  });
  const out: Operation = { ...(d ?? { summary: '(undocumented: describe it in docs/openapi.json)' }), parameters };
  const body = g.requestBody?.content?.['application/json']?.schema;
  if (body) {
    const documentedBody = d?.requestBody;
    const json = documentedBody?.content?.['application/json'] ?? {};
    out.requestBody = {
      ...(documentedBody ?? {}),
      required: g.requestBody?.required ?? documentedBody?.required ?? false,
      content: { 'application/json': { ...json, schema: tidy(body) } },
    };
  } else if (d?.requestBody === undefined) {
    delete out.requestBody;
  }
  return out;
}

/** Drops what only adds noise for a reader: `$schema`, and the long date patterns next to their `format`. */
function tidy(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(tidy);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === '$schema') continue;
    if (k === 'pattern' && 'format' in schema) continue;
    out[k] = tidy(v);
  }
  return out;
}
