/**
 * Bulk operations: run a query over everything, write JSONL, serve it.
 *
 * Docs: https://shopify.dev/docs/api/usage/bulk-operations/queries
 * The result file has one JSON object per line. Nodes of the top-level
 * connection are lines; nodes of nested connections are lines of their own
 * with `__parentId` set to the parent's id, right after their parent (or
 * anywhere, with `groupObjects: false`, which Shopify does not promise to
 * order). Connections ignore `first` in bulk mode.
 *
 * The file is built a page of top-level objects at a time, the event loop
 * free between pages, so the shop keeps answering while a large export runs
 * (a 100,000-order export took the simulator over 30 s at once, and every
 * call meanwhile timed out). It is served once the operation is COMPLETED.
 */
import {
  execute, getNamedType, getNullableType, isInterfaceType, isListType, isObjectType, Kind, parse,
  type DocumentNode, type FieldNode, type FragmentDefinitionNode, type GraphQLError, type GraphQLNamedType,
  type GraphQLSchema, type OperationDefinitionNode, type SelectionSetNode,
} from 'graphql';
import type { ShopState } from './state.ts';
import { syntaxError } from './errors.ts';
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
  /** The JSONL file, in pieces (a page of top-level objects each), once COMPLETED. */
  file: string[] | null;
  fileSize: number | null;
  errorCode: string | null;
}

/** Bulk query operations one app may run at once on a shop (API 2026-01 and later; recorded: the sixth is refused). */
export const MAX_CONCURRENT_QUERIES = 5;
/** Largest bulk query document, in bytes (recorded: "Query is too large (65536 bytes; maximum is 65535 bytes)"). */
export const MAX_QUERY_BYTES = 65535;

type BulkUserError = { field: string[] | null; message: string; code?: string | null };

/**
 * What Shopify's bulk query validators refuse, every message that applies,
 * in Shopify's order. Documented
 * (https://shopify.dev/docs/api/usage/bulk-operations/queries, "Operation
 * restrictions"): a query operation, at least one connection, at most five,
 * nested at most two deep, no top-level `node`. Undocumented but enforced:
 * connections read through `edges { node }` (not `nodes`), the `node` above a
 * nested connection selects `id` (the JSONL's `__parentId`), and no
 * connection under a list field. Recorded in the shared captures: "at least
 * one connection" and the size limit; the other wordings are Shopify's as a
 * public conformance suite recorded them against a live 2026-04 shop (the
 * shared folder has no capture of them).
 */
export function bulkQueryProblems(schema: GraphQLSchema, doc: DocumentNode): string[] {
  const op = doc.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  if (!op || op.operation !== 'query') return ['Invalid operation type. Only `query` operations are supported.'];
  const fragments = new Map(doc.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f]));
  const viaNodes: string[] = [];
  const withoutParentId: string[] = [];
  let connections = 0;
  let deepest = 0;
  let topLevelNode = false;
  let withinList = false;

  /** The fields of a selection set, through fragments (a fragment's type condition is not narrowed: enough for counting). */
  const fieldsOf = (set: SelectionSetNode | undefined): FieldNode[] =>
    (set?.selections ?? []).flatMap((sel) => {
      if (sel.kind === Kind.FIELD) return [sel];
      if (sel.kind === Kind.INLINE_FRAGMENT) return fieldsOf(sel.selectionSet);
      return fieldsOf(fragments.get(sel.name.value)?.selectionSet);
    });
  const selectsId = (set: SelectionSetNode | undefined) => fieldsOf(set).some((f) => f.name.value === 'id' && !f.alias);

  interface Around { depth: number; inList: boolean; parent: { name: string; hasId: boolean } | null }
  const walk = (set: SelectionSetNode | undefined, type: GraphQLNamedType, around: Around, top: boolean): void => {
    if (!isObjectType(type) && !isInterfaceType(type)) return;
    for (const field of fieldsOf(set)) {
      const def = type.getFields()[field.name.value];
      if (!def) continue;
      if (top && field.name.value === 'node') topLevelNode = true;
      const named = getNamedType(def.type);
      const list = isListType(getNullableType(def.type));
      if (!(isObjectType(named) && named.name.endsWith('Connection'))) {
        walk(field.selectionSet, named, { ...around, inList: around.inList || list }, false);
        continue;
      }
      connections++;
      const depth = around.depth + 1;
      deepest = Math.max(deepest, depth);
      if (around.inList) withinList = true;
      if (around.parent && !around.parent.hasId && !withoutParentId.includes(around.parent.name)) withoutParentId.push(around.parent.name);
      // The connection's objects: `edges { node { … } }`, or `nodes { … }` (refused, but still walked).
      const inner = fieldsOf(field.selectionSet);
      const nodes = inner.filter((f) => f.name.value === 'nodes');
      if (nodes.length && !viaNodes.includes(field.name.value)) viaNodes.push(field.name.value);
      const objects = [...inner.filter((f) => f.name.value === 'edges').flatMap((e) => fieldsOf(e.selectionSet).filter((f) => f.name.value === 'node')), ...nodes];
      const nodeType = getNamedType(named.getFields().nodes?.type ?? named.getFields().edges!.type);
      const nodeOf = isObjectType(nodeType) && nodeType.name.endsWith('Edge') ? getNamedType(nodeType.getFields().node!.type) : nodeType;
      for (const o of objects) walk(o.selectionSet, nodeOf, { depth, inList: around.inList, parent: { name: field.name.value, hasId: selectsId(o.selectionSet) } }, false);
    }
  };
  walk(op.selectionSet, schema.getQueryType()!, { depth: 0, inList: false, parent: null }, true);

  const problems: string[] = [];
  if (viaNodes.length) {
    problems.push(`All connection fields in a bulk query must select their contents using 'edges' > 'node', e.g: '${viaNodes[0]} { edges { node {'. Selecting via 'nodes' is not supported. Invalid connection fields: '${viaNodes.join("', '")}'.`);
  }
  if (topLevelNode) problems.push('Bulk queries cannot contain a top level `node` field.');
  if (deepest > 2) problems.push('Bulk queries cannot contain connections with a nesting depth greater than 2.');
  if (connections > 5) problems.push('Bulk queries cannot contain more than 5 connections.');
  if (withoutParentId.length) {
    problems.push(`The parent 'node' field for a nested connection must select the 'id' field without an alias and must be of 'ID' return type. Connection fields without 'id': ${withoutParentId.join(', ')}.`);
  }
  if (withinList) problems.push('Queries that contain a connection field within a list field are not currently supported.');
  // Recorded: a top-level `node` also gets this one; other refusals do not.
  if (connections === 0 && (problems.length === 0 || (topLevelNode && problems.length === 1))) problems.push('Bulk queries must contain at least one connection.');
  return problems;
}

export class BulkOperations {
  readonly operations = new Map<number, BulkOperation>();
  private current: BulkOperation | null = null;
  /** Builds under way, by operation id: each step writes one page of the file. */
  private readonly builds = new Map<number, Generator<void, void>>();
  /** How long an operation stays CREATED/RUNNING, so clients really poll. */
  runDelayMs = 30;
  /** Top-level objects written per step of a build; between steps the simulator answers other calls. */
  rootsPerStep = 500;

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
      // graphql-ruby's parse message, as for any document ("Invalid bulk query: syntax error, unexpected end of file").
      return { op: null, userErrors: [{ field: ['query'], message: `Invalid bulk query: ${syntaxError(err as GraphQLError).message}`, code: 'INVALID' }] };
    }
    const problems = bulkQueryProblems(this.schema, doc);
    if (problems.length) return { op: null, userErrors: problems.map((message) => ({ field: ['query'], message, code: 'INVALID' })) };
    const op: BulkOperation = {
      id: this.state.nextId(), status: 'CREATED', query, createdAt: this.state.now(), completedAt: null,
      objectCount: 0, rootObjectCount: 0, file: null, fileSize: null, errorCode: null,
    };
    this.operations.set(op.id, op);
    this.current = op;
    // Only forward: an operation advanced or cancelled meanwhile keeps its state.
    setTimeout(() => {
      if (op.status !== 'CREATED') return;
      op.status = 'RUNNING';
      setTimeout(() => void this.completeInSteps(op, doc), this.runDelayMs);
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

  /** Builds the file now, all of it (or what is left of a build under way). */
  private complete(op: BulkOperation, doc: DocumentNode): void {
    const build = this.builds.get(op.id) ?? this.startBuild(op, doc);
    while (!build.next().done);
  }

  /** Builds the file a page at a time, answering other calls between pages. */
  private async completeInSteps(op: BulkOperation, doc: DocumentNode): Promise<void> {
    const build = this.builds.get(op.id) ?? this.startBuild(op, doc);
    while (!build.next().done) await new Promise((resolve) => setImmediate(resolve));
  }

  private startBuild(op: BulkOperation, doc: DocumentNode): Generator<void, void> {
    const build = this.build(op, doc);
    this.builds.set(op.id, build);
    return build;
  }

  /**
   * Runs the query once per page of top-level objects, yielding after each:
   * every top-level connection is resolved once (in bulk mode its lists make
   * their views as they are read), and each pass hands graphql-js the next
   * `rootsPerStep` of its nodes to complete, so an order is read as its page
   * is written, as on a live shop. An operation cancelled meanwhile stops.
   */
  private *build(op: BulkOperation, doc: DocumentNode): Generator<void, void> {
    try {
      // Each top-level field's value, resolved on the first pass; connections are handed out a page a pass.
      const resolved = new Map<string, unknown>();
      const step = this.rootsPerStep;
      let offset = 0;
      let more = true;
      const paged = Object.fromEntries(
        Object.entries(this.rootValue()).map(([name, field]) => [
          name,
          typeof field !== 'function'
            ? field
            : (args: unknown, ctx: unknown, info: { path: { key: string | number } }) => {
                const key = String(info.path.key);
                if (!resolved.has(key)) resolved.set(key, field(args, ctx, info));
                const value = resolved.get(key) as { edges?: unknown; nodes?: unknown } | null;
                const list = value && (sliceable(value.edges) ? value.edges : sliceable(value.nodes) ? value.nodes : null);
                if (!list) return value;
                if (offset + step < list.length) more = true;
                const page = (l: unknown) => (sliceable(l) ? l.slice(offset, offset + step) : l);
                return { ...value, edges: page(value.edges), nodes: page(value.nodes) };
              },
        ]),
      );
      // The file's pieces by top-level field, in the query's order: a field's objects stay together.
      const pieces = new Map<string, string[]>();
      // Shopify's counts run while the operation does (https://shopify.dev/docs/api/admin-graphql/latest/objects/BulkOperation).
      op.objectCount = 0;
      op.rootObjectCount = 0;
      while (more) {
        if (op.status !== 'RUNNING') return; // cancelled meanwhile
        more = false;
        setBulkMode(true);
        let result;
        try {
          result = execute({ schema: this.schema, document: doc, rootValue: paged, contextValue: this.contextValue() });
        } finally {
          setBulkMode(false);
        }
        if ('then' in result || result.errors?.length || !result.data) {
          op.status = 'FAILED';
          op.errorCode = 'INTERNAL_SERVER_ERROR';
          op.completedAt = this.state.now();
          return;
        }
        for (const [key, value] of Object.entries(result.data)) {
          const nodes = connectionNodes(value);
          if (!nodes || nodes.length === 0) continue;
          const lines: string[] = [];
          for (const node of nodes) flatten(node as Record<string, unknown>, null, lines);
          op.rootObjectCount += nodes.length;
          op.objectCount += lines.length;
          const own = pieces.get(key) ?? [];
          pieces.set(key, own);
          own.push(lines.map((l) => `${l}\n`).join(''));
        }
        offset += step;
        if (more) yield;
      }
      op.file = [...pieces.values()].flat();
      op.fileSize = op.file.reduce((sum, piece) => sum + Buffer.byteLength(piece), 0);
      op.completedAt = this.state.now();
      op.status = 'COMPLETED';
    } finally {
      this.builds.delete(op.id);
    }
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

/** An array, or a connection's LazyList (./resolvers/context.ts). */
function sliceable(list: unknown): list is { length: number; slice(from: number, to: number): unknown[] } {
  return Array.isArray(list) || (typeof list === 'object' && list !== null && Symbol.iterator in list && typeof (list as { slice?: unknown }).slice === 'function');
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

