/**
 * One GraphQL request, end to end, as Shopify answers it:
 * parse → validate → coerce variables → price → bucket → execute → refund.
 *
 * Docs: https://shopify.dev/docs/api/admin-graphql (endpoint, errors)
 *       https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits (cost, THROTTLED)
 */
import {
  coerceInputValue,
  execute,
  GraphQLError,
  Kind,
  parse,
  typeFromAST,
  isInputType,
  type DocumentNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
} from 'graphql';
import { adminSchema } from './schema.ts';
import { notSimulated } from './not-simulated.ts';
import { queryCost, MAX_QUERY_COST } from './cost.ts';
import type { LeakyBucket } from './bucket.ts';
import { maxCostError, serializeExecutionError, syntaxError, throttledError, validateLikeShopify, type ShopifyError } from './errors.ts';
import type { Ctx } from './resolvers/context.ts';

export interface GraphQLRequestBody {
  query?: unknown;
  variables?: unknown;
  operationName?: unknown;
}

export interface GraphQLOutcome {
  body: Record<string, unknown>;
  operationName: string | null;
  requestedCost: number | null;
  actualCost: number | null;
  throttled: boolean;
}

/** Shopify's variable errors: `Variable $input of type X! was provided invalid value for a.b (why)`. */
export function coerceVariables(op: OperationDefinitionNode, raw: Record<string, unknown>, schema = adminSchema()): ShopifyError[] {
  const errors: ShopifyError[] = [];
  for (const def of op.variableDefinitions ?? []) {
    const name = def.variable.name.value;
    const type = typeFromAST(schema, def.type as never);
    if (!type || !isInputType(type)) continue;
    const has = Object.prototype.hasOwnProperty.call(raw, name);
    if (!has && (def.defaultValue || def.type.kind !== Kind.NON_NULL_TYPE)) continue;
    const problems: Array<{ path: Array<string | number>; explanation: string; message?: string }> = [];
    // Shopify's ID scalar takes global ids only (recorded: `bulkOperation(id: $id)` with
    // "not-a-shopify-gid" answers INVALID_VARIABLE "Invalid global id 'not-a-shopify-gid'").
    const named = def.type.kind === Kind.NON_NULL_TYPE ? def.type.type : def.type;
    const raw0 = has ? raw[name] : null;
    if (named.kind === Kind.NAMED_TYPE && named.name.value === 'ID' && typeof raw0 === 'string' && !/^gid:\/\/[\w-]+\/\w+\/./.test(raw0)) {
      const explanation = `Invalid global id '${raw0}'`;
      errors.push({
        message: `Variable $${name} of type ${printTypeNode(def.type)} was provided invalid value`,
        locations: def.loc ? [{ line: def.loc.startToken.line, column: def.loc.startToken.column }] : undefined,
        extensions: { code: 'INVALID_VARIABLE', value: raw0, problems: [{ path: [], explanation, message: explanation }] },
      });
      continue;
    }
    coerceInputValue(has ? raw[name] : null, type, (path, _invalid, err) => {
      const m1 = /Field "(.+?)" is not defined by type "(.+?)"/.exec(err.message);
      const m2 = /Field "(.+?)" of required type "(.+?)" was not provided/.exec(err.message);
      const m3 = /^(\w+) cannot represent .*?: (.*)$/.exec(err.message);
      const m4 = /Value "(.+?)" does not exist in "(.+?)" enum/.exec(err.message);
      let explanation = err.message;
      let p = [...path];
      if (m1) { explanation = `Field is not defined on ${m1[2]}`; p = [...path, m1[1]!]; }
      else if (m2) { explanation = 'Expected value to not be null'; p = [...path, m2[1]!]; }
      else if (/not to be null/.test(err.message)) explanation = 'Expected value to not be null';
      else if (m3) explanation = `Could not coerce value ${m3[2]} to ${m3[1]}`;
      else if (/^Invalid url /.test(err.message)) explanation = err.message;
      else if (m4) explanation = `Expected "${m4[1]}" to be one of: ${(schema.getType(m4[2]!) as { getValues?: () => Array<{ name: string }> }).getValues?.().map((v) => v.name).join(', ')}`;
      // A custom scalar's coercion error (CoercionError in graphql-ruby) also carries its message.
      problems.push(/^Invalid url /.test(explanation) ? { path: p, explanation, message: explanation } : { path: p, explanation });
    });
    if (problems.length) {
      const typeStr = printTypeNode(def.type);
      // graphql-ruby: "… invalid value for a (why), b.c (why)".
      const detail = problems.map((pr, i) => (pr.path.length ? `${i === 0 ? 'for ' : ''}${pr.path.join('.')} (${pr.explanation})` : `(${pr.explanation})`)).join(', ');
      errors.push({
        message: `Variable $${name} of type ${typeStr} was provided invalid value ${detail}`.trim(),
        locations: def.loc ? [{ line: def.loc.startToken.line, column: def.loc.startToken.column }] : undefined,
        extensions: { code: 'INVALID_VARIABLE', value: has ? raw[name] : null, problems },
      });
    }
  }
  return errors;
}

function printTypeNode(t: import('graphql').TypeNode): string {
  if (t.kind === Kind.NON_NULL_TYPE) return `${printTypeNode(t.type)}!`;
  if (t.kind === Kind.LIST_TYPE) return `[${printTypeNode(t.type)}]`;
  return t.name.value;
}

/** Run one request against the shop. Never throws for client mistakes. */
export function runGraphQL(req: GraphQLRequestBody, ctx: Ctx, bucket: LeakyBucket, root: Record<string, unknown>): GraphQLOutcome {
  const schema = adminSchema();
  const outcome = (body: Record<string, unknown>, extra: Partial<GraphQLOutcome> = {}): GraphQLOutcome => ({
    body, operationName: null, requestedCost: null, actualCost: null, throttled: false, ...extra,
  });
  if (typeof req.query !== 'string' || !req.query.trim()) {
    return outcome({ errors: [{ message: 'No query string was present' }] });
  }
  let doc: DocumentNode;
  try {
    doc = parse(req.query);
  } catch (err) {
    return outcome({ errors: [syntaxError(err as GraphQLError)] });
  }
  // A root Shopify has and the simulator does not run: say so plainly (not-simulated.ts).
  const unsupported = notSimulated(doc, typeof req.operationName === 'string' ? req.operationName : null);
  if (unsupported.length) return outcome({ errors: unsupported });
  const validation = validateLikeShopify(schema, doc);
  if (validation.length) return outcome({ errors: validation });
  const ops = doc.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const wanted = typeof req.operationName === 'string' ? req.operationName : null;
  const op = wanted ? ops.find((o) => o.name?.value === wanted) : ops.length === 1 ? ops[0] : undefined;
  if (!op) {
    return outcome({ errors: [{ message: wanted ? `No operation named "${wanted}"` : 'An operation name is required' }] });
  }
  const operationName = op.name?.value ?? null;
  const variables = req.variables && typeof req.variables === 'object' ? (req.variables as Record<string, unknown>) : {};
  const varErrors = coerceVariables(op, variables);
  if (varErrors.length) return outcome({ errors: varErrors }, { operationName });

  const fragments = doc.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION);
  const requested = queryCost(schema, op, fragments, variables);
  const costExt = (actual: number | null) => ({ cost: { requestedQueryCost: requested, actualQueryCost: actual, throttleStatus: bucket.status() } });
  if (requested > MAX_QUERY_COST) {
    return outcome({ errors: [maxCostError(requested, MAX_QUERY_COST)], extensions: costExt(null) }, { operationName, requestedCost: requested });
  }
  if (!bucket.take(requested)) {
    return outcome({ errors: [throttledError()], extensions: costExt(null) }, { operationName, requestedCost: requested, throttled: true });
  }
  const result = execute({ schema, document: doc, rootValue: root, contextValue: ctx, variableValues: variables, operationName: operationName ?? undefined });
  if ('then' in result) throw new Error('resolvers must be synchronous');
  const data = (result.data ?? null) as Record<string, unknown> | null;
  const actual = Math.min(requested, queryCost(schema, op, fragments, variables, data));
  bucket.refund(requested - actual);
  const body: Record<string, unknown> = {};
  if (result.errors?.length) body.errors = result.errors.map(serializeExecutionError);
  body.data = data;
  body.extensions = costExt(actual);
  return outcome(body, { operationName, requestedCost: requested, actualCost: actual });
}
