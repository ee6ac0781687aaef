import { Type } from '@sinclair/typebox';
import { JsonSchemaValue } from '../schemaHelpers.js';
import { defineNode } from './nodeSpec.js';

export const validateSpec = defineNode({
  type: 'validate',
  title: 'Validate',
  category: 'process',
  summary:
    'Checks the payload against a JSON Schema (draft 2020-12 subset compiled once by ajv). Valid messages leave by `valid`; invalid ones by `invalid` with `errors` attached, or become dead letters with the reason when `invalid` is not wired.',
  inputs: [{ name: 'in', description: 'Messages to check.' }],
  outputs: [
    { name: 'valid', description: 'Messages whose payload matches the schema.' },
    {
      name: 'invalid',
      description: 'Messages that do not match, with `errors` ([{ path, message }]).',
      whenUnwired: 'dead-letter',
    },
  ],
  config: Type.Object(
    {
      schema: JsonSchemaValue({
        description:
          'The JSON Schema the payload must match. No remote `$ref`, no `$data`. Refused at load: a `pattern` or `patternProperties` key that safe-regex2 flags (a quantifier inside a quantified group such as `(a+)+`, more than 25 quantifiers, lookbehind), nesting deeper than 32 levels, more than 1,000 subschemas (10,000 with local `$ref`s followed), more than 256 KiB.',
        examples: [{ type: 'object', required: ['temperature'], properties: { temperature: { type: 'number' } } }],
      }),
      allErrors: Type.Boolean({
        default: false,
        description: 'Report every error rather than the first (slower).',
      }),
    },
    { additionalProperties: false },
  ),
  example: {
    schema: { type: 'object', required: ['temperature'], properties: { temperature: { type: 'number' } } },
    allErrors: false,
  },
});
