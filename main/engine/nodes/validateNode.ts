import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { validateSpec } from '../../../shared/nodes/validate.js';
import { implement } from '../runtime/nodeRuntime.js';

// ajv-formats is CommonJS with `exports.default`; under NodeNext the default import is the module.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
  ajv: Ajv,
) => Ajv;

/** A user schema larger than this (as JSON) is refused. */
export const MAX_SCHEMA_BYTES = 256 * 1024;

/**
 * Compiles a user's JSON Schema (draft-07) once. No remote `$ref` (there is no loader, so one
 * fails to compile), no `$data`; formats checked.
 */
export function compileUserSchema(schema: unknown, allErrors: boolean): ValidateFunction {
  const size = JSON.stringify(schema).length;
  if (size > MAX_SCHEMA_BYTES) throw new Error(`schema is ${size} bytes; the limit is ${MAX_SCHEMA_BYTES}`);
  const ajv = new Ajv({ strict: false, allErrors, $data: false, addUsedSchema: false, validateFormats: true });
  addFormats(ajv);
  return ajv.compile(schema as object);
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
