import { Type, type Static } from '@sinclair/typebox';
import { IntegerEnum } from '../schemaHelpers.js';

export const FLOW_FORMAT = 'topicflow/flow@1';
export const FLOW_FORMAT_VERSION = 1;
/** Flow files larger than this are refused before parsing. */
export const MAX_FLOW_FILE_BYTES = 5 * 1024 * 1024;

const Id = Type.String({
  pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$',
  description: 'Stable identifier: letters, digits, "_", "." or "-", at most 64 characters.',
});

export const TlsSchema = Type.Object(
  {
    ca: Type.Optional(Type.String({ description: 'Path of a PEM file with the CA certificate(s) to trust.' })),
    cert: Type.Optional(Type.String({ description: 'Path of the client certificate (PEM) for mutual TLS.' })),
    key: Type.Optional(Type.String({ description: 'Path of the client private key (PEM) for mutual TLS.' })),
    passphrase: Type.Optional(
      Type.String({ secret: true, description: 'Passphrase of the private key, as a reference.' }),
    ),
    servername: Type.Optional(Type.String({ description: 'Server name for SNI and certificate checks.' })),
  },
  { additionalProperties: false },
);

export const ConnectionSchema = Type.Object(
  {
    id: Id,
    name: Type.Optional(Type.String()),
    url: Type.Optional(
      Type.String({
        description: 'Broker URL: mqtt://, mqtts://, ws:// or wss://. May use ${env:NAME}.',
        examples: ['mqtt://127.0.0.1:1883', '${env:MQTT_URL:-mqtt://127.0.0.1:1883}'],
      }),
    ),
    embedded: Type.Optional(
      Type.Object(
        {
          port: Type.Integer({
            minimum: 0,
            maximum: 65535,
            default: 1883,
            description: 'TCP port of the embedded broker on 127.0.0.1 (0 picks a free port).',
          }),
        },
        { additionalProperties: false },
      ),
    ),
    protocolVersion: Type.Optional(IntegerEnum([4, 5], { default: 5, description: '4 = MQTT 3.1.1, 5 = MQTT 5.' })),
    clientId: Type.Optional(Type.String({ maxLength: 128 })),
    clean: Type.Optional(
      Type.Boolean({
        default: true,
        description:
          'Start a clean session. With false (and a fixed clientId) the broker keeps the subscriptions and queues QoS 1/2 messages while the engine is away.',
      }),
    ),
    sessionExpiry: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 4294967295,
        description: 'MQTT 5: seconds the broker keeps the session after a disconnect (use with clean: false).',
      }),
    ),
    receiveMaximum: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 65535,
        default: 1000,
        description:
          'MQTT 5: QoS 1/2 messages the broker may send before the engine acknowledges them. Acknowledgements wait for commits, so this bounds what is in memory and is the backpressure on the broker.',
      }),
    ),
    keepalive: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, default: 30, description: 'Seconds.' })),
    username: Type.Optional(Type.String()),
    password: Type.Optional(Type.String({ secret: true, description: 'A reference such as ${env:MQTT_PASSWORD}.' })),
    tls: Type.Optional(TlsSchema),
  },
  { additionalProperties: false },
);

export const FlowNodeSchema = Type.Object(
  {
    id: Id,
    type: Type.String({ pattern: '^[a-z][a-z0-9-]*$' }),
    name: Type.Optional(Type.String({ maxLength: 200 })),
    config: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false },
);

const PortRef = Type.Object(
  { node: Type.String({ minLength: 1 }), port: Type.String({ minLength: 1 }) },
  { additionalProperties: false },
);

export const FlowEdgeSchema = Type.Object({ id: Id, from: PortRef, to: PortRef }, { additionalProperties: false });

const Position = Type.Object({ x: Type.Number(), y: Type.Number() }, { additionalProperties: false });

export const FlowLayoutSchema = Type.Object(
  {
    nodes: Type.Optional(Type.Record(Type.String(), Position)),
    viewport: Type.Optional(
      Type.Object({ x: Type.Number(), y: Type.Number(), zoom: Type.Number() }, { additionalProperties: false }),
    ),
  },
  { additionalProperties: false },
);

export const FlowDocumentSchema = Type.Object(
  {
    $schema: Type.Optional(Type.String()),
    format: Type.Literal(FLOW_FORMAT),
    name: Type.String({ minLength: 1, maxLength: 200 }),
    description: Type.Optional(Type.String()),
    connections: Type.Array(ConnectionSchema, { default: [] }),
    nodes: Type.Array(FlowNodeSchema, { maxItems: 10000 }),
    edges: Type.Array(FlowEdgeSchema, { default: [], maxItems: 50000 }),
    /** Positions live apart from configuration, so moving a node is never a change on deploy. */
    layout: Type.Optional(FlowLayoutSchema),
  },
  { additionalProperties: false },
);

export type FlowDocument = Static<typeof FlowDocumentSchema>;
export type FlowConnection = Static<typeof ConnectionSchema>;
export type FlowNode = Static<typeof FlowNodeSchema>;
export type FlowEdge = Static<typeof FlowEdgeSchema>;
export type FlowLayout = Static<typeof FlowLayoutSchema>;
