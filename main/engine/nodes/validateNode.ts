import { createRequire } from 'node:module';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { validateSpec } from '../../../shared/nodes/validate.js';
import { implement } from '../runtime/nodeRuntime.js';

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
    const ajv = new Ajv({ strict: false, allErrors, $data: false, addUsedSchema: false, validateFormats: true });
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
 * Compiles a user's JSON Schema (draft-07), once per distinct schema. No remote `$ref` (there is
 * no loader, so one fails to compile), no `$data`; formats checked.
 */
export function compileUserSchema(schema: unknown, allErrors: boolean): ValidateFunction {
  const text = JSON.stringify(schema);
  if (text.length > MAX_SCHEMA_BYTES)
    throw new Error(`schema is ${text.length} bytes; the limit is ${MAX_SCHEMA_BYTES}`);
  const key = `${allErrors ? 1 : 0}${text}`;
  const cached = compiled.get(key);
  if (cached) return cached;
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
