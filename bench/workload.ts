/**
 * What every benchmark case moves: the same message shape, schema, JSONata expression and table
 * for the reference pipeline and the engine, so their ratio measures the engine's own overhead.
 */

export const SCHEMA = {
  type: 'object',
  required: ['deviceId', 'ts', 'temperature', 'humidity', 'seq'],
  properties: {
    deviceId: { type: 'string' },
    ts: { type: 'integer' },
    temperature: { type: 'number', minimum: -50, maximum: 150 },
    humidity: { type: 'number', minimum: 0, maximum: 100 },
    seq: { type: 'integer', minimum: 0 },
    pad: { type: 'string' },
  },
} as const;

export const EXPRESSION =
  '{ "device": deviceId, "ts": ts, "temperature": temperature, "humidity": humidity, "seq": seq, "dewPoint": temperature - (100 - humidity) / 5 }';

export const TABLE = 'readings';

/**
 * Created by the harness before a pipeline starts. `committed_at` is stamped by SQLite as the row
 * is inserted (inside its batch's transaction), the same way for both pipelines: latency is
 * `committed_at - pub_ts`, the publisher's clock against the same machine's clock.
 */
export const CREATE_TABLE = `
  CREATE TABLE IF NOT EXISTS ${TABLE} (
    id INTEGER PRIMARY KEY,
    ts INTEGER NOT NULL,
    topic TEXT NOT NULL,
    payload TEXT,
    device TEXT,
    pub_ts INTEGER,
    seq INTEGER,
    temperature REAL,
    committed_at REAL DEFAULT (unixepoch('subsec') * 1000)
  );
  CREATE INDEX IF NOT EXISTS ${TABLE}_ts ON ${TABLE}(ts);`;

/** The sink's mapped columns (the engine) and what the reference inserts, in this order. */
export const COLUMNS = [
  { name: 'device', path: 'payload.device', type: 'text' },
  { name: 'pub_ts', path: 'payload.ts', type: 'integer' },
  { name: 'seq', path: 'payload.seq', type: 'integer' },
  { name: 'temperature', path: 'payload.temperature', type: 'real' },
] as const;

export function topicFor(index: number, topics: number, prefixes: number): string {
  const device = index % topics;
  return prefixes > 1 ? `p${index % prefixes}/fleet/dev-${device}/telemetry` : `fleet/dev-${device}/telemetry`;
}

export function payloadFor(index: number, topics: number, pad: string): string {
  const device = index % topics;
  const base = `{"deviceId":"dev-${device}","ts":${Date.now()},"temperature":${(20 + (index % 100) / 10).toFixed(2)},"humidity":39.7,"seq":${index}`;
  return pad ? `${base},"pad":"${pad}"}` : `${base}}`;
}

/** The engine's flow for the same work; `pipelines` copies of it for the scaling case. */
export function benchFlow(options: {
  url: string;
  qos: 0 | 1;
  clientId: string;
  persistent: boolean;
  pipelines: number;
  republish: boolean;
}): unknown {
  const nodes: unknown[] = [];
  const edges: unknown[] = [];
  for (let p = 0; p < options.pipelines; p++) {
    const filter = options.pipelines > 1 ? `p${p}/fleet/{device}/telemetry` : 'fleet/{device}/telemetry';
    nodes.push(
      {
        id: `in${p}`,
        type: 'mqtt-in',
        config: { connection: 'bench', topic: filter, qos: options.qos, decoding: 'json' },
      },
      { id: `check${p}`, type: 'validate', config: { schema: SCHEMA } },
      { id: `shape${p}`, type: 'transform', config: { expression: EXPRESSION } },
      { id: `store${p}`, type: 'sqlite-sink', config: { table: TABLE, columns: COLUMNS } },
    );
    edges.push(
      { id: `a${p}`, from: { node: `in${p}`, port: 'out' }, to: { node: `check${p}`, port: 'in' } },
      { id: `b${p}`, from: { node: `check${p}`, port: 'valid' }, to: { node: `shape${p}`, port: 'in' } },
    );
    if (options.republish) {
      // shape → mqtt-out (outbox) → broker → mqtt-in → store: the outbox's cost, end to end.
      nodes.push(
        { id: `out${p}`, type: 'mqtt-out', config: { connection: 'bench', topic: 'copy/{params.device}', qos: 1 } },
        {
          id: `back${p}`,
          type: 'mqtt-in',
          config: { connection: 'bench', topic: 'copy/+', qos: 1, decoding: 'json' },
        },
      );
      edges.push(
        { id: `c${p}`, from: { node: `shape${p}`, port: 'out' }, to: { node: `out${p}`, port: 'in' } },
        { id: `d${p}`, from: { node: `back${p}`, port: 'out' }, to: { node: `store${p}`, port: 'in' } },
      );
    } else {
      edges.push({ id: `c${p}`, from: { node: `shape${p}`, port: 'out' }, to: { node: `store${p}`, port: 'in' } });
    }
  }
  return {
    format: 'topicflow/flow@1',
    name: 'benchmark',
    connections: [
      {
        id: 'bench',
        url: options.url,
        protocolVersion: 5,
        clientId: options.clientId,
        clean: !options.persistent,
        ...(options.persistent ? { sessionExpiry: 3600 } : {}),
      },
    ],
    nodes,
    edges,
  };
}
