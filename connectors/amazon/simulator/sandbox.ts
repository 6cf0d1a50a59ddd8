/**
 * Amazon's static sandbox: the `x-amzn-api-sandbox` cases of the models
 * (copied into ./sandbox, see its NOTICE.md), for every operation they
 * cover. A request whose parameters equal a case's gets that case's status
 * and body; anything else gets `400 InvalidInput "Could not match input
 * arguments"` (errors.json `400-sandbox-no-matching-case`). A case parameter
 * without a `value` matches any value; when several cases match, the one
 * naming most parameters wins (getOrders' NextToken case over its first page).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { HttpAnswer, amazonError } from './answers.ts';

export interface SandboxCase {
  status: number;
  kind: string;
  request?: { parameters: Record<string, { value?: unknown }> };
  response: unknown;
}
export interface SandboxOperation {
  operationId: string;
  method: string;
  path: string;
  cases: SandboxCase[];
}

interface Compiled extends SandboxOperation {
  pattern: RegExp;
  names: string[];
  file: string;
}

export interface SandboxRequest {
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
}

let compiled: Compiled[] | null = null;
/** Every operation of the copied example files, with a matcher for its path template. */
export function sandboxOperations(): Compiled[] {
  if (compiled) return compiled;
  const dir = new URL('./sandbox/', import.meta.url);
  compiled = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    const data = JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as { operations: SandboxOperation[] };
    for (const op of data.operations) {
      const names: string[] = [];
      const pattern = new RegExp(`^${op.path.replace(/\{(\w+)\}/g, (_, n: string) => (names.push(n), '([^/]+)'))}$`);
      compiled.push({ ...op, pattern, names, file });
    }
  }
  return compiled;
}

/** The operation a request is for, with its path parameters. */
export function sandboxRoute(method: string, pathname: string): { op: Compiled; params: Record<string, string> } | null {
  for (const op of sandboxOperations()) {
    if (op.method !== method) continue;
    const m = op.pattern.exec(pathname);
    if (m) return { op, params: Object.fromEntries(op.names.map((n, i) => [n, decodeURIComponent(m[i + 1]!)])) };
  }
  return null;
}

/** The request's value of a case parameter, typed like the case's value. */
function valueOf(request: SandboxRequest, name: string, like: unknown): unknown {
  if (name === 'body') return request.body;
  if (name in request.params) return request.params[name];
  const text = request.query.get(name);
  if (text === null) return undefined;
  if (Array.isArray(like)) return text.split(',');
  if (typeof like === 'number') return Number(text);
  if (typeof like === 'boolean') return text === 'true';
  return text;
}

export function matchSandbox(op: SandboxOperation, request: SandboxRequest): HttpAnswer {
  let best: { c: SandboxCase; score: number } | null = null;
  for (const c of op.cases.filter((x) => x.kind === 'x-amzn-api-sandbox.static')) {
    const valued = Object.entries(c.request?.parameters ?? {}).filter(([, p]) => p && typeof p === 'object' && 'value' in p);
    if (!valued.every(([name, p]) => isDeepStrictEqual(valueOf(request, name, p.value), p.value))) continue;
    if (!best || valued.length > best.score) best = { c, score: valued.length };
  }
  if (!best) return amazonError(400, 'InvalidInput', 'Could not match input arguments', '');
  return new HttpAnswer(best.c.status, best.c.status === 204 ? null : best.c.response);
}
