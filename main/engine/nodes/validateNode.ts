import { createRequire } from 'node:module';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { validateSpec } from '../../../shared/nodes/validate.js';
import { implement } from '../runtime/nodeRuntime.js';
import { safeAjvRegExp } from './safeRegex.js';
import { schemaProblems, type SchemaProblem } from './userSchemaLimits.js';

/** A user schema larger than this (as JSON) is refused. */
export const MAX_SCHEMA_BYTES = 256 * 1024;
/** Compiled user schemas kept for reuse (a redeploy, or many nodes with one schema). */
const CACHE_LIMIT = 256;

/**
 * One Ajv per `allErrors` setting, shared by every validate node: an Ajv instance compiles the
 * draft-07 meta-schema and carries its own code cache, so one per node cost megabytes each
 * (the 100-pipeline bench case). ajv-formats (~5 MB of heap) is loaded the first time a schema
 * uses `format`, through require because compiling stays synchronous.
 */
const instances = new Map<boolean, { ajv: Ajv; formats: boolean }>();
const compiled = new Map<string, ValidateFunction>();

function instance(allErrors: boolean, needsFormats: boolean): Ajv {
  let entry = instances.get(allErrors);
  if (!entry) {
    const ajv = new Ajv({
      strict: false,
      allErrors,
      $data: false,
      addUsedSchema: false,
      validateFormats: true,
      // Chosen on purpose. `unicodeRegExp: true` (Ajv's default, spelled out): JSON Schema
      // patterns are ECMA-262 regexes over code points, and the `u` flag makes their syntax strict
      // (`\-` outside a class is an error, not a literal), so the pattern safeRegex.ts checks with
      // `u` is the pattern that runs. `code.regExp`: V8's RegExp behind the safe-regex2 check (no
      // RE2: a native addon with a different syntax); Ajv calls it for every `pattern` and
      // `patternProperties` key, after the load-time walk in userSchemaLimits.ts has named them.
      unicodeRegExp: true,
      code: { regExp: safeAjvRegExp },
      // Ajv logs the whole generated function when compiling fails (megabytes for a big schema)
      // on the console; the error itself reaches the user as a load error.
      logger: false,
    });
    entry = { ajv, formats: false };
    instances.set(allErrors, entry);
  }
  if (needsFormats && !entry.formats) {
    // ajv-formats is CommonJS with `exports.default`.
    const loaded = createRequire(import.meta.url)('ajv-formats') as { default?: unknown };
    const addFormats = (loaded.default ?? loaded) as (ajv: Ajv) => Ajv;
    addFormats(entry.ajv);
    entry.formats = true;
  }
  return entry.ajv;
}

/**
 * What keeps a schema from being used, each with its JSON pointer inside the schema: its size,
 * then the limits of userSchemaLimits.ts (depth, subschemas, unsafe patterns, remote `$ref`,
 * `$data`). Compile errors are not included (compileUserSchema reports them).
 */
export function userSchemaProblems(schema: unknown): SchemaProblem[] {
  let text: string | undefined;
  try {
    text = JSON.stringify(schema);
  } catch (error) {
    return [{ path: '', message: `cannot be serialized: ${(error as Error).message}` }];
  }
  if (text === undefined) return [{ path: '', message: 'is not a JSON value' }];
  if (text.length > MAX_SCHEMA_BYTES) {
    return [{ path: '', message: `the schema is ${text.length} bytes; the limit is ${MAX_SCHEMA_BYTES}` }];
  }
  return schemaProblems(schema);
}

/**
 * Compiles a user's JSON Schema (draft-07), once per distinct schema, within the limits of
 * userSchemaProblems. No remote `$ref` (there is no loader, and the walk names them), no `$data`;
 * formats checked; patterns only when safe-regex2 passes them.
 */
export function compileUserSchema(schema: unknown, allErrors: boolean): ValidateFunction {
  const text = JSON.stringify(schema);
  if (text.length > MAX_SCHEMA_BYTES)
    throw new Error(`schema is ${text.length} bytes; the limit is ${MAX_SCHEMA_BYTES}`);
  const key = `${allErrors ? 1 : 0}${text}`;
  const cached = compiled.get(key);
  if (cached) return cached;
  const [problem] = schemaProblems(schema);
  if (problem) throw new Error(`${problem.path || '(the schema)'}: ${problem.message}`);
  const ajv = instance(allErrors, text.includes('"format"'));
  // A private copy: Ajv caches by object identity, and removing it keeps that cache from growing.
  const own = JSON.parse(text) as object;
  const validate = ajv.compile(own);
  ajv.removeSchema(own);
  if (compiled.size >= CACHE_LIMIT) compiled.delete(compiled.keys().next().value as string);
  compiled.set(key, validate);
  return validate;
}

export function describeSchemaErrors(
  errors: readonly ErrorObject[] | null | undefined,
): { path: string; message: string }[] {
  return (errors ?? []).map((e) => {
    const params = e.params as Record<string, unknown>;
    if (e.keyword === 'required')
      return { path: `${e.instancePath}/${String(params['missingProperty'])}`, message: 'is required' };
    if (e.keyword === 'additionalProperties') {
      return { path: `${e.instancePath}/${String(params['additionalProperty'])}`, message: 'is not allowed' };
    }
    return { path: e.instancePath || '/', message: e.message ?? 'is invalid' };
  });
}

export const validateNode = implement({
  spec: validateSpec,
  check(config) {
    const problems = userSchemaProblems(config.schema);
    if (problems.length > 0) return problems.map((p) => ({ path: `/schema${p.path}`, message: p.message }));
    try {
      compileUserSchema(config.schema, config.allErrors);
      return [];
    } catch (error) {
      return [{ path: '/schema', message: `not a usable JSON Schema: ${(error as Error).message}` }];
    }
  },
  create(ctx) {
    const validate = compileUserSchema(ctx.config.schema, ctx.config.allErrors);
    const valid = ctx.output('valid');
    const invalid = ctx.output('invalid');
    return {
      onInput(message) {
        if (validate(message.payload)) valid(message);
        else invalid({ ...message, errors: describeSchemaErrors(validate.errors) });
      },
    };
  },
});
