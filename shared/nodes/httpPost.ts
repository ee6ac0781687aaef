import { Type } from '@sinclair/typebox';
import { defineNode } from './nodeSpec.js';

export const httpPostSpec = defineNode({
  type: 'http-post',
  title: 'HTTP POST',
  category: 'sink',
  summary:
    'POSTs each payload as JSON to a URL. A response other than 2xx, a timeout or a refused connection is an error and the message becomes a dead letter.',
  inputs: [{ name: 'in', description: 'Messages to send.' }],
  outputs: [],
  config: Type.Object(
    {
      url: Type.String({
        minLength: 1,
        description: 'http:// or https:// URL. May use ${env:NAME}.',
        examples: ['${env:INGEST_URL:-http://127.0.0.1:8080/ingest}'],
      }),
      headers: Type.Record(Type.String(), Type.String(), {
        default: {},
        description: 'Plain request headers.',
      }),
      secretHeaders: Type.Record(Type.String(), Type.String({ secret: true }), {
        default: {},
        description: 'Headers whose values are secrets, each a reference: `Bearer ${env:API_TOKEN}`.',
      }),
      timeoutMs: Type.Integer({ minimum: 1, maximum: 600000, default: 10000 }),
      maxInFlight: Type.Integer({ minimum: 1, maximum: 256, default: 8, description: 'Concurrent requests.' }),
      maxQueue: Type.Integer({
        minimum: 1,
        maximum: 1000000,
        default: 10000,
        description: 'Messages waiting to be sent; beyond it new messages are dead-lettered and counted as dropped.',
      }),
    },
    { additionalProperties: false },
  ),
  example: {
    url: '${env:INGEST_URL:-http://127.0.0.1:8080/ingest}',
    headers: { 'x-source': 'topicflow' },
    secretHeaders: { authorization: 'Bearer ${env:INGEST_TOKEN}' },
    timeoutMs: 10000,
    maxInFlight: 8,
    maxQueue: 10000,
  },
});
