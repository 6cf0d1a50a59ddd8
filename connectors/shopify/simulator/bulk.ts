/**
 * Bulk operations: run a query over everything, write JSONL, serve it.
 *
 * Docs: https://shopify.dev/docs/api/usage/bulk-operations/queries
 * The result file has one JSON object per line. Nodes of the top-level
 * connection are lines; nodes of nested connections are lines of their own
 * with `__parentId` set to the parent's id, right after their parent (or
 * anywhere, with `groupObjects: false`, which Shopify does not promise to
 * order). Connections ignore `first` in bulk mode.
 */
import { execute, getNamedType, parse, TypeInfo, visit, visitWithTypeInfo, type DocumentNode, type GraphQLError, type GraphQLSchema } from "graphql";
import type { ShopState } from './state.ts';
import { gid, isoSeconds } from './ids.ts';
import { setBulkMode } from './resolvers/context.ts';

export interface BulkOperation {
  id: number;
  status: 'CREATED' | 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELING' | 'CANCELED';
  query: string;
  createdAt: number;
  completedAt: number | null;
  objectCount: number;
  rootObjectCount: number;
  lines: string[] | null;
  fileSize: number | null;
  errorCode: string | null;
}

/** Bulk query operations one app may run at once on a shop (API 2026-01 and later; recorded: the sixth is refused). */
export const MAX_CONCURRENT_QUERIES = 5;
/** Largest bulk query document, in bytes (recorded: "Query is too large (65536 bytes; maximum is 65535 bytes)"). */
export const MAX_QUERY_BYTES = 65535;

type BulkUserError = { field: string[] | null; message: string; code?: string | null };

/**
 * What Shopify's bulk query validators refuse. Documented
 * (https://shopify.dev/docs/api/usage/bulk-operations/queries, "Operation
 * restrictions", and the bulkOperationRunQuery reference): at least one
 * connection, at most five, nested at most two levels deep, and no
 * top-level `node`/`nodes`. Only the first message is recorded in the
 * captures ("Bulk queries must contain at least one connection."); the other
 * three are the simulator's wording of the documented rule, in the same form.
 */
export function bulkQueryProblem(schema: GraphQLSchema, doc: DocumentNode): string | null {
  const info = new TypeInfo(schema);
  let connections = 0;
  let depth = 0;
  let deepest = 0;
  let topLevelNode = false;
  let level = 0;
  const isConnection = () => {
    const def = info.getFieldDef();
    return !!def && getNamedType(def.type).name.endsWith('Connection');
  };
  const stack: boolean[] = [];
  visit(doc, visitWithTypeInfo(info, {
    Field: {
      enter(node) {
        if (level === 0 && (node.name.value === 'node' || node.name.value === 'nodes')) topLevelNode = true;
        level++;
        const c = isConnection();
        stack.push(c);
        if (c) {
          connections++;
          depth++;
          deepest = Math.max(deepest, depth);
        }
      },
      leave() {
        level--;
        if (stack.pop()) depth--;
      },
    },
  }));
  if (topLevelNode) return "Bulk queries cannot use the top-level 'node' or 'nodes' fields.";
  if (connections === 0) return 'Bulk queries must contain at least one connection.';
  if (connections > 5) return 'Bulk queries cannot contain more than 5 connections.';
  if (deepest > 2) return 'Bulk queries cannot contain connections nested more than 2 levels deep.';
  return null;
}

export class BulkOperations {
  readonly operations = new Map<number, BulkOperation>();
  private current: BulkOperation | null = null;
  /** How long an operation stays CREATED/RUNNING, so clients really poll. */
  runDelayMs = 30;

  constructor(
    private readonly state: ShopState,
    private readonly schema: GraphQLSchema,
    private readonly rootValue: () => Record<string, unknown>,
    private readonly contextValue: () => unknown,
  ) {}

  /** https://shopify.dev/docs/api/admin-graphql/latest/mutations/bulkOperationRunQuery */
  run(query: string): { op: BulkOperation | null; userErrors: BulkUserError[] } {
    const size = Buffer.byteLength(query);
    if (size > MAX_QUERY_BYTES) {
      return { op: null, userErrors: [{ field: ['query'], message: `Query is too large (${size} bytes; maximum is ${MAX_QUERY_BYTES} bytes)`, code: 'INVALID' }] };
    }
    const running = [...this.operations.values()].filter((o) => o.status === 'CREATED' || o.status === 'RUNNING' || o.status === 'CANCELING');
    if (running.length >= MAX_CONCURRENT_QUERIES) {
      return { op: null, userErrors: [{ field: null, message: `A bulk query operation for this app and shop is already in progress: ${running.map((o) => gid('BulkOperation', o.id)).join(', ')}.`, code: 'OPERATION_IN_PROGRESS' }] };
    }
    let doc: DocumentNode;
    try {
      doc = parse(query);
    } catch (err) {
      return { op: null, userErrors: [{ field: ['query'], message: `Invalid bulk query: ${(err as GraphQLError).message}`, code: 'INVALID' }] };
    }
    const problem = bulkQueryProblem(this.schema, doc);
    if (problem) return { op: null, userErrors: [{ field: ['query'], message: problem, code: 'INVALID' }] };
    const op: BulkOperation = {
      id: this.state.nextId(), status: 'CREATED', query, createdAt: this.state.now(), completedAt: null,
      objectCount: 0, rootObjectCount: 0, lines: null, fileSize: null, errorCode: null,
    };
    this.operations.set(op.id, op);
    this.current = op;
    setTimeout(() => {
      op.status = 'RUNNING';
      setTimeout(() => this.complete(op, doc), this.runDelayMs);
    }, this.runDelayMs).unref();
    return { op, userErrors: [] };
  }

  /**
   * Move an operation on to `status` now, as time would (the replay harness
   * plays a capture's clock with it): CREATED → RUNNING → COMPLETED, and
   * CANCELING → CANCELED.
   */
  advance(op: BulkOperation, status: string): void {
    if (status === 'RUNNING' && op.status === 'CREATED') op.status = 'RUNNING';
    if (status === 'COMPLETED' && (op.status === 'CREATED' || op.status === 'RUNNING')) {
      op.status = 'RUNNING';
      this.complete(op, parse(op.query));
    }
    // A canceled operation never completed: Shopify leaves completedAt null (recorded).
    if (status === 'CANCELED' && op.status === 'CANCELING') op.status = 'CANCELED';
  }

  private complete(op: BulkOperation, doc: DocumentNode): void {
    if (op.status !== 'RUNNING') return;
    setBulkMode(true);
    let result;
    try {
      result = execute({ schema: this.schema, document: doc, rootValue: this.rootValue(), contextValue: this.contextValue() });
    } finally {
      setBulkMode(false);
    }
    if ('then' in result || result.errors?.length || !result.data) {
      op.status = 'FAILED';
      op.errorCode = 'INTERNAL_SERVER_ERROR';
      op.completedAt = this.state.now();
      return;
    }
    const lines: string[] = [];
    let roots = 0;
    for (const value of Object.values(result.data)) {
      const nodes = connectionNodes(value);
      if (!nodes) continue;
      for (const node of nodes) {
        roots++;
        flatten(node as Record<string, unknown>, null, lines);
      }
    }
    op.lines = lines;
    op.objectCount = lines.length;
    op.rootObjectCount = roots;
    op.fileSize = lines.reduce((s, l) => s + Buffer.byteLength(l) + 1, 0);
    op.completedAt = this.state.now();
    op.status = 'COMPLETED';
  }

  currentOperation(): BulkOperation | null {
    return this.current;
  }

  /**
   * https://shopify.dev/docs/api/admin-graphql/latest/mutations/bulkOperationCancel
   * A running operation answers CANCELING and stops a moment later; a
   * finished one is refused (recorded messages).
   */
  cancel(op: BulkOperation): BulkUserError[] {
    if (op.status === 'CREATED' || op.status === 'RUNNING') {
      op.status = 'CANCELING';
      setTimeout(() => this.advance(op, 'CANCELED'), this.runDelayMs).unref();
      return [];
    }
    if (op.status === 'COMPLETED') return [{ field: null, message: 'A bulk operation cannot be canceled when it is completed' }];
    return [];
  }

  /** The GraphQL view of an operation (`BulkOperation`). */
  view(op: BulkOperation, baseUrl: string) {
    return {
      __typename: 'BulkOperation',
      id: gid('BulkOperation', op.id),
      status: op.status,
      type: 'QUERY',
      errorCode: op.errorCode,
      createdAt: isoSeconds(op.createdAt),
      completedAt: op.completedAt === null ? null : isoSeconds(op.completedAt),
      objectCount: String(op.objectCount),
      rootObjectCount: String(op.rootObjectCount),
      fileSize: op.fileSize === null ? null : String(op.fileSize),
      // Shopify returns null for an empty result file.
      url: op.status === 'COMPLETED' && op.objectCount > 0 ? `${baseUrl}/bulk/${op.id}.jsonl` : null,
      partialDataUrl: null,
      query: op.query,
    };
  }
}

function connectionNodes(value: unknown): unknown[] | null {
  if (!value || typeof value !== 'object') return null;
  const v = value as Record<string, unknown>;
  if (Array.isArray(v.nodes)) return v.nodes;
  if (Array.isArray(v.edges)) return v.edges.map((e) => (e as Record<string, unknown>).node);
  return null;
}

/** Write `node` as one line and its nested connections' nodes as child lines. */
function flatten(node: Record<string, unknown>, parentId: string | null, lines: string[]): void {
  const own: Record<string, unknown> = {};
  const children: unknown[][] = [];
  for (const [k, v] of Object.entries(node)) {
    const nested = connectionNodes(v);
    if (nested) children.push(nested);
    else own[k] = v;
  }
  if (parentId !== null) own.__parentId = parentId;
  lines.push(JSON.stringify(own));
  const id = typeof node.id === 'string' ? node.id : parentId;
  for (const list of children) for (const child of list) flatten(child as Record<string, unknown>, id, lines);
}

