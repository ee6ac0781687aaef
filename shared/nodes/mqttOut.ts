import { Type } from '@sinclair/typebox';
import { IntegerEnum, StringEnum } from '../schemaHelpers.js';
import { parseTopicTemplate } from '../topicTemplate.js';
import { defineNode, problemIfThrows } from './nodeSpec.js';
import { outboxExample, outboxProperties } from './outboxConfig.js';

export const mqttOutSpec = defineNode({
  type: 'mqtt-out',
  title: 'MQTT out',
  category: 'sink',
  summary:
    'Publishes each message to a topic built from a template (`{topic}`, `{params.device}`, `{payload.id}` are replaced by the message values), from a durable outbox: a message is acknowledged once it is in the outbox, and leaves it when the broker confirms the publish (QoS 1/2) or it is written (QoS 0). While the connection is down, messages wait in the outbox.',
  inputs: [{ name: 'in', description: 'Messages to publish.' }],
  outputs: [],
  usesConnection: 'always',
  config: Type.Object(
    {
      connection: Type.String({ minLength: 1, description: 'Id of the connection to publish on.' }),
      topic: Type.String({
        minLength: 1,
        description: 'Topic template.',
        examples: ['alerts/{params.device}', 'archive/{topic}'],
      }),
      qos: IntegerEnum([0, 1, 2], { default: 1 }),
      retain: Type.Boolean({ default: false }),
      encoding: StringEnum(['auto', 'json', 'text'], {
        default: 'auto',
        description: '`auto`: strings and bytes as they are, anything else as JSON.',
      }),
      timeoutMs: Type.Integer({
        minimum: 100,
        maximum: 600000,
        default: 10000,
        description: 'A publish the broker has not confirmed by then is sent again.',
      }),
      ...outboxProperties,
    },
    { additionalProperties: false },
  ),
  check: (config) => problemIfThrows('/topic', () => parseTopicTemplate(config.topic)),
  example: {
    connection: 'local',
    topic: 'alerts/{params.device}',
    qos: 1,
    retain: false,
    encoding: 'auto',
    timeoutMs: 10000,
    ...outboxExample,
    priority: 5,
  },
});
