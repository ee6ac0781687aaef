import { Type } from '@sinclair/typebox';
import { defineNode } from './nodeSpec.js';
import { outboxExample, outboxProperties } from './outboxConfig.js';

export const httpPostSpec = defineNode({
  type: 'http-post',
  title: 'HTTP POST',
  category: 'sink',
  summary:
    'POSTs each payload as JSON to a URL, from a durable outbox: a message is acknowledged once it is in the outbox, and leaves it when the endpoint answers 2xx. 5xx, 408, 429, timeouts and refused connections are retried with backoff; other 4xx answers make a dead letter.',
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
      maxInFlight: Type.Integer({
        minimum: 1,
        maximum: 256,
        default: 1,
        description: 'Concurrent requests (1 keeps strict priority and arrival order).',
      }),
      ...outboxProperties,
    },
    { additionalProperties: false },
  ),
  example: {
    url: '${env:INGEST_URL:-http://127.0.0.1:8080/ingest}',
    headers: { 'x-source': 'topicflow' },
    secretHeaders: { authorization: 'Bearer ${env:INGEST_TOKEN}' },
    timeoutMs: 10000,
    maxInFlight: 1,
    ...outboxExample,
  },
});
