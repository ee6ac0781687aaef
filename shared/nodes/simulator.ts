import { Type } from '@sinclair/typebox';
import { StringEnum } from '../schemaHelpers.js';
import { defineNode } from './nodeSpec.js';

export const DEVICE_PROFILES = ['sensor', 'camera', 'gateway'] as const;

export const simulatorSpec = defineNode({
  type: 'simulator',
  title: 'Device simulator',
  category: 'source',
  summary:
    'A fleet of simulated devices. Each has a profile (a sensor idles cool, a camera runs hot and busy, a gateway moves traffic), values that drift on a slow sine with a random phase per device, Gaussian noise and anomaly spikes at a set rate. Telemetry goes to `fleet/{id}/telemetry` (QoS 0), status to `fleet/{id}/status` (QoS 1, retained) and anomalies to `fleet/{id}/events` (QoS 1, high priority), published to a broker or emitted straight into the flow.',
  inputs: [],
  outputs: [{ name: 'out', description: 'Generated messages (mode `emit`).' }],
  usesConnection: 'sometimes',
  config: Type.Object(
    {
      mode: StringEnum(['publish', 'emit'], {
        default: 'emit',
        description: '`publish` to the connection, or `emit` into the flow.',
      }),
      connection: Type.Optional(
        Type.String({ minLength: 1, description: 'Connection to publish on (mode `publish`).' }),
      ),
      devices: Type.Integer({ minimum: 1, maximum: 100000, default: 10, description: 'Fleet size.' }),
      profiles: Type.Array(StringEnum(DEVICE_PROFILES), {
        minItems: 1,
        default: ['sensor', 'camera', 'gateway'],
        description: 'Profiles assigned to devices in turn.',
      }),
      intervalMs: Type.Integer({
        minimum: 1,
        maximum: 3600000,
        default: 1000,
        description: 'Telemetry period of each device.',
      }),
      statusEvery: Type.Integer({ minimum: 1, default: 10, description: 'A status message every N telemetry ticks.' }),
      anomalyRate: Type.Number({
        minimum: 0,
        maximum: 1,
        default: 0.01,
        description: 'Probability that a reading is a spike (and an event is raised).',
      }),
      invalidRate: Type.Number({
        minimum: 0,
        maximum: 1,
        default: 0,
        description: 'Probability that a telemetry payload is deliberately malformed (to exercise validators).',
      }),
      seed: Type.Integer({ minimum: 0, default: 0, description: 'Random seed; 0 picks one at start.' }),
      maxTicks: Type.Integer({ minimum: 0, default: 0, description: 'Stop after this many ticks (0 = never).' }),
      topicPrefix: Type.String({ minLength: 1, default: 'fleet', description: 'First topic level.' }),
    },
    { additionalProperties: false },
  ),
  check: (config) =>
    config.mode === 'publish' && !config.connection
      ? [{ path: '/connection', message: 'is required when mode is "publish"' }]
      : [],
  example: {
    mode: 'publish',
    connection: 'local',
    devices: 10,
    profiles: ['sensor', 'camera', 'gateway'],
    intervalMs: 1000,
    statusEvery: 10,
    anomalyRate: 0.01,
    invalidRate: 0.02,
    seed: 42,
    maxTicks: 0,
    topicPrefix: 'fleet',
  },
});
