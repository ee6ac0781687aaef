import { Type } from '@sinclair/typebox';
import { defineNode } from './nodeSpec.js';

export const filterSpec = defineNode({
  type: 'filter',
  title: 'Filter',
  category: 'process',
  summary:
    'Routes each message by a JSONata predicate, compiled once: truthy results leave by `match`, the rest by `else`. Same bindings as `transform`.',
  inputs: [{ name: 'in', description: 'Messages to route.' }],
  outputs: [
    { name: 'match', description: 'Messages for which the predicate is truthy.' },
    { name: 'else', description: 'The others; dropped quietly when not wired.', whenUnwired: 'discard' },
  ],
  config: Type.Object(
    {
      predicate: Type.String({
        minLength: 1,
        maxLength: 65536,
        description: 'JSONata expression; its truthiness decides the port. Bounded like `transform` expressions.',
        examples: ['temperature > 30', '$params.area = "plant1"'],
      }),
    },
    { additionalProperties: false },
  ),
  example: { predicate: 'temperature > 30' },
});
