/**
 * Top-level errors in the shapes Shopify returns.
 *
 * Shopify runs graphql-ruby, whose messages and `extensions.code` differ from
 * graphql-js. A client that matches on them (or a test replaying captures)
 * must see Shopify's wording, so graphql-js validation errors are rewritten
 * here, rule by rule, into the graphql-ruby form seen in the captures
 * (`fixtures/shopify/captures/*webhook-subscription-conformance.json`,
 * `*inventory-quantity-contracts-2026-04.json`).
 */
import {
  GraphQLError,
  Kind,
  print,
  specifiedRules,
  validate,
  visit,
  type ASTNode,
  type DocumentNode,
  type GraphQLSchema,
  type ValidationRule,
  FieldsOnCorrectTypeRule,
  ProvidedRequiredArgumentsRule,
  KnownArgumentNamesRule,
  ValuesOfCorrectTypeRule,
  NoUnusedVariablesRule,
  NoUndefinedVariablesRule,
  ScalarLeafsRule,
  KnownTypeNamesRule,
  TypeInfo,
  visitWithTypeInfo,
  getNamedType,
} from 'graphql';

/** One error as serialized in a response body. */
export interface ShopifyError {
  message: string;
  locations?: Array<{ line: number; column: number }>;
  path?: Array<string | number>;
  extensions?: Record<string, unknown>;
}

const RATE_LIMITS_DOC = 'https://shopify.dev/api/usage/rate-limits';

/** The error Shopify returns when the bucket cannot pay for a query. */
export function throttledError(): ShopifyError {
  return { message: 'Throttled', extensions: { code: 'THROTTLED', documentation: RATE_LIMITS_DOC } };
}

/** The error for a query whose requested cost is over the single-query cap. */
export function maxCostError(cost: number, maxCost: number): ShopifyError {
  return {
    message:
      `Query cost is ${cost}, which exceeds the single query max cost limit (${maxCost}).\n\n` +
      'See https://shopify.dev/concepts/about-apis/rate-limits for more information on how the\n' +
      'cost of a query is calculated.\n\n' +
      'To query larger amounts of data with fewer limits, bulk operations should be used instead.\n' +
      'See https://shopify.dev/tutorials/perform-bulk-operations-with-admin-api for usage details.\n',
    extensions: { code: 'MAX_COST_EXCEEDED', cost, maxCost, documentation: RATE_LIMITS_DOC },
  };
}

/** A parse failure, as graphql-ruby words it. */
export function syntaxError(err: GraphQLError): ShopifyError {
  const m = /Syntax Error: (?:Expected .*, found |Unexpected )(.*)\./.exec(err.message);
  const token = m?.[1]?.replace(/^"|"$/g, '') ?? '';
  const loc = err.locations?.[0];
  const message = token === '<EOF>' ? 'syntax error, unexpected end of file' : `syntax error, unexpected ${token}`;
  return { message, ...(loc ? { locations: [{ line: loc.line, column: loc.column }] } : {}) };
}

/** Ruby-style path labels for every node of the document (`["query Name", "orders", "first"]`). */
function pathIndex(doc: DocumentNode): Map<ASTNode, string[]> {
  const index = new Map<ASTNode, string[]>();
  const stack: string[] = [];
  const labelOf = (node: ASTNode): string | null => {
    switch (node.kind) {
      case Kind.OPERATION_DEFINITION:
        return node.name ? `${node.operation} ${node.name.value}` : node.operation;
      case Kind.FRAGMENT_DEFINITION:
        return `fragment ${node.name.value}`;
      case Kind.FIELD:
        return node.alias?.value ?? node.name.value;
      case Kind.ARGUMENT:
      case Kind.OBJECT_FIELD:
        return node.name.value;
      default:
        return null;
    }
  };
  visit(doc, {
    enter(node) {
      const label = labelOf(node);
      if (label !== null) stack.push(label);
      index.set(node, [...stack]);
    },
    leave(node) {
      if (labelOf(node) !== null) stack.pop();
    },
  });
  return index;
}

/** The enclosing argument and field of a value node, for literal errors. */
function argumentContext(doc: DocumentNode, target: ASTNode): { arg?: string; field?: string } {
  let found: { arg?: string; field?: string } = {};
  visit(doc, {
    enter(node, _key, parent, _path, ancestors) {
      if (node !== target) return;
      // graphql-js passes the direct parent separately from the ancestors.
      const chain = [...ancestors, parent].filter((a): a is ASTNode => !Array.isArray(a) && typeof a === 'object' && a !== null && 'kind' in a);
      const all = [...chain, node];
      const arg = [...all].reverse().find((a) => a.kind === Kind.ARGUMENT);
      const field = [...all].reverse().find((a) => a.kind === Kind.FIELD || a.kind === Kind.DIRECTIVE);
      found = {
        arg: arg && arg.kind === Kind.ARGUMENT ? arg.name.value : undefined,
        field: field && (field.kind === Kind.FIELD || field.kind === Kind.DIRECTIVE) ? field.name.value : undefined,
      };
    },
  });
  return found;
}

type Rewriter = (err: GraphQLError, doc: DocumentNode) => Omit<ShopifyError, 'locations' | 'path'> | null;

const rewriters = new Map<ValidationRule, Rewriter>([
  [FieldsOnCorrectTypeRule, (err) => {
    const m = /Cannot query field "(.+?)" on type "(.+?)"/.exec(err.message);
    if (!m) return null;
    return { message: `Field '${m[1]}' doesn't exist on type '${m[2]}'`, extensions: { code: 'undefinedField', typeName: m[2], fieldName: m[1] } };
  }],
  [ProvidedRequiredArgumentsRule, (err) => {
    const m = /^(Field|Directive) "@?(.+?)" argument "(.+?)"/.exec(err.message);
    if (!m) return null;
    return {
      message: `${m[1]} '${m[2]}' is missing required arguments: ${m[3]}`,
      extensions: { code: 'missingRequiredArguments', className: m[1], name: m[2], arguments: m[3] },
    };
  }],
  [KnownArgumentNamesRule, (err) => {
    const m = /Unknown argument "(.+?)" on field "(?:.+?)\.(.+?)"/.exec(err.message);
    if (!m) return null;
    return {
      message: `Field '${m[2]}' doesn't accept argument '${m[1]}'`,
      extensions: { code: 'argumentNotAccepted', name: m[2], typeName: 'Field', argumentName: m[1] },
    };
  }],
  [ValuesOfCorrectTypeRule, (err, doc) => {
    const node = err.nodes?.[0];
    if (!node) return null;
    const { arg, field } = argumentContext(doc, node);
    const expected = /type "(.+?)"/.exec(err.message)?.[1] ?? /does not exist in "(.+?)" enum/.exec(err.message)?.[1];
    if (!arg || !field) return null;
    // graphql-ruby reports the whole argument value and the argument's type.
    const argNode = findArgument(doc, node);
    const value = argNode ? print(argNode.value) : print(node);
    return {
      message: `Argument '${arg}' on Field '${field}' has an invalid value (${value}). Expected type '${expected ?? 'unknown'}'.`,
      extensions: { code: 'argumentLiteralsIncompatible', typeName: 'Field', argumentName: arg },
    };
  }],
  [NoUnusedVariablesRule, (err) => {
    const m = /Variable "\$(.+?)" is never used(?: in operation "(.+?)")?/.exec(err.message);
    if (!m) return null;
    return { message: `Variable $${m[1]} is declared by ${m[2] ?? 'anonymous query'} but not used`, extensions: { code: 'variableNotUsed', variableName: m[1] } };
  }],
  [NoUndefinedVariablesRule, (err) => {
    const m = /Variable "\$(.+?)" is not defined(?: by operation "(.+?)")?/.exec(err.message);
    if (!m) return null;
    return { message: `Variable $${m[1]} is used by ${m[2] ?? 'anonymous query'} but not declared`, extensions: { code: 'variableNotDefined', variableName: m[1] } };
  }],
  [ScalarLeafsRule, (err) => {
    const m = /Field "(.+?)" of type "(.+?)" must have a selection of subfields/.exec(err.message);
    if (!m) return null;
    return {
      message: `Field must have selections (field '${m[1]}' returns ${(m[2] ?? '').replace(/[[\]!]/g, '')} but has no selections. Did you mean '${m[1]} { ... }'?)`,
      extensions: { code: 'selectionMismatch', nodeName: `field '${m[1]}'`, typeName: (m[2] ?? '').replace(/[[\]!]/g, '') },
    };
  }],
  [KnownTypeNamesRule, (err) => {
    const m = /Unknown type "(.+?)"/.exec(err.message);
    if (!m) return null;
    return { message: `${m[1]} isn't a defined input type (on $variable)`, extensions: { code: 'variableRequiresValidType', typeName: m[1] } };
  }],
]);

function findArgument(doc: DocumentNode, target: ASTNode) {
  let hit: import('graphql').ArgumentNode | undefined;
  visit(doc, {
    Argument(node) {
      let inside = false;
      visit(node, { enter(n) { if (n === target) inside = true; } });
      if (inside) hit = node;
    },
  });
  return hit;
}

/**
 * Shopify's ID scalar takes global ids only: a literal that is not one is
 * refused before execution (recorded: `bulkOperation(id: "not-a-gid")`
 * answers "Invalid global id 'not-a-gid'", code argumentLiteralsIncompatible).
 */
const GlobalIdLiteralsRule: ValidationRule = (context) => {
  const info = new TypeInfo(context.getSchema());
  return visitWithTypeInfo(info, {
    Argument(node) {
      const arg = info.getArgument();
      if (!arg || getNamedType(arg.type).name !== 'ID' || node.value.kind !== Kind.STRING) return;
      if (!/^gid:\/\/[\w-]+\/\w+\/./.test(node.value.value)) context.reportError(new GraphQLError(`Invalid global id '${node.value.value}'`, { nodes: [node] }));
    },
  }) as ReturnType<ValidationRule>;
};
rewriters.set(GlobalIdLiteralsRule, (err) => ({ message: err.message, extensions: { code: 'argumentLiteralsIncompatible', typeName: 'CoercionError' } }));

/**
 * Validate like Shopify: run graphql-js' rules, and express each error in the
 * graphql-ruby wording and `extensions.code` the real API uses.
 */
export function validateLikeShopify(schema: GraphQLSchema, doc: DocumentNode): ShopifyError[] {
  const all = validate(schema, doc, [...specifiedRules, GlobalIdLiteralsRule]);
  if (all.length === 0) return [];
  const paths = pathIndex(doc);
  const out: ShopifyError[] = [];
  // Which rule produced an error is not recorded by graphql-js: re-run rule
  // by rule (only on invalid documents, so the cost is paid rarely).
  const refusedArguments = new Set<ASTNode>();
  for (const rule of [...specifiedRules, GlobalIdLiteralsRule]) {
    for (const err of validate(schema, doc, [rule])) {
      const node = err.nodes?.[0];
      if (rule === KnownArgumentNamesRule && node) refusedArguments.add(node);
      // A required field missing from an input object literal: graphql-ruby names the field and
      // points at the object (`Argument 'price' on InputObject 'X' is required. Expected type MoneyInput!`).
      const missing = rule === ValuesOfCorrectTypeRule ? /^Field "(.+?)\.(.+?)" of required type "(.+?)" was not provided/.exec(err.message) : null;
      if (missing && node) {
        const [, inputObjectType, argumentName, argumentType] = missing;
        const base = paths.get(node);
        const loc = node.loc?.startToken;
        out.push({
          message: `Argument '${argumentName}' on InputObject '${inputObjectType}' is required. Expected type ${argumentType}`,
          ...(loc ? { locations: [{ line: loc.line, column: loc.column }] } : {}),
          ...(base ? { path: [...base, argumentName!] } : {}),
          extensions: { code: 'missingRequiredInputObjectAttribute', argumentName, argumentType, inputObjectType },
        });
        continue;
      }
      const rewritten = rewriters.get(rule)?.(err, doc) ?? { message: err.message, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } };
      const pathNode = node && (rule === ValuesOfCorrectTypeRule || rule === GlobalIdLiteralsRule) ? findArgument(doc, node) ?? node : node;
      const path = pathNode ? paths.get(pathNode) : undefined;
      // graphql-ruby points at the field for a literal it cannot coerce, at the argument itself
      // for an argument the field does not take (both recorded).
      const locNode = pathNode?.kind === Kind.ARGUMENT && rule !== KnownArgumentNamesRule ? fieldOf(doc, pathNode) ?? pathNode : pathNode;
      const loc = locNode?.loc ? locNode.loc.source && locNode.loc.startToken : undefined;
      out.push({
        message: rewritten.message,
        ...(loc ? { locations: [{ line: loc.line, column: loc.column }] } : err.locations ? { locations: err.locations.map((l) => ({ line: l.line, column: l.column })) } : {}),
        ...(path ? { path } : {}),
        ...(rewritten.extensions ? { extensions: rewritten.extensions } : {}),
      });
    }
  }
  out.push(...unusedAfterRefusal(doc, refusedArguments, paths));
  return out;
}

/**
 * A variable passed only to arguments the field does not take is, for
 * graphql-ruby, declared but not used (recorded with
 * `bulkOperationRunQuery(clientIdentifier: $clientIdentifier)`).
 */
function unusedAfterRefusal(doc: DocumentNode, refused: Set<ASTNode>, paths: Map<ASTNode, string[]>): ShopifyError[] {
  if (refused.size === 0) return [];
  const out: ShopifyError[] = [];
  for (const op of doc.definitions) {
    if (op.kind !== Kind.OPERATION_DEFINITION) continue;
    const used = new Map<string, number>();
    const onlyRefused = new Map<string, number>();
    visit(op, {
      Argument(arg) {
        const vars: string[] = [];
        visit(arg.value, { Variable(v) { vars.push(v.name.value); } });
        for (const v of vars) (refused.has(arg) ? onlyRefused : used).set(v, 1);
      },
    });
    for (const def of op.variableDefinitions ?? []) {
      const name = def.variable.name.value;
      if (!onlyRefused.has(name) || used.has(name)) continue;
      const loc = op.loc?.startToken;
      out.push({
        message: `Variable $${name} is declared by ${op.name?.value ?? 'anonymous query'} but not used`,
        ...(loc ? { locations: [{ line: loc.line, column: loc.column }] } : {}),
        ...(paths.get(op) ? { path: paths.get(op) } : {}),
        extensions: { code: 'variableNotUsed', variableName: name },
      });
    }
  }
  return out;
}

function fieldOf(doc: DocumentNode, arg: ASTNode): ASTNode | undefined {
  let hit: ASTNode | undefined;
  visit(doc, {
    Field(node) {
      if (node.arguments?.includes(arg as never)) hit = node;
    },
    Directive(node) {
      if (node.arguments?.includes(arg as never)) hit = node;
    },
  });
  return hit;
}

/** An error raised inside a resolver with Shopify's code, path and locations. */
export class ShopifyResolverError extends GraphQLError {
  constructor(message: string, code: string, nodes?: ASTNode[], extra: Record<string, unknown> = {}) {
    super(message, { nodes, extensions: { code, ...extra } });
  }
}

/**
 * Serialize a graphql-js execution error the way Shopify orders its keys
 * (`message`, `locations`, `extensions`, `path`).
 */
export function serializeExecutionError(err: GraphQLError): ShopifyError {
  const out: ShopifyError = { message: err.message };
  if (err.locations?.length) out.locations = err.locations.map((l) => ({ line: l.line, column: l.column }));
  if (err.extensions && Object.keys(err.extensions).length) out.extensions = { ...err.extensions };
  if (err.path) out.path = [...err.path];
  return out;
}
