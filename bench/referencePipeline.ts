/**
 * The reference: the smallest hand-written pipeline on the same libraries as the engine.
 * mqtt.js subscriber → JSON.parse → ajv (compiled once) → the same JSONata expression (compiled
 * once) → better-sqlite3 inserts batched in transactions (WAL), committing when the batch is full
 * or the input goes idle. It acknowledges on receipt (mqtt.js's default).
 */
import Database from 'better-sqlite3';
import jsonata from 'jsonata';
import { Ajv } from 'ajv';
import { connect } from 'mqtt';
import { COLUMNS, EXPRESSION, SCHEMA, TABLE } from './workload.js';

interface Options {
  url: string;
  qos: 0 | 1;
  clientId: string;
  persistent: boolean;
  dbPath: string;
}

const options = JSON.parse(process.argv[2] ?? '{}') as Options;
const say = (event: string, extra: object = {}): void => {
  process.stdout.write(`${JSON.stringify({ event, at: Date.now(), ...extra })}\n`);
};

const db = new Database(options.dbPath);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
const insert = db.prepare(
  `INSERT INTO ${TABLE} (ts, topic, payload, ${COLUMNS.map((c) => c.name).join(', ')}) VALUES (?, ?, ?, ?, ?, ?, ?)`,
);
type Row = [number, string, string, string, number, number, number];
const insertAll = db.transaction((rows: Row[]) => {
  for (const row of rows) insert.run(row);
});
let rows: Row[] = [];
let scheduled = false;
const flush = (): void => {
  scheduled = false;
  if (rows.length === 0) return;
  const batch = rows;
  rows = [];
  insertAll(batch);
};

const validate = new Ajv({ strict: false }).compile(SCHEMA);
const expression = jsonata(EXPRESSION);

const client = connect(options.url, {
  protocolVersion: 5,
  clientId: options.clientId,
  clean: !options.persistent,
  ...(options.persistent ? { properties: { sessionExpiryInterval: 3600 } } : {}),
  reconnectPeriod: 1000,
});
client.on('connect', () => {
  say('connected');
  client.subscribe('fleet/+/telemetry', { qos: options.qos }, () => say('subscribed'));
});
client.on('message', (topic, payload) => {
  const receivedAt = Date.now();
  const value = JSON.parse(payload.toString('utf8')) as unknown;
  if (!validate(value)) return;
  void expression.evaluate(value).then((r: { device: string; ts: number; seq: number; temperature: number }) => {
    rows.push([receivedAt, topic, JSON.stringify(r), r.device, r.ts, r.seq, r.temperature]);
    if (rows.length >= 1000) flush();
    else if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  });
});
process.on('SIGTERM', () => {
  flush();
  client.end(true, {}, () => {
    db.close();
    process.exit(0);
  });
});
