import { regexProblem } from './safeRegex.js';

/**
 * Load-time bounds on a user's JSON Schema (the `validate` node), checked before Ajv sees it so
 * every problem is reported with its JSON pointer inside the schema.
 *
 * Measured with Ajv 8 here: compiling costs about 0.4–0.65 ms per subschema (1,000 properties:
 * 0.4 s; 2,000: 1.3 s), and from about 3,000 properties, or about 1,000 levels of nesting, Ajv's
 * code generator overflows the stack. `$ref` is compiled to a function call, so a chain of
 * definitions each referring twice to the one before validates 2^n subschemas per message
 * (26 levels: 0.2 s per message, synchronously); the expanded count below catches it.
 */

/** Deepest nesting of subschemas (`properties/a/items/...`). */
export const MAX_SCHEMA_DEPTH = 32;
/** Most subschemas (schema objects and booleans) in one schema. */
export const MAX_SUBSCHEMAS = 1000;
/**
 * Most subschemas counted with every local `$ref` expanded in place: what one validation of a
 * matching payload may walk. A reference back into its own ancestors (recursion) counts once,
 * since it is paid per level of the payload, which mqtt-in's `maxDepth` bounds.
 */
export const MAX_EXPANDED_SUBSCHEMAS = 10_000;

export interface SchemaProblem {
  /** JSON pointer inside the schema ('' for the schema itself). */
  readonly path: string;
  readonly message: string;
}

/** Keywords whose value is one subschema. */
const SINGLE = new Set([
  'additionalItems',
  'additionalProperties',
  'contains',
  'not',
  'if',
  'then',
  'else',
  'propertyNames',
  'unevaluatedItems',
  'unevaluatedProperties',
  'contentSchema',
  'items',
]);
/** Keywords whose value is a map of subschemas. */
const MAPS = new Set(['properties', 'patternProperties', 'definitions', '$defs', 'dependentSchemas', 'dependencies']);
/** Keywords whose value is an array of subschemas. */
const ARRAYS = new Set(['allOf', 'anyOf', 'oneOf', 'prefixItems', 'items']);
/** Keywords whose value is data, never a schema. */
const DATA = new Set(['enum', 'default', 'examples']);

type Visit = (child: unknown, path: string) => void;

const escapePointer = (key: string): string => key.replace(/~/g, '~0').replace(/\//g, '~1');
const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** Calls `visit` for each direct subschema of `node`, with its pointer relative to `node`. */
function forEachSubschema(node: Record<string, unknown>, visit: Visit): void {
  for (const [key, value] of Object.entries(node)) {
    const here = `/${escapePointer(key)}`;
    if (ARRAYS.has(key) && Array.isArray(value)) value.forEach((child, i) => visit(child, `${here}/${i}`));
    else if (SINGLE.has(key) && (isObject(value) || typeof value === 'boolean')) visit(value, here);
    else if (MAPS.has(key) && isObject(value)) {
      for (const [name, child] of Object.entries(value)) {
        // `dependencies` also takes arrays of property names.
        if (isObject(child) || typeof child === 'boolean') visit(child, `${here}/${escapePointer(name)}`);
      }
    }
  }
}

/** An absolute URI (`https:`, `urn:`, `//host`): a reference Ajv would have to fetch. */
const ABSOLUTE = /^(?:[a-z][a-z0-9+.-]*:|\/\/)/i;

/** Everything that makes a schema unusable under the limits, each with its pointer. */
export function schemaProblems(schema: unknown): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  const ids = new Set<string>();
  const refs: { path: string; ref: string }[] = [];
  let count = 0;
  let tooDeep = false;

  const walk = (node: unknown, path: string, depth: number): void => {
    count++;
    if (depth > MAX_SCHEMA_DEPTH) {
      if (!tooDeep) problems.push({ path, message: `subschemas are nested deeper than ${MAX_SCHEMA_DEPTH} levels` });
      tooDeep = true;
      return;
    }
    if (!isObject(node)) return;
    for (const [key, value] of Object.entries(node)) {
      const here = `${path}/${escapePointer(key)}`;
      if (key === 'pattern' && typeof value === 'string') {
        const problem = regexProblem(value, 'u');
        if (problem) problems.push({ path: here, message: `pattern ${JSON.stringify(value)} ${problem}` });
      } else if (key === 'patternProperties' && isObject(value)) {
        for (const pattern of Object.keys(value)) {
          const problem = regexProblem(pattern, 'u');
          if (problem) {
            problems.push({
              path: `${here}/${escapePointer(pattern)}`,
              message: `patternProperties key ${JSON.stringify(pattern)} ${problem}`,
            });
          }
        }
      } else if (key === '$id' && typeof value === 'string') {
        ids.add(value.split('#')[0] as string);
      } else if (key === '$ref' && typeof value === 'string') {
        refs.push({ path: here, ref: value });
      } else if (!DATA.has(key) && isObject(value) && typeof value['$data'] === 'string' && !MAPS.has(key)) {
        problems.push({ path: here, message: '$data references are not supported' });
      }
    }
    forEachSubschema(node, (child, relative) => walk(child, `${path}${relative}`, depth + 1));
  };
  walk(schema, '', 0);

  if (count > MAX_SUBSCHEMAS) {
    problems.push({ path: '', message: `the schema has ${count} subschemas; the limit is ${MAX_SUBSCHEMAS}` });
  }
  for (const { path, ref } of refs) {
    const base = ref.split('#')[0] as string;
    if (ABSOLUTE.test(base) && !ids.has(base)) {
      problems.push({
        path,
        message: `$ref ${JSON.stringify(ref)} points outside the schema; remote references are never fetched`,
      });
    }
  }
  if (problems.length === 0) {
    const expanded = expandedSize(schema);
    if (expanded > MAX_EXPANDED_SUBSCHEMAS) {
      problems.push({
        path: '',
        message: `the schema expands to more than ${MAX_EXPANDED_SUBSCHEMAS} subschemas with its $refs followed (references nested in references multiply)`,
      });
    }
  }
  return problems;
}

/** Resolves a local `#/a/b` pointer against `root`, or undefined. */
function resolveLocal(root: unknown, ref: string): unknown {
  if (!ref.startsWith('#')) return undefined;
  let pointer: string;
  try {
    pointer = decodeURIComponent(ref.slice(1));
  } catch {
    return undefined;
  }
  if (pointer === '') return root;
  if (!pointer.startsWith('/')) return undefined;
  let node: unknown = root;
  for (const part of pointer.slice(1).split('/')) {
    const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object' || !Object.prototype.hasOwnProperty.call(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/**
 * Subschemas a validation may visit with local `$ref`s expanded (references by `$id` or anchor
 * are not followed). Saturates just above the limit.
 */
function expandedSize(root: unknown): number {
  const cap = MAX_EXPANDED_SUBSCHEMAS + 1;
  const memo = new Map<object, number>();
  const active = new Set<object>();
  const size = (node: unknown): number => {
    if (!isObject(node)) return 1;
    const known = memo.get(node);
    if (known !== undefined) return known;
    if (active.has(node)) return 1;
    active.add(node);
    let total = 1;
    forEachSubschema(node, (child) => {
      total = Math.min(cap, total + size(child));
    });
    if (typeof node['$ref'] === 'string') {
      const target = resolveLocal(root, node['$ref']);
      if (target !== undefined) total = Math.min(cap, total + size(target));
    }
    active.delete(node);
    memo.set(node, total);
    return total;
  };
  return size(root);
}
