import { Type } from '@sinclair/typebox';
import { StringEnum } from '../schemaHelpers.js';
import { defineNode } from './nodeSpec.js';

export const transformSpec = defineNode({
  type: 'transform',
  title: 'Transform',
  category: 'process',
  summary:
    'Replaces the payload with the result of a JSONata expression, compiled once. The expression reads the payload; `$topic`, `$params`, `$qos`, `$receivedAt` and `$id` are bound.',
  inputs: [{ name: 'in', description: 'Messages to transform.' }],
  outputs: [{ name: 'out', description: 'Messages with the new payload.' }],
  config: Type.Object(
    {
      expression: Type.String({
        minLength: 1,
        maxLength: 65536,
        description:
          'JSONata expression evaluated against the payload. Each evaluation is bounded: 1 s, recursion depth 500, sequences of 1,000,000 items, strings of 2 Mi characters in built-in functions and `&`, 64 MiB of added heap, a result of 16 MiB as JSON; a message that hits a limit is dead-lettered with the limit in the reason. Regex literals must pass safe-regex2.',
        examples: ['{ "device": $params.device, "celsius": temperature }'],
      }),
      whenEmpty: StringEnum(['drop', 'dead-letter'], {
        default: 'drop',
        description: 'What to do when the expression yields nothing (undefined).',
      }),
    },
    { additionalProperties: false },
  ),
  example: { expression: '{ "device": $params.device, "celsius": temperature }', whenEmpty: 'drop' },
});
