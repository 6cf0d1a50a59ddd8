/**
 * The capture-replay harness: replays every recorded request of a folder of
 * Shopify captures (laid out like ../shared/fixtures/shopify/captures, with
 * its `documents-index.json`) against a fresh in-process simulator shop per
 * capture, and compares what the simulator answers with what Shopify answered.
 *
 * Per request, in the capture's file order (setup steps included: they are
 * how the capture's shop was built):
 *  - the document comes from the index (inline in the capture, or a file
 *    under documents/ or documents/from-scripts/<script>/);
 *  - captured ids in the variables are swapped for the ids the simulator
 *    returned where the capture returned them (learnt side by side);
 *  - `data`, `userErrors` (inside data) and top-level `errors` are compared
 *    after normalising only what differs by store: ids, timestamps, cursors,
 *    order names (#1001), the store's domain and location names.
 *    `extensions.cost` is compared on its own (see `costs`), not as data.
 * A request whose document uses a root field the simulator does not resolve
 * is "not supported"; the capture is then "not supported" unless some
 * request of it already differs.
 *
 * Dev tool and test helper: reads the folder it is given, never part of the
 * product (the product never reads ../shared).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  getNamedType, getNullableType, isInputObjectType, isListType, Kind, parse, typeFromAST,
  type GraphQLInputType, type OperationDefinitionNode,
} from 'graphql';
import { runGraphQL } from '../../connectors/shopify/simulator/graphql-endpoint.ts';
import { rootValue } from '../../connectors/shopify/simulator/resolvers/index.ts';
import { ShopState } from '../../connectors/shopify/simulator/state.ts';
import { WebhookSubscriptions } from '../../connectors/shopify/simulator/webhooks.ts';
import { BulkOperations } from '../../connectors/shopify/simulator/bulk.ts';
import { LeakyBucket } from '../../connectors/shopify/simulator/bucket.ts';
import { adminSchema } from '../../connectors/shopify/simulator/schema.ts';
import type { Ctx } from '../../connectors/shopify/simulator/resolvers/context.ts';
import { OUT_OF_SCOPE } from './out-of-scope.ts';
import { hydrateOrders, SEEDS } from './seeds.ts';

export const DOMAINS = ['orders', 'products', 'shipping-fulfillments', 'bulk-operations', 'webhooks'] as const;

export type RequestOutcome = 'equal' | 'differs' | 'not supported' | 'out of scope';
export type CaptureOutcome = RequestOutcome | 'out of scope';

export interface RequestResult {
  path: string;
  outcome: RequestOutcome;
  /** First difference, for `differs`; the unresolved root fields, for `not supported`. */
  detail?: string;
  /** Shopify's and the simulator's costs, when the capture recorded them. */
  cost?: { requested: [number, number | null]; actual: [number | null, number | null] };
}

export interface CaptureResult {
  file: string;
  domain: string;
  outcome: CaptureOutcome;
  reason?: string;
  requests: RequestResult[];
}

export interface IndexRequest {
  path: string;
  variablesCapturePath?: string;
  responseCapturePath: string;
  from: string;
  inlineKey?: string;
  document?: string;
  shapeNotes?: string[];
  script?: string;
}

/** `$.a.b[0].c`; keys holding dots or colons are written as-is, so the longest matching key wins. */
export function at(root: unknown, jsonPath: string): unknown {
  let rest = jsonPath.replace(/^\$/, '');
  let cur: unknown = root;
  while (rest.length) {
    if (cur === null || cur === undefined) return undefined;
    const idx = /^\[(\d+)\]/.exec(rest);
    if (idx) {
      cur = (cur as unknown[])[Number(idx[1])];
      rest = rest.slice(idx[0].length);
      continue;
    }
    if (!rest.startsWith('.') || typeof cur !== 'object') return undefined;
    const tail = rest.slice(1);
    const key = Object.keys(cur as object)
      .filter((k) => tail.startsWith(k) && (tail.length === k.length || tail[k.length] === '.' || tail[k.length] === '['))
      .sort((a, b) => b.length - a.length)[0];
    if (key === undefined) return undefined;
    cur = (cur as Record<string, unknown>)[key];
    rest = tail.slice(key.length);
  }
  return cur;
}

/** A fresh shop, as the capture store was before the capture's setup: one location, nothing else. */
export function freshShop() {
  const schema = adminSchema();
  const state = new ShopState();
  const webhooks = new WebhookSubscriptions(state, () => 'shpss_replay', () => 'replay.myshopify.com');
  const root = rootValue();
  const ctx: Ctx = { state, webhooks, bulk: undefined as unknown as BulkOperations, baseUrl: 'https://replay.myshopify.com' };
  ctx.bulk = new BulkOperations(state, schema, () => root, () => ctx);
  // The harness plays the capture's clock (see `playClock`), not timers.
  ctx.bulk.runDelayMs = 1e9;
  // Costs are checked, the bucket is not: a capture was recorded over minutes.
  const bucket = new LeakyBucket(1_000_000, 1_000_000);
  return { ctx, root, bucket, state };
}

const SUPPORTED = new Set([...Object.keys(rootValue()), '__typename', '__schema', '__type']);

function rootFields(query: string): string[] | null {
  try {
    const doc = parse(query);
    const names = new Set<string>();
    for (const d of doc.definitions) {
      if (d.kind !== Kind.OPERATION_DEFINITION) continue;
      for (const s of (d as OperationDefinitionNode).selectionSet.selections) {
        if (s.kind === Kind.FIELD) names.add(s.name.value);
        // Fragments on the root are rare in captures; their fields count as supported.
      }
    }
    return [...names];
  } catch {
    return null; // a syntax error is for the endpoint to answer
  }
}

/**
 * Time passed between a capture's requests: a poll that found a bulk
 * operation RUNNING, COMPLETED or CANCELED finds the simulator's at the same
 * stage (what the operation then holds is the simulator's own).
 */
function playClock(expected: unknown, ids: Map<string, string>, shop: ReturnType<typeof freshShop>): void {
  const visitValue = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(visitValue);
    if (!v || typeof v !== 'object') return;
    const o = v as Record<string, unknown>;
    if (typeof o.id === 'string' && o.id.startsWith('gid://shopify/BulkOperation/') && typeof o.status === 'string') {
      const mine = ids.get(o.id);
      const op = mine ? shop.ctx.bulk.operations.get(Number(mine.split('/').pop())) : undefined;
      if (op) shop.ctx.bulk.advance(op, o.status);
    }
    Object.values(o).forEach(visitValue);
  };
  visitValue(expected);
}

/** Ids, times, cursors and store names differ by store: compare their kind only. */
export function normalize(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => normalize(v, key));
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    const isLocation = typeof o.id === 'string' && o.id.startsWith('gid://shopify/Location/');
    const isBulk = (typeof o.id === 'string' && o.id.startsWith('gid://shopify/BulkOperation/')) || /bulkOperation/i.test(key);
    for (const [k, v] of Object.entries(o)) {
      if (k === 'extensions' && v && typeof v === 'object' && 'cost' in v) {
        const { cost: _cost, ...rest } = v as Record<string, unknown>;
        if (Object.keys(rest).length) out[k] = normalize(rest, k);
        continue;
      }
      if (k === 'name' && (isLocation || key === 'location' || key === 'assignedLocation')) out[k] = '<location>';
      // Whether a version is a release candidate depends on the day of the recording.
      else if (key === 'apiVersion' && k === 'displayName' && typeof v === 'string') out[k] = v.replace(/ \(Release candidate\)$/, '');
      else if (key === 'apiVersion' && k === 'supported') out[k] = '<supported>';
      // A bulk operation's counts, size and file measure the store it read: the
      // capture store held thousands of objects no setup step creates.
      else if (isBulk && /^(objectCount|rootObjectCount|fileSize)$/.test(k) && typeof v === 'string') out[k] = '<count>';
      else if (isBulk && /^(url|partialDataUrl)$/.test(k)) out[k] = '<url or null>';
      else if (/^(cursor|startCursor|endCursor)$/.test(k) && typeof v === 'string') out[k] = '<cursor>';
      else out[k] = normalize(v, k);
    }
    return out;
  }
  if (typeof value === 'string') {
    return value
      .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<uuid>')
      .replace(/gid:\/\/shopify\/(\w+)\/\d+(\?inventory_item_id=\d+)?/g, 'gid://shopify/$1/<id>')
      .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)/g, '<time>')
      .replace(/[\w-]+\.myshopify\.com/g, '<shop>')
      .replace(/#\d+/g, '#<n>')
      .replace(/\b\d{6,}\b/g, '<n>');
  }
  return value;
}

/** Learn captured→simulator ids by walking a captured and a simulated response side by side. */
export function learnIds(captured: unknown, simulated: unknown, map: Map<string, string>, key = ''): void {
  if (typeof captured === 'string' && typeof simulated === 'string' && /^(cursor|startCursor|endCursor)$/.test(key)) {
    // A later page asks `after:` a cursor the capture got back: use the simulator's.
    map.set(captured, simulated);
    return;
  }
  if (typeof captured === 'string' && typeof simulated === 'string') {
    if (captured !== simulated && /^gid:\/\/shopify\/\w+\/\d+/.test(captured) && /^gid:\/\/shopify\/\w+\/\d+/.test(simulated)) {
      map.set(captured, simulated);
      // Numeric forms (legacyResourceId) follow the gid.
      map.set(captured.replace(/^gid:\/\/shopify\/\w+\//, '').replace(/\?.*$/, ''), simulated.replace(/^gid:\/\/shopify\/\w+\//, '').replace(/\?.*$/, ''));
    }
    return;
  }
  if (Array.isArray(captured) && Array.isArray(simulated)) captured.forEach((c, i) => learnIds(c, simulated[i], map));
  else if (captured && simulated && typeof captured === 'object' && typeof simulated === 'object') {
    for (const [k, v] of Object.entries(captured)) learnIds(v, (simulated as Record<string, unknown>)[k], map, k);
  }
}

/** Swap captured ids in variables for the simulator's (also inside strings: search queries, bulk queries). */
function remap<T>(vars: T, map: Map<string, string>, primaryLocation: string, storeLocations: Set<string>): T {
  const mapLocation = (g: string) => map.get(g) ?? (storeLocations.has(g) ? primaryLocation : g);
  const swap = (s: string) =>
    s.replace(/gid:\/\/shopify\/(\w+)\/(\d+)(\?inventory_item_id=(\d+))?/g, (g, type: string, id: string, _q, item?: string) => {
      const known = map.get(g);
      if (known) return known;
      if (type === 'InventoryLevel' && item) {
        // A level's id names its location and item: swap both.
        const loc = mapLocation(`gid://shopify/Location/${id}`).split('/').pop();
        const it = (map.get(`gid://shopify/InventoryItem/${item}`) ?? `gid://shopify/InventoryItem/${item}`).split('/').pop();
        return `gid://shopify/InventoryLevel/${loc}?inventory_item_id=${it}`;
      }
      // The capture store's own location existed before any capture: it is the simulator's primary
      // location. An id only ever sent (999999999999) stays unknown.
      if (type === 'Location' && storeLocations.has(g)) return primaryLocation;
      return g;
    });
  // Legacy numeric ids inside strings (search queries: `id:53593660588338`) follow their gid.
  const numbers = (s: string) => s.replace(/(?<![/\d])(\d{6,})(?!\d)/g, (n) => map.get(n) ?? n);
  return JSON.parse(JSON.stringify(vars ?? {}), (_k, v) => (typeof v === 'string' ? (map.get(v) ?? numbers(swap(v))) : v)) as T;
}

/** Gids of `type` in a recorded answer. */
function gidsIn(value: unknown, type: string): string[] {
  const out: string[] = [];
  const re = new RegExp(`^gid://shopify/${type}/\\d+$`);
  const walk = (v: unknown): void => {
    if (typeof v === 'string' && re.test(v)) out.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(value);
  return out;
}

/** Remember the last gid of each type Shopify answered with. */
function noteGids(value: unknown, lastSeen: Map<string, string>): void {
  if (typeof value === 'string') {
    const m = /^gid:\/\/shopify\/(\w+)\/\d+$/.exec(value);
    if (m) lastSeen.set(m[1]!, value);
  } else if (Array.isArray(value)) value.forEach((v) => noteGids(v, lastSeen));
  else if (value && typeof value === 'object') Object.values(value).forEach((v) => noteGids(v, lastSeen));
}

/** The parent paths of a step, nearest first (`$.a.b.c` → `$.a.b`, `$.a`, `$`). */
function ancestors(p: string): string[] {
  const out: string[] = [];
  let cur = p;
  for (;;) {
    const i = Math.max(cur.lastIndexOf('.'), cur.lastIndexOf('['));
    if (i <= 0) break;
    cur = cur.slice(0, i);
    out.push(cur);
  }
  out.push('$');
  return out;
}

/** The value of `key` nearest a step: on its ancestors or their direct children. */
function nearest(capture: unknown, stepPath: string, key: string): unknown {
  for (const a of ancestors(stepPath)) {
    const holder = at(capture, a);
    if (!holder || typeof holder !== 'object' || Array.isArray(holder)) continue;
    const h = holder as Record<string, unknown>;
    if (key in h && (typeof h[key] !== 'object' || h[key] === null)) return h[key];
    for (const child of Object.values(h)) {
      if (child && typeof child === 'object' && !Array.isArray(child) && key in child) {
        const v = (child as Record<string, unknown>)[key];
        if (typeof v !== 'object' || v === null) return v;
      }
    }
  }
  return undefined;
}

/** A recorded answer reshaped as the input type takes it (fields the input does not define are dropped). */
function asInput(value: unknown, type: GraphQLInputType): unknown {
  const t = getNullableType(type);
  if (isListType(t)) return Array.isArray(value) ? value.map((v) => asInput(v, t.ofType)) : [asInput(value, t.ofType)];
  if (!isInputObjectType(t)) return value;
  if (!value || typeof value !== 'object') return undefined;
  const fields = t.getFields();
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const f = fields[k];
    if (!f || v === null || (typeof v === 'object' && !isInputObjectType(getNamedType(f.type)) && !Array.isArray(v))) continue;
    const x = asInput(v, f.type);
    if (x !== undefined) out[k] = x;
  }
  return out;
}

function findKey(value: unknown, match: (k: string) => boolean): unknown {
  if (!value || typeof value !== 'object') return undefined;
  for (const [k, v] of Object.entries(value)) if (match(k) && v !== null) return v;
  for (const v of Object.values(value)) {
    const hit = findKey(v, match);
    if (hit !== undefined) return hit;
  }
  return undefined;
}

/**
 * Variables a capture did not record (its script built them and kept only
 * the answer) are rebuilt from the capture: a variable takes the value of
 * the key of its name nearest the step (`setup.productId` for `$productId`);
 * an input object takes what Shopify answered under that name
 * (`$product` ← `productCreate.product`, `$variants` ← `productVariants`),
 * reshaped to the input type.
 */
function rebuildVariables(query: string, capture: unknown, r: IndexRequest, expected: Record<string, unknown>, lastSeen: Map<string, string>): Record<string, unknown> {
  // `productId` → the last Product the capture's store answered with.
  const lastOf = (idName: string) => lastSeen.get(`${idName[0]!.toUpperCase()}${idName.slice(1).replace(/Id$/, '')}`);
  const out: Record<string, unknown> = {};
  let op: OperationDefinitionNode | undefined;
  try {
    op = parse(query).definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  } catch {
    return out;
  }
  const schema = adminSchema();
  for (const def of op?.variableDefinitions ?? []) {
    const name = def.variable.name.value;
    const type = typeFromAST(schema, def.type as never) as GraphQLInputType | undefined;
    if (!type) continue;
    let found: unknown;
    if (isInputObjectType(getNamedType(type))) {
      const lower = name.toLowerCase();
      const answered = findKey(expected.data, (k) => k.toLowerCase() === lower || k.toLowerCase().endsWith(lower));
      if (answered !== undefined) found = asInput(answered, type);
    }
    if (found === undefined) found = nearest(capture, r.path, name);
    if (found === undefined && /Id$/.test(name)) found = lastOf(name);
    const named = getNamedType(type);
    if (found === undefined && isInputObjectType(named)) {
      // An input of ids (`ProductDeleteInput { id }`): each field from the nearest key of its name,
      // `id` from the nearest `<entity>Id` (`productId`).
      const entity = named.name.replace(/(Delete|Update|Create)?Input$/, '');
      const obj: Record<string, unknown> = {};
      for (const f of Object.keys(named.getFields())) {
        const key = f === 'id' ? `${entity[0]!.toLowerCase()}${entity.slice(1)}Id` : f;
        const v = nearest(capture, r.path, key) ?? (f === 'id' ? lastOf(key) : undefined);
        if (v !== undefined) obj[f] = v;
      }
      if (Object.keys(obj).length) found = obj;
    }
    if (found !== undefined) out[name] = found;
  }
  return out;
}

/**
 * Some scripts sent their document one line lower than the text they
 * recorded (the fulfillment-order captures: a leading newline before
 * `#graphql`), so Shopify's error locations point one line below the field
 * in the recorded text. Where the erroring field (the last name of the
 * error's path) is not on the line Shopify named but on the one above, the
 * location is moved up to the recorded text.
 */
function shiftRecordedLines(errors: unknown, query: string): void {
  if (!Array.isArray(errors)) return;
  const lines = query.split('\n');
  for (const e of errors as Array<{ locations?: Array<{ line: number }>; path?: unknown[] }>) {
    const field = [...(e?.path ?? [])].reverse().find((x): x is string => typeof x === 'string');
    if (!field) continue;
    for (const loc of e.locations ?? []) {
      const named = new RegExp(`\\b${field}\\b`);
      if (!named.test(lines[loc.line - 1] ?? '') && named.test(lines[loc.line - 2] ?? '')) loc.line -= 1;
    }
  }
}

function dropPath(value: unknown, keys: string[]): void {
  if (!value || typeof value !== 'object') return;
  const [head, ...rest] = keys;
  if (Array.isArray(value)) return value.forEach((v) => dropPath(v, keys));
  const o = value as Record<string, unknown>;
  if (!head || !(head in o)) return;
  if (rest.length === 0) delete o[head];
  else dropPath(o[head], rest);
}

/** First path where two JSON values differ, with both sides (short). */
export function firstDifference(a: unknown, b: unknown, p = '$'): string | null {
  if (JSON.stringify(a) === JSON.stringify(b)) return null;
  if (a && b && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
    // Errors first: an unexpected error explains a null in data.
    const keys = new Set(['errors', ...Object.keys(a), ...Object.keys(b)].filter((k) => k in a || k in b));
    for (const k of keys) {
      const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${p}.${k}`);
      if (d) return d;
    }
  }
  const show = (v: unknown) => (v === undefined ? 'missing' : JSON.stringify(v).slice(0, 160));
  return `${p}: Shopify ${show(a)}, simulator ${show(b)}`;
}

export function documentOf(folder: string, capture: unknown, r: IndexRequest): string | null {
  if (r.from === 'capture' && r.inlineKey) {
    const step = at(capture, r.path) as Record<string, unknown> | undefined;
    const text = r.inlineKey.includes('.') ? at(step, `$.${r.inlineKey}`) : step?.[r.inlineKey];
    return typeof text === 'string' ? text : null;
  }
  if (!r.document) return null;
  const candidates = [path.join(folder, 'documents', r.document), path.join(folder, 'documents', path.basename(r.document))];
  if (r.script) candidates.unshift(path.join(folder, 'documents', 'from-scripts', path.basename(r.script).replace(/(\.[mc]?ts)?(:\d+)?$/, ''), path.basename(r.document)));
  for (const c of candidates) if (existsSync(c)) return readFileSync(c, 'utf8');
  return null;
}

function domainOf(file: string): string {
  const m = /^\d{4}-\d\d_(.+?)_/.exec(file);
  const d = m?.[1] ?? 'other';
  return (DOMAINS as readonly string[]).includes(d) ? d : 'other';
}

/** Replay one capture file. */
export async function replayCapture(folder: string, file: string, requests: IndexRequest[]): Promise<CaptureResult> {
  const domain = domainOf(file);
  const capture = JSON.parse(readFileSync(path.join(folder, file), 'utf8'));
  const shop = freshShop();
  const primary = `gid://shopify/Location/${shop.state.primaryLocationId}`;
  const ids = SEEDS[file]?.(shop, capture) ?? new Map<string, string>();
  // What a seed names stays named so: a later read of the whole store (all its locations) must not
  // pair its ids by position with the simulator's few.
  const seeded = new Map(ids);
  // Orders the store held before the capture, rebuilt from its upstream reads (seeds.ts).
  if (!OUT_OF_SCOPE[file]) for (const [k, v] of hydrateOrders(shop, capture, learnIds)) ids.set(k, v);
  const storeLocations = new Set<string>();
  for (const r of requests) for (const g of gidsIn(at(capture, r.responseCapturePath), 'Location')) storeLocations.add(g);
  for (const call of ((capture as { upstreamCalls?: unknown[] }).upstreamCalls ?? [])) for (const g of gidsIn((call as { response?: unknown }).response, 'Location')) storeLocations.add(g);
  const lastSeen = new Map<string, string>();
  const results: RequestResult[] = [];
  // Cleanup steps undo the setup on the real store and ran last, wherever the
  // file records them (often inside `setup`): replay them last too.
  const isCleanup = (p: string) => /[.[]cleanup/i.test(p) || /omittedCleanup/.test(p);
  requests = [...requests.filter((r) => !isCleanup(r.path)), ...requests.filter((r) => isCleanup(r.path))];
  const excluded = Object.entries(OUT_OF_SCOPE).filter(([k]) => k.startsWith(`${file}#`)).map(([k, why]) => [k.slice(file.length + 1), why] as const);
  const seen = new Set<string>();
  const answers = new Set<string>();
  for (const r of requests) {
    // A step recorded twice (a cleanup that points at the same recording) was sent once.
    const recorded = at(capture, r.responseCapturePath) as { data?: unknown; errors?: unknown } | undefined;
    const recording = JSON.stringify([r.variablesCapturePath ? at(capture, r.variablesCapturePath) : null, recorded?.data, recorded?.errors]);
    if (isCleanup(r.path) && seen.has(recording)) continue;
    // So is a step without recorded variables whose answer repeats an earlier one (a file's
    // top-level `response` copying its detail read).
    const answer = JSON.stringify([recorded?.data, recorded?.errors]);
    if (!r.variablesCapturePath && answers.has(answer)) continue;
    answers.add(answer);
    seen.add(recording);
    const skip = excluded.find(([prefix]) => r.path === prefix || r.path.startsWith(`${prefix}.`) || r.path.startsWith(`${prefix}[`));
    const expected = at(capture, r.responseCapturePath) as Record<string, unknown> | undefined;
    const query = documentOf(folder, capture, r);
    if (!expected || typeof expected !== 'object' || query === null) {
      results.push({ path: r.path, outcome: 'not supported', detail: query === null ? 'no document for this request' : 'no recorded response' });
      continue;
    }
    const roots = rootFields(query);
    // Out-of-scope requests still run (later requests may need their effects) but are not judged.
    const judge = (o: RequestOutcome): RequestOutcome => (skip ? 'out of scope' : o);
    const missing = roots?.filter((f) => !SUPPORTED.has(f)) ?? [];
    if (missing.length) {
      results.push({ path: r.path, outcome: judge('not supported'), detail: skip?.[1] ?? `roots not simulated: ${missing.join(', ')}` });
      continue;
    }
    const variables = r.variablesCapturePath
      ? (at(capture, r.variablesCapturePath) as Record<string, unknown> | undefined) ?? {}
      : rebuildVariables(query, capture, r, expected, lastSeen);
    playClock(expected.data, ids, shop);
    const outcome = runGraphQL({ query, variables: remap(variables, ids, primary, storeLocations) }, shop.ctx, shop.bucket, shop.root);
    const actual = outcome.body;
    learnIds(expected.data, actual.data, ids);
    for (const [k, v] of seeded) ids.set(k, v);
    noteGids(expected.data, lastSeen);
    // A document the index rebuilt (not the capture's own text) is laid out differently: error
    // locations then point elsewhere in the same request and are not compared.
    if (r.from !== 'capture') {
      for (const e of [...((expected.errors as unknown[]) ?? []), ...((actual.errors as unknown[]) ?? [])]) if (e && typeof e === 'object') delete (e as Record<string, unknown>).locations;
    } else shiftRecordedLines(expected.errors, query);
    // Errors first: an unexpected error explains a null in data.
    const want = normalize({ ...(expected.errors ? { errors: expected.errors } : {}), data: expected.data ?? null });
    const got = normalize({ ...(actual.errors ? { errors: actual.errors } : {}), data: actual.data ?? null });
    // The index knows when the document it found selects less than Shopify answered: those fields are not compared.
    for (const note of r.shapeNotes ?? []) {
      // `nodes[0].restocked`: a field the document does not select in one node it selects in none.
      const m = /^\$\.([\w.[\]]+): not selected$/.exec(note);
      if (m) dropPath(want, m[1]!.replace(/\[\d+\]/g, '').split('.'));
    }
    const diff = firstDifference(want, got);
    const cost = (expected.extensions as { cost?: { requestedQueryCost?: number; actualQueryCost?: number | null } } | undefined)?.cost;
    results.push({
      path: r.path,
      outcome: judge(diff ? 'differs' : 'equal'),
      ...(diff || skip ? { detail: skip?.[1] ?? diff! } : {}),
      ...(typeof cost?.requestedQueryCost === 'number'
        ? { cost: { requested: [cost.requestedQueryCost, outcome.requestedCost], actual: [cost.actualQueryCost ?? null, outcome.actualCost] } }
        : {}),
    });
    // Bulk operations run on timers: let a due one move on before the next request.
    await new Promise((resolve) => setImmediate(resolve));
  }
  const reason = OUT_OF_SCOPE[file];
  const outcomeOf = (): CaptureOutcome => {
    if (reason) return 'out of scope';
    if (results.some((x) => x.outcome === 'differs')) return 'differs';
    if (results.some((x) => x.outcome === 'not supported')) return 'not supported';
    return 'equal';
  };
  return { file, domain, outcome: outcomeOf(), ...(reason ? { reason } : {}), requests: results };
}

/** Replay every capture of a folder laid out like the shared one. */
export async function replayFolder(folder: string, only?: (file: string) => boolean): Promise<CaptureResult[]> {
  const index = JSON.parse(readFileSync(path.join(folder, 'documents-index.json'), 'utf8')) as { captures: Record<string, { requests: IndexRequest[] }> };
  const files = readdirSync(folder).filter((f) => f.endsWith('.json') && f !== 'documents-index.json' && (!only || only(f))).sort();
  const out: CaptureResult[] = [];
  for (const file of files) {
    const entry = index.captures[file];
    if (!entry) {
      out.push({ file, domain: domainOf(file), outcome: 'not supported', reason: 'not in documents-index.json', requests: [] });
      continue;
    }
    out.push(await replayCapture(folder, file, entry.requests));
  }
  return out;
}

export interface DomainRow {
  domain: string;
  captures: Record<CaptureOutcome, number>;
  requests: Record<RequestOutcome, number>;
  /** Equal captures over captures in scope (not out of scope), 0..1. */
  share: number;
}

export function summarize(results: CaptureResult[]): DomainRow[] {
  const domains = [...new Set([...DOMAINS, ...results.map((r) => r.domain)])].filter((d) => results.some((r) => r.domain === d));
  return domains.map((domain) => {
    const mine = results.filter((r) => r.domain === domain);
    const captures = { equal: 0, differs: 0, 'not supported': 0, 'out of scope': 0 } as Record<CaptureOutcome, number>;
    const requests = { equal: 0, differs: 0, 'not supported': 0, 'out of scope': 0 };
    for (const c of mine) {
      captures[c.outcome]++;
      for (const r of c.requests) {
        requests[c.outcome === 'out of scope' ? 'out of scope' : r.outcome]++;
      }
    }
    const inScope = mine.length - captures['out of scope'];
    return { domain, captures, requests, share: inScope ? captures.equal / inScope : 1 };
  });
}

/** The per-domain table, as printed by `npm run captures` and the test. */
export function table(results: CaptureResult[]): string {
  const rows = summarize(results);
  const head = ['domain', 'equal', 'differs', 'not supp.', 'out of scope', 'in-scope equal', 'requests eq/diff/n.s./oos'];
  const lines = rows.map((r) => [
    r.domain, String(r.captures.equal), String(r.captures.differs), String(r.captures['not supported']), String(r.captures['out of scope']),
    `${(r.share * 100).toFixed(1)} %`,
    `${r.requests.equal}/${r.requests.differs}/${r.requests['not supported']}/${r.requests['out of scope']}`,
  ]);
  const all = [head, ...lines];
  const widths = head.map((_, i) => Math.max(...all.map((l) => l[i]!.length)));
  return all.map((l) => l.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')).join('\n');
}

/** Requested-cost agreement over the requests compared: [same, recorded]. */
export function costs(results: CaptureResult[]): { requested: [number, number]; actual: [number, number] } {
  let rs = 0, rn = 0, as = 0, an = 0;
  for (const c of results) {
    if (c.outcome === 'out of scope') continue;
    for (const r of c.requests) {
      if (!r.cost) continue;
      rn++;
      if (r.cost.requested[0] === r.cost.requested[1]) rs++;
      if (r.cost.actual[0] !== null) {
        an++;
        if (r.cost.actual[0] === r.cost.actual[1]) as++;
      }
    }
  }
  return { requested: [rs, rn], actual: [as, an] };
}
