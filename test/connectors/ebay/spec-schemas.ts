/**
 * eBay's OpenAPI schemas from ../shared/fixtures/ebay/specs (read there, never
 * copied), compiled with ajv. Object schemas are closed for the check
 * (additionalProperties: false), so a field eBay does not define fails too.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { expect } from 'vitest';

const specs = new URL('../../../../shared/fixtures/ebay/specs/', import.meta.url);
const load = (name: string) => {
  const text = readFileSync(new URL(name, specs), 'utf8');
  return name.endsWith('.yaml') ? parse(text) : JSON.parse(text);
};

/** Closes every object schema that lists its properties (eBay's are open by default). */
function closed(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(closed);
  if (!node || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) out[k] = k === 'properties' ? Object.fromEntries(Object.entries(v as object).map(([p, s]) => [p, closed(s)])) : closed(v);
  if (out['properties'] && out['additionalProperties'] === undefined) out['additionalProperties'] = false;
  return out;
}

const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
export const documents = {
  fulfillment: load('sell_fulfillment_v1_oas3.json'),
  inventory: load('sell_inventory_v1_oas3.json'),
  analytics: load('developer_analytics_v1_beta_oas3.json'),
  notification: load('commerce_notification_v1.5.1_oas3.yaml'),
  keyManagement: load('developer_key_management_v1_oas3.json'),
};
export type SpecDocument = keyof typeof documents;
for (const [id, doc] of Object.entries(documents)) ajv.addSchema({ $id: id, components: closed(doc.components) });

const validators = new Map<string, ValidateFunction>();
function schema(doc: SpecDocument, name: string): ValidateFunction {
  const key = `${doc}#${name}`;
  if (!validators.has(key)) {
    expect(documents[doc].components.schemas[name], `${name} in ${doc}`).toBeDefined();
    validators.set(key, ajv.compile({ $ref: `${doc}#/components/schemas/${name}` }));
  }
  return validators.get(key)!;
}

export function expectValid(doc: SpecDocument, name: string, value: unknown, what: string): void {
  const validate = schema(doc, name);
  const ok = validate(value);
  expect(ok ? [] : validate.errors!.map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`), `${what} as ${name}`).toEqual([]);
}

/** One simulator exchange checked against the schemas its call names: [method, path, document, request schema, response schema]. */
export type CallSchema = [string, RegExp, SpecDocument, string | null, string | null];

export function expectExchangesValid(
  exchanges: ReadonlyArray<{ method: string; path: string; requestBody: unknown; status: number; responseBody: unknown }>,
  calls: readonly CallSchema[],
): Set<string> {
  const checked = new Set<string>();
  for (const x of exchanges) {
    const call = calls.find(([m, p]) => m === x.method && p.test(x.path));
    if (!call) continue;
    const [, , doc, requestSchema, responseSchema] = call;
    if (requestSchema && x.requestBody !== undefined) expectValid(doc, requestSchema, x.requestBody, `${x.method} ${x.path} request`);
    if (x.status >= 400) expectValid('fulfillment', 'Error', (x.responseBody as { errors: unknown[] }).errors[0], `${x.method} ${x.path} ${x.status}`);
    else if (responseSchema) expectValid(doc, responseSchema, x.responseBody, `${x.method} ${x.path} response`);
    checked.add(`${x.method} ${call[1].source}`);
  }
  return checked;
}
