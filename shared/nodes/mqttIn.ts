import { Type } from '@sinclair/typebox';
import { IntegerEnum, StringEnum } from '../schemaHelpers.js';
import { parseTopicFilter } from '../topicFilter.js';
import { defineNode, problemIfThrows } from './nodeSpec.js';

export const PAYLOAD_DECODINGS = ['auto', 'json', 'text', 'number', 'binary'] as const;

export const mqttInSpec = defineNode({
  type: 'mqtt-in',
  title: 'MQTT in',
  category: 'source',
  summary:
    'Subscribes to a topic filter and emits each message, decoded. Named wildcards such as `{area}/{device}/#` capture topic levels into `params`.',
  inputs: [],
  outputs: [{ name: 'out', description: 'Each decoded message.' }],
  usesConnection: 'always',
  config: Type.Object(
    {
      connection: Type.String({ minLength: 1, description: 'Id of the connection to subscribe on.' }),
      topic: Type.String({
        minLength: 1,
        description:
          'Topic filter. `+` and `#` as in MQTT; `{name}` is a `+` whose value lands in `params.name`; `{name#}` a named `#`; `$share/group/...` for shared subscriptions.',
        examples: ['{area}/{device}/#', 'pico/+/+', 'fleet/{device}/telemetry'],
      }),
      qos: IntegerEnum([0, 1, 2], { default: 1, description: 'Subscription QoS.' }),
      decoding: StringEnum(PAYLOAD_DECODINGS, {
        default: 'auto',
        description:
          '`auto`: JSON, else a number for ASCII numbers like `22.4`, else text. `json`, `text`, `number` insist on that form (anything else is a dead letter). `binary` keeps the bytes.',
      }),
      maxPayloadBytes: Type.Integer({
        minimum: 1,
        maximum: 268435455,
        default: 1048576,
        description: 'Payloads larger than this are dead-lettered.',
      }),
      maxDepth: Type.Integer({
        minimum: 1,
        maximum: 1000,
        default: 64,
        description: 'JSON nested deeper than this is dead-lettered (guards every later node).',
      }),
    },
    { additionalProperties: false },
  ),
  check: (config) => problemIfThrows('/topic', () => parseTopicFilter(config.topic)),
  example: {
    connection: 'local',
    topic: '{area}/{device}/#',
    qos: 1,
    decoding: 'auto',
    maxPayloadBytes: 1048576,
    maxDepth: 64,
  },
});
