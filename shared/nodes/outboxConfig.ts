import { Type } from '@sinclair/typebox';

/** Settings of the durable outbox every network sink (http-post, mqtt-out) sends from. */
export const outboxProperties = {
  priority: Type.Integer({
    minimum: -1000,
    maximum: 1000,
    default: 0,
    description: "This node's messages' priority in its outbox: higher is sent first and evicted last.",
  }),
  priorityFrom: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 2000,
      description:
        'JSONata expression giving each message its own priority (an integer), evaluated against the payload with `$topic`, `$params`, `$qos` bound; when it yields no number, `priority` applies.',
      examples: ['level = "alarm" ? 10 : 0'],
    }),
  ),
  outboxMaxMessages: Type.Integer({
    minimum: 1,
    maximum: 10_000_000,
    default: 100_000,
    description:
      'Messages the outbox keeps while the target is unreachable; beyond it the lowest-priority, oldest are evicted to the dead letters.',
  }),
  outboxMaxBytes: Type.Integer({
    minimum: 1024,
    maximum: 10 * 1024 * 1024 * 1024,
    default: 64 * 1024 * 1024,
    description: 'Bytes of message bodies the outbox keeps; the same eviction applies beyond it.',
  }),
  retryBaseMs: Type.Integer({
    minimum: 10,
    maximum: 600_000,
    default: 1000,
    description: 'First retry delay after a failed send; it doubles per failure (with full jitter) up to retryMaxMs.',
  }),
  retryMaxMs: Type.Integer({
    minimum: 100,
    maximum: 3_600_000,
    default: 60_000,
    description: 'Cap of the retry delay.',
  }),
};

export const outboxExample = {
  priority: 0,
  outboxMaxMessages: 100_000,
  outboxMaxBytes: 64 * 1024 * 1024,
  retryBaseMs: 1000,
  retryMaxMs: 60_000,
};
