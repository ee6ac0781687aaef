import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { FlowDocument } from '../../../../shared/flow/flowDocument.js';
import { checkFlow } from '../../../../main/engine/flowLoader.js';
import { toSql } from '../../../../main/engine/nodes/sqliteSinkNode.js';
import { STORE_FILE } from '../../../../main/engine/store/store.js';
import { flowOf, testClient } from '../../../helpers/engineHarness.js';
import { brokerFixture } from '../../../helpers/brokerFixture.js';
import { startMosquitto } from '../../../helpers/mosquitto.js';
import { waitFor } from '../../../helpers/waitFor.js';
import { publishAll, settle, startFlow, waitForRows, type RunningFlow } from '../engineTestKit.js';

const fixture = brokerFixture();

const input = (topic: string, decoding = 'json') => ({
  id: 'in',
  type: 'mqtt-in',
  config: { connection: 'broker', topic, decoding },
});

/** mqtt-in → sqlite-sink with the given sink config. */
function sinkFlow(topic: string, config: Record<string, unknown>): Promise<RunningFlow> {
  return startFlow(
    fixture.broker.url,
    [input(topic), { id: 'sink', type: 'sqlite-sink', config }],
    [['in', 'out', 'sink']],
  );
}

/** Runs SQL against the engine's store file through a writable connection of its own. */
function execOnStore(run: RunningFlow, sql: string): void {
  const db = new Database(join(run.dataDir, STORE_FILE));
  try {
    db.exec(sql);
  } finally {
    db.close();
  }
}

/** Deploys a new version of the flow and waits for the subscription of `filter`. */
async function redeploy(run: RunningFlow, nodes: FlowDocument['nodes'], filter: string) {
  const before = run.logs.filter((r) => r.msg === 'subscribed' && r['filter'] === filter).length;
  const result = await run.deploy(flowOf(fixture.broker.url, nodes, [['in', 'out', 'sink']]));
  await waitFor(
    `subscription ${filter}`,
    () => run.logs.filter((r) => r.msg === 'subscribed' && r['filter'] === filter).length > before,
  );
  return result;
}

const deadLetters = (run: RunningFlow, count: number) =>
  waitFor(`${count} dead letters`, () => {
    const found = run.deadLetters();
    return found.length >= count ? found : undefined;
  });

describe('sqlite-sink: row mode', () => {
  it('stores ts, topic, payload and mapped columns converted to their types', async (t) => {
    const run = await sinkFlow('s1/{device}', {
      table: 'typed',
      columns: [
        { name: 'n', path: 'payload.n', type: 'integer' },
        { name: 'r', path: 'payload.r', type: 'real' },
        { name: 't', path: 'payload.t', type: 'text' },
        { name: 'j', path: 'payload.j', type: 'json' },
        { name: 'b', path: 'payload.b', type: 'blob' },
        { name: 'o', path: 'payload.o', type: 'any' },
        { name: 'f', path: 'payload.flag', type: 'integer' },
        { name: 'missing', path: 'payload.nope', type: 'any' },
        { name: 'missing_json', path: 'payload.nope', type: 'json' },
        { name: 'device', path: 'params.device', type: 'text' },
        { name: 'q', path: 'qos', type: 'integer' },
        { name: 'msg_seq', path: 'seq', type: 'integer' },
      ],
    });
    t.after(() => run.stop());
    const payload = '{"n":"42","r":"2.5","t":21.5,"j":{"a":[1,2]},"b":"hi","o":{"x":1},"flag":true}';
    const before = Date.now();
    await fixture.client.publishAsync('s1/pump-1', payload, { qos: 1 });

    const [row] = await waitForRows(
      run,
      `SELECT ts, topic, payload, n, typeof(n) AS tn, r, typeof(r) AS tr, t, typeof(t) AS tt, j, b, typeof(b) AS tb,
              o, f, missing, missing_json, device, q, msg_seq FROM typed`,
      1,
    );
    const { ts, msg_seq, ...rest } = row as { ts: number; msg_seq: number };
    assert.ok(ts >= before - 1000 && ts <= Date.now(), `ts ${ts} is the receive time`);
    assert.ok(Number.isInteger(msg_seq) && msg_seq > 0);
    assert.deepEqual(rest, {
      topic: 's1/pump-1',
      payload,
      n: 42,
      tn: 'integer',
      r: 2.5,
      tr: 'real',
      t: '21.5',
      tt: 'text',
      j: '{"a":[1,2]}',
      b: Buffer.from('hi'),
      tb: 'blob',
      o: '{"x":1}',
      f: 1,
      missing: null,
      missing_json: 'null',
      device: 'pump-1',
      q: 1,
    });
    const declared = run.rows<{ name: string; type: string }>('SELECT name, type FROM pragma_table_info(?)', 'typed');
    assert.deepEqual(
      declared.map((c) => `${c.name} ${c.type}`),
      [
        'id INTEGER',
        'ts INTEGER',
        'topic TEXT',
        'payload TEXT',
        'n INTEGER',
        'r REAL',
        't TEXT',
        'j TEXT',
        'b BLOB',
        'o ',
        'f INTEGER',
        'missing ',
        'missing_json TEXT',
        'device TEXT',
        'q INTEGER',
        'msg_seq INTEGER',
      ],
    );
  });

  it('dead-letters a message whose value does not convert, and stores the others of its batch', async (t) => {
    const run = await sinkFlow('s2/+', {
      table: 'nums',
      includePayload: false,
      columns: [{ name: 'n', path: 'payload.n', type: 'integer' }],
    });
    t.after(() => run.stop());
    await publishAll(fixture.client, 's2/x', ['{"n":1}', '{"n":"abc"}', '{"n":3.9}', '{"n":""}', '{"n":"7"}']);
    assert.deepEqual(await waitForRows(run, 'SELECT n FROM nums ORDER BY id', 3), [{ n: 1 }, { n: 3 }, { n: 7 }]);
    const dead = await deadLetters(run, 2);
    assert.deepEqual(
      dead.map((d) => [d.node, d.reason, d.payload?.toString()]),
      [
        ['sink', 'column "n": "abc" is not a number', '{"n":"abc"}'],
        ['sink', 'column "n": "" is not a number', '{"n":""}'],
      ],
    );
  });

  it('writes a batch that fails in SQLite message by message, dead-lettering only the failing one', async (t) => {
    const run = await startFlow(fixture.broker.url, [], []);
    t.after(() => run.stop());
    execOnStore(
      run,
      'CREATE TABLE checked (id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, topic TEXT NOT NULL, payload TEXT, v REAL CHECK (v < 100))',
    );
    const result = await redeploy(
      run,
      [
        input('s3/+'),
        {
          id: 'sink',
          type: 'sqlite-sink',
          config: { table: 'checked', columns: [{ name: 'v', path: 'payload.v', type: 'real' }] },
        },
      ],
      's3/+',
    );
    assert.deepEqual(result.failed, []);
    await publishAll(fixture.client, 's3/x', ['{"v":1}', '{"v":500}', '{"v":2}']);
    assert.deepEqual(await waitForRows(run, 'SELECT v FROM checked ORDER BY id', 2), [{ v: 1 }, { v: 2 }]);
    const [dead] = await deadLetters(run, 1);
    assert.equal(dead?.reason, 'sqlite-sink "checked": CHECK constraint failed: v < 100');
    assert.equal(dead?.payload?.toString(), '{"v":500}');
  });

  it('fails to deploy onto an existing table missing a required column, naming table and column', async (t) => {
    const run = await startFlow(fixture.broker.url, [], []);
    t.after(() => run.stop());
    execOnStore(run, 'CREATE TABLE legacy (id INTEGER PRIMARY KEY, ts INTEGER, topic TEXT)');
    const result = await redeploy(
      run,
      [
        input('s4/+'),
        { id: 'sink', type: 'sqlite-sink', config: { table: 'legacy', columns: [{ name: 'value', path: 'payload' }] } },
      ],
      's4/+',
    );
    const error =
      'table "legacy" already exists without column(s) payload, value; use another table name or migrate it';
    assert.deepEqual(result.failed, [{ node: 'sink', error }]);
    assert.equal(run.node('sink').state, 'failed');
    assert.equal(run.node('sink').error, error);

    // What reaches the failed sink is a dead letter that says why, not a silent loss.
    await fixture.client.publishAsync('s4/x', '{"a":1}', { qos: 1 });
    const [dead] = await deadLetters(run, 1);
    assert.equal(dead?.reason, `node "sink" is not running: ${error}`);
    assert.equal(dead?.payload?.toString(), '{"a":1}');
    assert.deepEqual(run.rows('SELECT * FROM legacy'), []);
  });

  it('stores 5,000 QoS 1 messages exactly once, in order', async (t) => {
    // A broker of its own that never drops QoS 1 messages it queues for a slow subscriber (by
    // default Mosquitto drops beyond 1000, which a busy test machine can reach): any loss or
    // duplicate seen here is the engine's.
    const unbounded = await startMosquitto({ extraConfig: 'max_queued_messages 0' });
    t.after(() => unbounded.stop());
    const publisher = await testClient(unbounded.url);
    t.after(() => publisher.endAsync());
    const run = await startFlow(
      unbounded.url,
      [
        input('s5/+'),
        {
          id: 'sink',
          type: 'sqlite-sink',
          config: {
            table: 'many',
            includePayload: false,
            batchSize: 500,
            columns: [{ name: 'n', path: 'payload.n', type: 'integer' }],
          },
        },
      ],
      [['in', 'out', 'sink']],
    );
    t.after(() => run.stop());
    const count = 5000;
    await publishAll(
      publisher,
      's5/x',
      Array.from({ length: count }, (_, n) => `{"n":${n}}`),
    );
    await waitFor(
      '5000 rows',
      () => {
        const stored = run.rows<{ c: number }>('SELECT count(*) AS c FROM many')[0]?.c ?? 0;
        if (stored < count) throw new Error(`${stored} rows so far, sink counted ${run.node('sink').counters.in} in`);
        return true;
      },
      15_000,
    );
    await settle(100);
    const rows = run.rows<{ n: number }>('SELECT n FROM many ORDER BY id');
    assert.equal(rows.length, count);
    assert.ok(
      rows.every((r, i) => r.n === i),
      'every message once, in the order it was published',
    );
    assert.equal(run.node('sink').counters.in, count);
    assert.equal(run.node('sink').counters.out, count, 'out counts the messages committed');
    assert.deepEqual(run.deadLetters(), []);
  });

  it('stores a binary payload as a blob, byte for byte', async (t) => {
    const run = await startFlow(
      fixture.broker.url,
      [
        { id: 'in', type: 'mqtt-in', config: { connection: 'broker', topic: 'bin/+', decoding: 'binary' } },
        { id: 'sink', type: 'sqlite-sink', config: { table: 'blobs' } },
      ],
      [['in', 'out', 'sink']],
    );
    t.after(() => run.stop());
    const bytes = Buffer.from([0, 255, 1, 254, 0x80]);
    await fixture.client.publishAsync('bin/a', bytes, { qos: 1 });
    const rows = await waitForRows(run, 'SELECT payload FROM blobs', 1);
    assert.deepEqual(rows[0]?.['payload'], bytes);
  });
});

describe('sqlite-sink: attributes mode', () => {
  it('stores one row per top-level attribute, with the message id', async (t) => {
    const run = await sinkFlow('s6/+', { table: 'attrs', mode: 'attributes' });
    t.after(() => run.stop());
    await fixture.client.publishAsync(
      's6/a',
      '{"temperature":21.5,"status":"ok","nested":{"a":1},"flag":true,"none":null}',
      {
        qos: 1,
      },
    );
    await fixture.client.publishAsync('s6/b', '{"temperature":22}', { qos: 1 });
    await fixture.client.publishAsync('s6/c', '[1,2,3]', { qos: 1 });
    await fixture.client.publishAsync('s6/d', '42', { qos: 1 });

    const rows = await waitForRows<{ msg_id: string; topic: string; attribute: string; value: unknown; type: string }>(
      run,
      'SELECT msg_id, topic, attribute, value, typeof(value) AS type FROM attrs ORDER BY id',
      6,
    );
    const ids = [...new Set(rows.map((r) => r.msg_id))];
    assert.equal(ids.length, 2, 'one message id per message');
    assert.ok(ids.every((id) => /^[0-9a-f]{8}-\d+$/.test(id)));
    assert.deepEqual(
      rows.map(({ msg_id, ...r }) => ({ ...r, message: ids.indexOf(msg_id) })),
      [
        { topic: 's6/a', attribute: 'temperature', value: 21.5, type: 'real', message: 0 },
        { topic: 's6/a', attribute: 'status', value: 'ok', type: 'text', message: 0 },
        { topic: 's6/a', attribute: 'nested', value: '{"a":1}', type: 'text', message: 0 },
        { topic: 's6/a', attribute: 'flag', value: 1, type: 'real', message: 0 },
        { topic: 's6/a', attribute: 'none', value: null, type: 'null', message: 0 },
        { topic: 's6/b', attribute: 'temperature', value: 22, type: 'real', message: 1 },
      ],
    );
    const dead = await deadLetters(run, 2);
    assert.deepEqual(
      dead.map((d) => [d.reason, d.payload?.toString()]),
      [
        ['attributes mode needs a JSON object payload', '[1,2,3]'],
        ['attributes mode needs a JSON object payload', '42'],
      ],
    );
  });
});

describe('sqlite-sink: upsert mode', () => {
  it('keeps one row per key: last value wins, merge: true merges JSON objects', async (t) => {
    const run = await sinkFlow('s7/{device}', {
      table: 'state',
      mode: 'upsert',
      keys: ['device'],
      columns: [
        { name: 'device', path: 'params.device', type: 'text' },
        { name: 'temperature', path: 'payload.temperature', type: 'real' },
        { name: 'state', path: 'payload.state', type: 'json', merge: true },
        { name: 'last', path: 'payload.state', type: 'json' },
      ],
    });
    t.after(() => run.stop());
    const messages: Array<[string, string]> = [
      ['dev-1', '{"temperature":1,"state":{"a":1,"b":1}}'],
      ['dev-2', '{"temperature":2,"state":{"z":0}}'],
      ['dev-1', '{"temperature":3,"state":{"b":2,"c":3}}'],
    ];
    for (const [device, payload] of messages) await fixture.client.publishAsync(`s7/${device}`, payload, { qos: 1 });
    await waitFor(
      'dev-1 at temperature 3',
      () => run.rows("SELECT 1 FROM state WHERE device = 'dev-1' AND temperature = 3").length === 1,
    );
    // A null in a merge patch removes that key (RFC 7396), in a later batch of its own.
    await fixture.client.publishAsync('s7/dev-1', '{"temperature":4,"state":{"a":null,"d":{"e":5}}}', { qos: 1 });
    await waitFor(
      'dev-1 at temperature 4',
      () => run.rows("SELECT 1 FROM state WHERE device = 'dev-1' AND temperature = 4").length === 1,
    );

    const rows = run.rows<{ device: string; temperature: number; state: string; last: string }>(
      'SELECT device, temperature, state, last FROM state ORDER BY device',
    );
    assert.deepEqual(
      rows.map((r) => ({ ...r, state: JSON.parse(r.state) as unknown, last: JSON.parse(r.last) as unknown })),
      [
        { device: 'dev-1', temperature: 4, state: { b: 2, c: 3, d: { e: 5 } }, last: { a: null, d: { e: 5 } } },
        { device: 'dev-2', temperature: 2, state: { z: 0 }, last: { z: 0 } },
      ],
    );
  });

  it('applies a burst of updates to one key in arrival order', async (t) => {
    const run = await sinkFlow('s8/{device}', {
      table: 'latest',
      mode: 'upsert',
      keys: ['device'],
      columns: [
        { name: 'device', path: 'params.device', type: 'text' },
        { name: 'n', path: 'payload.n', type: 'integer' },
        { name: 'seen', path: 'payload.seen', type: 'json', merge: true },
      ],
    });
    t.after(() => run.stop());
    await publishAll(
      fixture.client,
      's8/d',
      Array.from({ length: 100 }, (_, n) => JSON.stringify({ n, seen: { [`k${n % 5}`]: n } })),
    );
    await waitFor('n = 99', () => run.rows('SELECT 1 FROM latest WHERE n = 99').length === 1);
    const rows = run.rows<{ device: string; n: number; seen: string }>('SELECT device, n, seen FROM latest');
    assert.deepEqual(
      rows.map((r) => ({ ...r, seen: JSON.parse(r.seen) as unknown })),
      [{ device: 'd', n: 99, seen: { k0: 95, k1: 96, k2: 97, k3: 98, k4: 99 } }],
    );
  });
});

describe('sqlite-sink: config and conversions', () => {
  it('refuses configs the table layout cannot honour', () => {
    const problems = (config: Record<string, unknown>) => {
      const result = checkFlow(flowOf('mqtt://127.0.0.1:1', [{ id: 's', type: 'sqlite-sink', config }], []));
      return result.ok ? [] : result.problems.map((p) => `${p.pointer}: ${p.message}`);
    };
    assert.deepEqual(problems({ table: 't', mode: 'upsert', columns: [{ name: 'a', path: 'payload' }] }), [
      '/nodes/0/config/keys: upsert mode needs at least one key column',
    ]);
    assert.deepEqual(problems({ table: 't', columns: [{ name: 'ts', path: 'payload' }] }), [
      '/nodes/0/config/columns/0/name: "ts" is a built-in column of row mode',
    ]);
    assert.deepEqual(problems({ table: 't', mode: 'attributes', columns: [{ name: 'a', path: 'payload' }] }), [
      '/nodes/0/config/columns: attributes mode has a fixed layout; remove the mapped columns',
    ]);
    assert.deepEqual(problems({ table: 'ok', columns: [{ name: 'a', path: 'payload.a' }] }), []);
  });

  it('converts values for each column type, refusing what does not fit', () => {
    assert.equal(toSql('42', 'integer', 'c'), 42);
    assert.equal(toSql(42.9, 'integer', 'c'), 42);
    assert.equal(toSql(-42.9, 'integer', 'c'), -42);
    assert.equal(toSql(true, 'integer', 'c'), 1);
    assert.equal(toSql(false, 'real', 'c'), 0);
    assert.equal(toSql(' 2.5 ', 'real', 'c'), 2.5);
    assert.throws(() => toSql('abc', 'real', 'c'), /^Error: column "c": "abc" is not a number$/);
    assert.throws(() => toSql('  ', 'integer', 'c'), /is not a number/);
    assert.throws(() => toSql({ a: 1 }, 'integer', 'c'), /is not a number/);
    assert.equal(toSql(null, 'integer', 'c'), null);
    assert.equal(toSql(undefined, 'text', 'c'), null);
    assert.equal(toSql(undefined, 'json', 'c'), 'null');
    assert.equal(toSql('s', 'json', 'c'), '"s"');
    assert.equal(toSql({ a: [1] }, 'text', 'c'), '{"a":[1]}');
    assert.equal(toSql(12, 'text', 'c'), '12');
    assert.deepEqual(toSql('hi', 'blob', 'c'), Buffer.from('hi'));
    assert.deepEqual(toSql(new Uint8Array([1, 2]), 'blob', 'c'), Buffer.from([1, 2]));
    assert.throws(() => toSql(5, 'blob', 'c'), /a number cannot be stored as a blob/);
    assert.equal(toSql(true, 'any', 'c'), 1);
    assert.equal(toSql('x', 'any', 'c'), 'x');
    assert.equal(toSql([1, 2], 'any', 'c'), '[1,2]');
  });
});
