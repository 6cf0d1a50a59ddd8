/**
 * Calculated query cost, by Shopify's published rules.
 *
 * Docs: https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits#cost-calculation
 * - scalars and enums cost 0, objects 1, interfaces and unions the maximum
 *   of their possible selections;
 * - connections cost 2 plus the cost of one node times `first`/`last`;
 * - mutations cost 10 plus what their payload selects;
 * - a single query may not request more than 1000 points.
 *
 * `requested` is computed statically before execution (from `first`/`last`),
 * `actual` from the data that came back (from the nodes actually returned).
 */
import {
  getNamedType,
  isAbstractType,
  isListType,
  isNonNullType,
  isObjectType,
  isInterfaceType,
  Kind,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
  type GraphQLOutputType,
} from 'graphql';

/** Shopify's cap on one query's requested cost. */
export const MAX_QUERY_COST = 1000;
const MUTATION_COST = 10;
const CONNECTION_BASE = 2;

interface CostContext {
  schema: GraphQLSchema;
  fragments: Map<string, FragmentDefinitionNode>;
  variables: Record<string, unknown>;
}

/** Requested (static) and actual (data-driven) cost of one operation. */
export function queryCost(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  fragments: FragmentDefinitionNode[],
  variables: Record<string, unknown>,
  data?: Record<string, unknown> | null,
): number {
  const ctx: CostContext = { schema, fragments: new Map(fragments.map((f) => [f.name.value, f])), variables };
  const root = operation.operation === 'mutation' ? schema.getMutationType() : schema.getQueryType();
  if (!root) return 0;
  const isMutation = operation.operation === 'mutation';
  let total = 0;
  for (const field of collectFields(ctx, operation.selectionSet, root)) {
    const def = root.getFields()[field.name.value];
    if (!def) continue;
    const key = field.alias?.value ?? field.name.value;
    const value = data === undefined ? undefined : data?.[key];
    if (data !== undefined && data !== null && !(key in data)) continue;
    if (isMutation) {
      total += MUTATION_COST + (value === null ? 0 : payloadCost(ctx, field, def.type, value));
    } else {
      total += fieldCost(ctx, field, def, value);
    }
  }
  return total;
}

/**
 * What a mutation's payload selects beyond the flat price. The payload and
 * the objects it returns directly (`webhookSubscription`, `userErrors`) are
 * part of the price; what those objects select costs as in a query. Checked
 * against Shopify's recorded costs (test/captures/costs.test.ts).
 */
function payloadCost(ctx: CostContext, field: FieldNode, type: GraphQLOutputType, value: unknown): number {
  const named = getNamedType(type);
  if (!field.selectionSet || !isObjectType(named)) return 0;
  const obj = value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  const defs = named.getFields();
  let sum = 0;
  for (const f of collectFields(ctx, field.selectionSet, named)) {
    const def = defs[f.name.value];
    if (!def) continue;
    const key = f.alias?.value ?? f.name.value;
    if (obj && !(key in obj)) continue;
    const v = obj ? obj[key] : undefined;
    if (v === null) continue;
    if (isConnection(def)) sum += fieldCost(ctx, f, def, v);
    else sum += selectionCost(ctx, f, def.type, v, true);
  }
  return sum;
}

/** Fields selected on `type`, fragments flattened; abstract branches are merged (max taken later). */
function collectFields(ctx: CostContext, set: SelectionSetNode, type: GraphQLCompositeType): FieldNode[] {
  const out: FieldNode[] = [];
  for (const sel of set.selections) {
    if (sel.kind === Kind.FIELD) out.push(sel);
    else if (sel.kind === Kind.INLINE_FRAGMENT) {
      if (!sel.typeCondition || sel.typeCondition.name.value === type.name) out.push(...collectFields(ctx, sel.selectionSet, type));
    } else {
      const frag = ctx.fragments.get(sel.name.value);
      if (frag && frag.typeCondition.name.value === type.name) out.push(...collectFields(ctx, frag.selectionSet, type));
    }
  }
  return out;
}

/** Fragments on concrete types inside an abstract selection, grouped by type. */
function typedBranches(ctx: CostContext, set: SelectionSetNode, abstractName: string): Map<string, SelectionSetNode[]> {
  const out = new Map<string, SelectionSetNode[]>();
  const add = (name: string, s: SelectionSetNode) => out.set(name, [...(out.get(name) ?? []), s]);
  for (const sel of set.selections) {
    if (sel.kind === Kind.INLINE_FRAGMENT && sel.typeCondition && sel.typeCondition.name.value !== abstractName) {
      add(sel.typeCondition.name.value, sel.selectionSet);
    } else if (sel.kind === Kind.FRAGMENT_SPREAD) {
      const frag = ctx.fragments.get(sel.name.value);
      if (frag && frag.typeCondition.name.value !== abstractName) add(frag.typeCondition.name.value, frag.selectionSet);
    }
  }
  return out;
}

function argInt(ctx: CostContext, field: FieldNode, name: string): number | null {
  const arg = field.arguments?.find((a) => a.name.value === name);
  if (!arg) return null;
  const v: ValueNode = arg.value;
  if (v.kind === Kind.INT) return Number(v.value);
  if (v.kind === Kind.VARIABLE) {
    const x = ctx.variables[v.name.value];
    return typeof x === 'number' ? x : null;
  }
  return null;
}

function isConnection(def: GraphQLField<unknown, unknown>): boolean {
  return getNamedType(def.type).name.endsWith('Connection') && def.args.some((a) => a.name === 'first');
}

function fieldCost(ctx: CostContext, field: FieldNode, def: GraphQLField<unknown, unknown>, value: unknown): number {
  const named = getNamedType(def.type);
  if (!field.selectionSet || !(isObjectType(named) || isAbstractType(named))) return 0;
  if (value === null) return 0;
  if (isConnection(def)) return connectionCost(ctx, field, named as GraphQLCompositeType, value);
  return selectionCost(ctx, field, def.type, value, false);
}

/** Cost of an object (or list of objects) field and what it selects. */
function selectionCost(ctx: CostContext, field: FieldNode, type: GraphQLOutputType, value: unknown, free: boolean): number {
  const t = isNonNullType(type) ? type.ofType : type;
  if (isListType(t)) {
    // Lists are priced as one element statically; actual cost is per element.
    if (Array.isArray(value)) return value.reduce<number>((s, v) => s + selectionCost(ctx, field, t.ofType, v, free), 0);
    return selectionCost(ctx, field, t.ofType, undefined, free);
  }
  const named = getNamedType(t);
  if (!field.selectionSet || !(isObjectType(named) || isAbstractType(named)) || value === null) return 0;
  return (free ? 0 : 1) + childrenCost(ctx, field.selectionSet, named as GraphQLCompositeType, value);
}

function childrenCost(ctx: CostContext, set: SelectionSetNode, type: GraphQLCompositeType, value: unknown): number {
  const obj = value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  const fieldsOf = (t: GraphQLCompositeType, s: SelectionSetNode): number => {
    if (!(isObjectType(t) || isInterfaceType(t))) return 0;
    const defs = t.getFields();
    let sum = 0;
    for (const f of collectFields(ctx, s, t)) {
      const def = defs[f.name.value];
      if (!def) continue;
      const key = f.alias?.value ?? f.name.value;
      if (obj && !(key in obj)) continue;
      sum += fieldCost(ctx, f, def, obj ? obj[key] : undefined);
    }
    return sum;
  };
  let base = fieldsOf(type, set);
  if (isAbstractType(type)) {
    let best = 0;
    for (const [name, sets] of typedBranches(ctx, set, type.name)) {
      const t = ctx.schema.getType(name);
      if (!t || !(isObjectType(t) || isInterfaceType(t))) continue;
      if (obj && typeof obj.__typename === 'string' && obj.__typename !== name && isObjectType(t)) continue;
      best = Math.max(best, sets.reduce((s, ss) => s + fieldsOf(t, ss), 0));
    }
    base += best;
  }
  return base;
}

function connectionCost(ctx: CostContext, field: FieldNode, type: GraphQLCompositeType, value: unknown): number {
  if (!isObjectType(type) || !field.selectionSet) return CONNECTION_BASE;
  const size = argInt(ctx, field, 'first') ?? argInt(ctx, field, 'last') ?? 0;
  const conn = value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  const nodeType = getNamedType(type.getFields().nodes?.type ?? type.getFields().edges!.type);
  let perNode = 0;
  let edgesCost: number | undefined;
  for (const f of collectFields(ctx, field.selectionSet, type)) {
    const key = f.alias?.value ?? f.name.value;
    if (f.name.value === 'nodes' && f.selectionSet) {
      if (conn) {
        const list = conn[key];
        edgesCost = (edgesCost ?? 0) + (Array.isArray(list) ? list.reduce<number>((s, n) => s + (n === null ? 0 : 1 + childrenCost(ctx, f.selectionSet!, nodeType as GraphQLCompositeType, n)), 0) : 0);
      } else perNode = Math.max(perNode, 1 + childrenCost(ctx, f.selectionSet, nodeType as GraphQLCompositeType, undefined));
    } else if (f.name.value === 'edges' && f.selectionSet) {
      const nodeField = collectFields(ctx, f.selectionSet, ctx.schema.getType(getNamedType(type.getFields().edges!.type).name) as GraphQLCompositeType).find((x) => x.name.value === 'node');
      if (!nodeField?.selectionSet) continue;
      const nodeKey = nodeField.alias?.value ?? 'node';
      if (conn) {
        const list = conn[key];
        edgesCost = (edgesCost ?? 0) + (Array.isArray(list) ? list.reduce<number>((s, e) => {
          const n = e && typeof e === 'object' ? (e as Record<string, unknown>)[nodeKey] : null;
          return s + (n == null ? 0 : 1 + childrenCost(ctx, nodeField.selectionSet!, nodeType as GraphQLCompositeType, n));
        }, 0) : 0);
      } else perNode = Math.max(perNode, 1 + childrenCost(ctx, nodeField.selectionSet, nodeType as GraphQLCompositeType, undefined));
    }
  }
  if (conn) return CONNECTION_BASE + (edgesCost ?? 0);
  return CONNECTION_BASE + size * perNode;
}
