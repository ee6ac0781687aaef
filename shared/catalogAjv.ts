import { Ajv, type ErrorObject } from 'ajv';
import { findReferences, hasReference } from './references.js';

/**
 * The ajv instance for TopicFlow's own schemas (flow document, node configs): strict, fills in
 * defaults, reports every error. It knows one custom keyword, `secret`, which insists that a
 * secret field holds a reference rather than the secret itself.
 */
export function createCatalogAjv(): Ajv {
  const ajv = new Ajv({ strict: true, allErrors: true, useDefaults: true, allowUnionTypes: true });
  ajv.addKeyword({
    keyword: 'secret',
    schemaType: 'boolean',
    errors: true,
    validate: function secretIsReference(this: unknown, isSecret: boolean, data: unknown): boolean {
      if (!isSecret || typeof data !== 'string' || data === '') return true;
      const refs = findReferences(data);
      const ok = hasReference(data) && refs.every((r) => r.fallback === undefined);
      if (!ok) {
        (secretIsReference as { errors?: Partial<ErrorObject>[] }).errors = [
          {
            keyword: 'secret',
            message:
              refs.length > 0
                ? 'a secret reference may not carry a fallback value (it would be a literal secret)'
                : 'holds a literal secret; use a reference such as ${env:NAME} or ${secret:NAME}',
            params: {},
          },
        ];
      }
      return ok;
    },
  });
  return ajv;
}

/** Turns an ajv error into words that say what is wrong, for a person. */
export function describeAjvError(error: ErrorObject): { path: string; message: string } {
  const params = error.params as Record<string, unknown>;
  let path = error.instancePath;
  let message = error.message ?? 'is invalid';
  switch (error.keyword) {
    case 'additionalProperties':
      path = `${path}/${String(params['additionalProperty'])}`;
      message = 'is not a known property';
      break;
    case 'required':
      path = `${path}/${String(params['missingProperty'])}`;
      message = 'is required';
      break;
    case 'enum':
      message = `must be one of ${JSON.stringify(params['allowedValues'])}`;
      break;
    case 'const':
      message = `must be ${JSON.stringify(params['allowedValue'])}`;
      break;
  }
  return { path, message };
}
