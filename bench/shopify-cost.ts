/**
 * Shopify's published query-cost rules, applied by the bench itself to the
 * documents it writes (never the simulator's cost.ts: the measured system
 * must not judge itself).
 *
 * https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits#cost-calculation
 * - scalars and enums cost 0, objects 1, interfaces and unions the maximum of
 *   their possible selections;
 * - a connection costs 2 plus `first` (or `last`) times the cost of one node
 *   (its `edges`, `node`, `nodes` and `pageInfo` wrappers cost nothing of their own);
 * - a mutation costs 10 (its payload's selection is not added);
 * - requested cost is computed before running (a list is priced as one
 *   element, a connection as `first` nodes); actual cost from the data that
 *   came back (the nodes and elements returned, nothing for a null).
 *
 * These are the published rules, not everything Shopify does: the real
 * answers in the shared captures agree with them on about 40 % of documents
 * and charge less for some objects (a MoneyBag with its MoneyV2 costs 0 in
 * 2025-01_orders_orderClose-noop-on-already-closed.json, where the rules say
 * 2). The simulator prices by the same published rules, so a floor computed
 * here and the points the simulator charges are in the same currency.
 */
import {
  getNamedType,
  getNullableType,
  isAbstractType,
  isListType,
  isObjectType,
  Kind,
  parse,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';

const CONNECTION_BASE = 2;
const MUTATION_COST = 10;
/** Shopify refuses a query whose requested cost is above this. */
export const MAX_REQUESTED_COST = 1000;

interface Ctx {
  schema: GraphQLSchema;
  fragments: Map<string, FragmentDefinitionNode>;
  variables: Record<string, unknown>;
}

type Data = Record<string, unknown>;

/**
 * The cost of `document` (its first operation): requested when `data` is
 * left out, actual when given the `data` of the answer.
 */
export function queryCost(schema: GraphQLSchema, document: string, variables: Record<string, unknown> = {}, data?: Data | null): number {
  const doc = parse(document);
  const op = doc.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
  if (!op || op.kind !== Kind.OPERATION_DEFINITION) throw new Error('no operation in the document');
  const ctx: Ctx = {
    schema,
    fragments: new Map(doc.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f])),
    variables,
  };
  if (op.operation === 'mutation') {
    const root = schema.getMutationType();
    if (!root) throw new Error('schema has no mutation type');
    return fieldsOf(ctx, op.selectionSet, root).filter((f) => root.getFields()[f.name.value]).length * MUTATION_COST;
  }
  const root = schema.getQueryType();
  if (!root) throw new Error('schema has no query type');
  return objectFields(ctx, op.selectionSet, root, data ?? undefined);
}

/** What the fields selected on an object cost (the object's own point is its parent's business). */
function objectFields(ctx: Ctx, set: SelectionSetNode, type: GraphQLCompositeType, data: Data | undefined): number {
  if (isAbstractType(type)) {
    const possible = ctx.schema.getPossibleTypes(type);
    const actual = typeof data?.__typename === 'string' ? possible.filter((t) => t.name === data.__typename) : possible;
    // An interface or union costs the most expensive of its possible selections (actual: the one returned).
    return Math.max(0, ...actual.map((t) => objectFields(ctx, set, t, data)));
  }
  if (!isObjectType(type)) return 0;
  let total = 0;
  for (const field of fieldsOf(ctx, set, type)) {
    const def = type.getFields()[field.name.value];
    if (!def || !field.selectionSet) continue; // scalars and enums: 0
    const key = field.alias?.value ?? field.name.value;
    const value = data === undefined ? undefined : data[key];
    if (data !== undefined && value == null) continue; // not returned: nothing charged
    const named = getNamedType(def.type) as GraphQLCompositeType;
    total += named.name.endsWith('Connection')
      ? connectionCost(ctx, field, named, value as Data | undefined)
      : valueCost(ctx, field.selectionSet, def.type, value);
  }
  return total;
}

/** An object field, or a list of them: 1 per object plus what it selects. */
function valueCost(ctx: Ctx, set: SelectionSetNode, type: GraphQLOutputType, value: unknown): number {
  const t = getNullableType(type);
  if (isListType(t)) {
    if (Array.isArray(value)) return value.reduce<number>((s, v) => s + (v == null ? 0 : valueCost(ctx, set, t.ofType, v)), 0);
    return valueCost(ctx, set, t.ofType, undefined);
  }
  return 1 + objectFields(ctx, set, getNamedType(t) as GraphQLCompositeType, value as Data | undefined);
}

/** 2 plus each node: `first` of them requested, those returned actually. */
function connectionCost(ctx: Ctx, field: FieldNode, type: GraphQLCompositeType, value: Data | undefined): number {
  if (!isObjectType(type) || !field.selectionSet) return CONNECTION_BASE;
  const size = Number(arg(ctx, field, 'first') ?? arg(ctx, field, 'last') ?? 0);
  let total = CONNECTION_BASE;
  for (const f of fieldsOf(ctx, field.selectionSet, type)) {
    if (!f.selectionSet) continue;
    const key = f.alias?.value ?? f.name.value;
    const list = value === undefined ? undefined : ((value[key] as unknown[] | null) ?? []);
    if (f.name.value === 'nodes') {
      const nodeType = getNamedType(type.getFields().nodes!.type) as GraphQLCompositeType;
      total += list ? list.reduce<number>((s, n) => s + (n == null ? 0 : 1 + objectFields(ctx, f.selectionSet!, nodeType, n as Data)), 0) : size * (1 + objectFields(ctx, f.selectionSet, nodeType, undefined));
    } else if (f.name.value === 'edges') {
      const edgeType = getNamedType(type.getFields().edges!.type);
      if (!isObjectType(edgeType)) continue;
      const nodeType = getNamedType(edgeType.getFields().node!.type) as GraphQLCompositeType;
      for (const e of fieldsOf(ctx, f.selectionSet, edgeType)) {
        if (e.name.value !== 'node' || !e.selectionSet) continue;
        const nodeKey = e.alias?.value ?? 'node';
        total += list
          ? list.reduce<number>((s, edge) => {
              const n = (edge as Data | null)?.[nodeKey] as Data | null | undefined;
              return s + (n == null ? 0 : 1 + objectFields(ctx, e.selectionSet!, nodeType, n));
            }, 0)
          : size * (1 + objectFields(ctx, e.selectionSet, nodeType, undefined));
      }
    }
  }
  return total;
}

/** The fields a selection set selects on `type`: fragments spread, other types' inline fragments left out. */
function fieldsOf(ctx: Ctx, set: SelectionSetNode, type: GraphQLCompositeType): FieldNode[] {
  const out: FieldNode[] = [];
  for (const s of set.selections) {
    if (s.kind === Kind.FIELD) out.push(s);
    else if (s.kind === Kind.INLINE_FRAGMENT) {
      if (!s.typeCondition || applies(ctx, s.typeCondition.name.value, type)) out.push(...fieldsOf(ctx, s.selectionSet, type));
    } else {
      const f = ctx.fragments.get(s.name.value);
      if (f && applies(ctx, f.typeCondition.name.value, type)) out.push(...fieldsOf(ctx, f.selectionSet, type));
    }
  }
  return out;
}

function applies(ctx: Ctx, condition: string, type: GraphQLCompositeType): boolean {
  if (condition === type.name) return true;
  const cond = ctx.schema.getType(condition);
  return !!cond && isAbstractType(cond) && isObjectType(type) && ctx.schema.isSubType(cond, type);
}

function arg(ctx: Ctx, field: FieldNode, name: string): unknown {
  const a = field.arguments?.find((x) => x.name.value === name);
  if (!a) return undefined;
  if (a.value.kind === Kind.VARIABLE) return ctx.variables[a.value.name.value];
  if (a.value.kind === Kind.INT) return Number(a.value.value);
  return undefined;
}
