import { Type } from '@sinclair/typebox';
import { defineNode } from './nodeSpec.js';

export const debugSpec = defineNode({
  type: 'debug',
  title: 'Debug',
  category: 'sink',
  summary:
    "Sends messages to the engine's event stream (the editor's debug panel; the log when headless), rate-limited and truncated so it can never flood anything.",
  inputs: [{ name: 'in', description: 'Messages to show.' }],
  outputs: [],
  config: Type.Object(
    {
      maxPerSecond: Type.Integer({
        minimum: 1,
        maximum: 1000,
        default: 10,
        description: 'Messages shown per second; the rest are counted as dropped.',
      }),
      previewBytes: Type.Integer({ minimum: 16, maximum: 65536, default: 1024, description: 'Payload preview size.' }),
      log: Type.Boolean({ default: false, description: 'Also write each shown message to the log.' }),
    },
    { additionalProperties: false },
  ),
  example: { maxPerSecond: 10, previewBytes: 1024, log: true },
});
