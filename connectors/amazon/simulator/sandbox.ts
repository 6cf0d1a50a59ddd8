/**
 * Amazon's static sandbox: the `x-amzn-api-sandbox` cases of the models
 * (copied into ./sandbox, see its NOTICE.md). A request whose parameters
 * equal a case's gets that case's status and body; anything else gets
 * `400 InvalidInput "Could not match input arguments"` (errors.json
 * `400-sandbox-no-matching-case`). A case parameter without a `value`
 * matches any value; when several cases match, the one naming most
 * parameters wins (getOrders' NextToken case over its first page).
 */
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import type { OperationName } from '../rate-limits.ts';
import { HttpAnswer, amazonError } from './answers.ts';
import type { Request } from './server.ts';

interface SandboxCase {
  status: number;
  kind: string;
  request?: { parameters: Record<string, { value?: unknown }> };
  response: unknown;
}
interface SandboxFile {
  operations: Array<{ operationId: string; method: string; path: string; cases: SandboxCase[] }>;
}

const FILES: Record<string, string> = {
  ordersV0: 'ordersV0.json',
  orders2026: 'orders_2026-01-01.json',
  feeds: 'feeds_2021-06-30.json',
  listings: 'listingsItems_2021-08-01.json',
  tokens: 'tokens_2021-03-01.json',
};

/** Which file and operation id a connector operation's cases are under. */
function source(op: OperationName): [string, string] {
  if (op === 'getOrderV2026') return ['orders2026', 'getOrder'];
  if (op.startsWith('getOrder') || op === 'getOrders' || op === 'confirmShipment') return ['ordersV0', op];
  if (op.includes('Feed')) return ['feeds', op];
  if (op.includes('Listings')) return ['listings', op];
  return ['tokens', op];
}

let loaded: Map<string, SandboxFile> | null = null;
function files(): Map<string, SandboxFile> {
  loaded ??= new Map(Object.entries(FILES).map(([k, f]) => [k, JSON.parse(readFileSync(new URL(`./sandbox/${f}`, import.meta.url), 'utf8')) as SandboxFile]));
  return loaded;
}

/** The request's value of a case parameter, typed like the case's value. */
function valueOf(request: Request, name: string, like: unknown): unknown {
  if (name === 'body') return request.body;
  if (name in request.params) return request.params[name];
  const text = request.query.get(name);
  if (text === null) return undefined;
  if (Array.isArray(like)) return text.split(',');
  if (typeof like === 'number') return Number(text);
  if (typeof like === 'boolean') return text === 'true';
  return text;
}

export function staticCases(op: OperationName): SandboxCase[] {
  const [file, id] = source(op);
  return files().get(file)?.operations.find((o) => o.operationId === id)?.cases.filter((c) => c.kind === 'x-amzn-api-sandbox.static') ?? [];
}

export function matchSandbox(op: OperationName, request: Request): HttpAnswer {
  let best: { c: SandboxCase; score: number } | null = null;
  for (const c of staticCases(op)) {
    const valued = Object.entries(c.request?.parameters ?? {}).filter(([, p]) => p && 'value' in p);
    if (!valued.every(([name, p]) => isDeepStrictEqual(valueOf(request, name, p.value), p.value))) continue;
    if (!best || valued.length > best.score) best = { c, score: valued.length };
  }
  if (!best) return amazonError(400, 'InvalidInput', 'Could not match input arguments', '');
  return new HttpAnswer(best.c.status, best.c.status === 204 ? null : best.c.response);
}
