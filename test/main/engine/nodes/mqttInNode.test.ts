import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { DEAD_LETTER_MAX_BYTES } from '../../../../main/engine/store/store.js';
import { brokerFixture } from '../../../helpers/brokerFixture.js';
import { waitFor } from '../../../helpers/waitFor.js';
import { publishAll, settle, startFlow, waitForRows } from '../engineTestKit.js';

const fixture = brokerFixture();

describe('mqtt-in', () => {
  it('captures named wildcards {area}/{device}/# and {rest#} into params', async (t) => {
    const run = await startFlow(
      fixture.broker.url,
      [
        { id: 'in', type: 'mqtt-in', config: { connection: 'broker', topic: '{area}/{device}/{rest#}' } },
        {
          id: 'sink',
          type: 'sqlite-sink',
          config: {
            table: 'readings',
            columns: [
              { name: 'area', path: 'params.area', type: 'text' },
              { name: 'device', path: 'params.device', type: 'text' },
              { name: 'rest', path: 'params.rest', type: 'text' },
            ],
          },
        },
      ],
      [['in', 'out', 'sink']],
    );
    t.after(() => run.stop());

    await fixture.client.publishAsync('plant1/pump-7/temperature', '21.5', { qos: 1 });
    await fixture.client.publishAsync('plant2/fan-1/a/b/c', '{"x":1}', { qos: 1 });
    await fixture.client.publishAsync('plant3/valve-2', 'open', { qos: 1 });
    // One level only: does not match the filter, so it must not arrive.
    await fixture.client.publishAsync('lonely', '1', { qos: 1 });

    const rows = await waitForRows(run, 'SELECT topic, area, device, rest, payload FROM readings ORDER BY id', 3);
    assert.deepEqual(rows, [
      { topic: 'plant1/pump-7/temperature', area: 'plant1', device: 'pump-7', rest: 'temperature', payload: '21.5' },
      { topic: 'plant2/fan-1/a/b/c', area: 'plant2', device: 'fan-1', rest: 'a/b/c', payload: '{"x":1}' },
      { topic: 'plant3/valve-2', area: 'plant3', device: 'valve-2', rest: '', payload: '"open"' },
    ]);
    await settle(100);
    assert.equal(run.rows('SELECT * FROM readings').length, 3);
    assert.deepEqual(run.deadLetters(), []);
    assert.deepEqual(run.node('in').counters, { in: 3, out: 3, errors: 0, dropped: 0 });
  });

  it('captures params through a shared subscription ($share/group/...)', async (t) => {
    const run = await startFlow(
      fixture.broker.url,
      [
        { id: 'in', type: 'mqtt-in', config: { connection: 'broker', topic: '$share/workers/shared/{device}/+' } },
        {
          id: 'sink',
          type: 'sqlite-sink',
          config: { table: 'shared', columns: [{ name: 'device', path: 'params.device', type: 'text' }] },
        },
      ],
      [['in', 'out', 'sink']],
    );
    t.after(() => run.stop());
    await fixture.client.publishAsync('shared/pump-1/temperature', '20', { qos: 1 });
    assert.deepEqual(await waitForRows(run, 'SELECT topic, device, payload FROM shared', 1), [
      { topic: 'shared/pump-1/temperature', device: 'pump-1', payload: '20' },
    ]);
  });

  it('decodes with each decoding: auto, json, text, number, binary', async (t) => {
    const decodings = ['auto', 'json', 'text', 'number', 'binary'] as const;
    const run = await startFlow(
      fixture.broker.url,
      [
        ...decodings.map((decoding) => ({
          id: `in-${decoding}`,
          type: 'mqtt-in',
          config: { connection: 'broker', topic: `decode/${decoding}`, decoding },
        })),
        {
          id: 'sink',
          type: 'sqlite-sink',
          config: { table: 'decoded', includePayload: false, columns: [{ name: 'v', path: 'payload', type: 'any' }] },
        },
      ],
      decodings.map((d) => [`in-${d}`, 'out', 'sink'] as [string, string, string]),
    );
    t.after(() => run.stop());

    const sent: Array<[string, string | Buffer]> = [
      ['decode/auto', '22.4'],
      ['decode/auto', '{"a":1}'],
      ['decode/auto', 'hello'],
      ['decode/json', '22.4'],
      ['decode/json', '"quoted"'],
      ['decode/json', 'hello'], // dead letter: not JSON
      ['decode/text', '22.4'],
      ['decode/text', '{"a":1}'],
      ['decode/text', Buffer.alloc(0)],
      ['decode/number', '22.4'],
      ['decode/number', ' 7 '],
      ['decode/number', 'abc'], // dead letter: not a number
      ['decode/binary', Buffer.from([0xff, 0x00, 0x7f])],
      ['decode/binary', Buffer.from([0xff, 0xfe])],
    ];
    for (const [topic, payload] of sent) await fixture.client.publishAsync(topic, payload, { qos: 1 });

    const rows = await waitForRows(run, 'SELECT topic, v, typeof(v) AS type FROM decoded ORDER BY id', 12);
    assert.deepEqual(rows, [
      { topic: 'decode/auto', v: 22.4, type: 'real' },
      { topic: 'decode/auto', v: '{"a":1}', type: 'text' },
      { topic: 'decode/auto', v: 'hello', type: 'text' },
      { topic: 'decode/json', v: 22.4, type: 'real' },
      { topic: 'decode/json', v: 'quoted', type: 'text' },
      { topic: 'decode/text', v: '22.4', type: 'text' },
      { topic: 'decode/text', v: '{"a":1}', type: 'text' },
      { topic: 'decode/text', v: '', type: 'text' },
      { topic: 'decode/number', v: 22.4, type: 'real' },
      // better-sqlite3 binds every JS number as a double; a column of type any keeps it so.
      { topic: 'decode/number', v: 7, type: 'real' },
      { topic: 'decode/binary', v: Buffer.from([0xff, 0x00, 0x7f]), type: 'blob' },
      { topic: 'decode/binary', v: Buffer.from([0xff, 0xfe]), type: 'blob' },
    ]);
    const dead = await waitFor('2 dead letters', () =>
      run.deadLetters().length === 2 ? run.deadLetters() : undefined,
    );
    assert.deepEqual(
      dead.map((d) => [d.node, d.topic, d.payload?.toString()]),
      [
        ['in-json', 'decode/json', 'hello'],
        ['in-number', 'decode/number', 'abc'],
      ],
    );
    assert.match(dead[0]?.reason ?? '', /^malformed JSON: /);
    assert.equal(dead[1]?.reason, 'payload is not a number: "abc"');
  });

  it('dead-letters every bad input with its reason and original bytes, and keeps running', async (t) => {
    const limit = 30_000;
    const run = await startFlow(
      fixture.broker.url,
      [
        {
          id: 'in',
          type: 'mqtt-in',
          config: { connection: 'broker', topic: 'bad/{device}/raw', decoding: 'json', maxPayloadBytes: limit },
        },
        {
          id: 'sink',
          type: 'sqlite-sink',
          config: {
            table: 'good',
            includePayload: false,
            columns: [
              { name: 'device', path: 'params.device', type: 'text' },
              { name: 'temperature', path: 'payload.temperature', type: 'real' },
            ],
          },
        },
      ],
      [['in', 'out', 'sink']],
    );
    t.after(() => run.stop());

    const padTo = (size: number): Buffer => {
      const shell = '{"temperature":1,"pad":""}';
      const text = `{"temperature":1,"pad":"${'x'.repeat(size - shell.length)}"}`;
      assert.equal(Buffer.byteLength(text), size);
      return Buffer.from(text);
    };
    const corpus: Array<{ payload: Buffer; reason: RegExp }> = [
      { payload: Buffer.from('{"temperature":'), reason: /^malformed JSON: / },
      { payload: Buffer.from([0xff, 0xfe]), reason: /^payload is not valid UTF-8$/ },
      { payload: Buffer.alloc(0), reason: /^empty payload$/ },
      {
        payload: padTo(limit + 1),
        reason: new RegExp(`^payload of ${limit + 1} bytes is over maxPayloadBytes \\(${limit}\\)$`),
      },
      { payload: Buffer.from('['.repeat(10_000) + ']'.repeat(10_000)), reason: /^JSON nested deeper than 64 levels$/ },
      { payload: Buffer.from('{"__proto__":{"polluted":1}}'), reason: /^refused JSON: .*prototype/ },
      { payload: Buffer.from('{"constructor":{"prototype":{"x":1}}}'), reason: /^refused JSON: .*prototype/ },
    ];
    for (const bad of corpus) await fixture.client.publishAsync('bad/s1/raw', bad.payload, { qos: 1 });
    // After all of them: a good message, and one exactly at the size limit.
    await fixture.client.publishAsync('bad/s1/raw', '{"temperature":21.5}', { qos: 1 });
    await fixture.client.publishAsync('bad/s2/raw', padTo(limit), { qos: 1 });

    const rows = await waitForRows(run, 'SELECT device, temperature FROM good ORDER BY id', 2);
    assert.deepEqual(rows, [
      { device: 's1', temperature: 21.5 },
      { device: 's2', temperature: 1 },
    ]);
    const dead = await waitFor('7 dead letters', () => {
      const found = run.deadLetters();
      return found.length === corpus.length ? found : undefined;
    });
    dead.forEach((d, i) => {
      const expected = corpus[i] as (typeof corpus)[number];
      assert.match(d.reason, expected.reason, `dead letter ${i}`);
      assert.deepEqual(d.payload, expected.payload, `dead letter ${i} keeps the original bytes`);
      assert.equal(d.payload_size, expected.payload.length);
      assert.equal(d.node, 'in');
      assert.equal(d.topic, 'bad/s1/raw');
      assert.equal(d.qos, 1);
      assert.equal(d.seq, null, 'a message that never decoded has no sequence number');
      assert.equal(d.flow, 'test flow');
      assert.equal(d.revision, run.result.revision);
      assert.ok(Math.abs(d.at - Date.now()) < 60_000);
    });
    assert.deepEqual(run.node('in').counters, { in: 9, out: 2, errors: 7, dropped: 0 });
    assert.equal(run.node('in').state, 'running');
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
    assert.equal(({} as Record<string, unknown>)['x'], undefined);
  });

  it('keeps at most 1 MiB of an oversized payload in its dead letter, with the full size', async (t) => {
    const run = await startFlow(
      fixture.broker.url,
      [
        { id: 'in', type: 'mqtt-in', config: { connection: 'broker', topic: 'big/+' } },
        { id: 'sink', type: 'sqlite-sink', config: { table: 'big' } },
      ],
      [['in', 'out', 'sink']],
    );
    t.after(() => run.stop());

    const huge = Buffer.alloc(2 * 1024 * 1024 + 3, 0x61);
    huge[0] = 0x62;
    await fixture.client.publishAsync('big/one', huge, { qos: 1 });
    await fixture.client.publishAsync('big/one', '1', { qos: 1 });
    await waitForRows(run, 'SELECT payload FROM big', 1);
    const [dead] = await waitFor('the dead letter', () =>
      run.deadLetters().length === 1 ? run.deadLetters() : undefined,
    );
    assert.equal(dead?.reason, `payload of ${huge.length} bytes is over maxPayloadBytes (1048576)`);
    assert.equal(dead?.payload_size, huge.length);
    assert.equal(dead?.payload?.length, DEAD_LETTER_MAX_BYTES);
    assert.deepEqual(dead?.payload, huge.subarray(0, DEAD_LETTER_MAX_BYTES));
  });

  it('passes qos and retain through, downgraded to the subscription QoS', async (t) => {
    // Retained before the engine starts: delivered on subscribe, flagged as retained.
    await fixture.client.publishAsync('state/r1', '{"on":true}', { qos: 1, retain: true });
    t.after(() => fixture.client.publishAsync('state/r1', '', { qos: 1, retain: true }));
    const run = await startFlow(
      fixture.broker.url,
      [
        { id: 'state', type: 'mqtt-in', config: { connection: 'broker', topic: 'state/+', qos: 1 } },
        { id: 'live', type: 'mqtt-in', config: { connection: 'broker', topic: 'live/+', qos: 0 } },
        {
          id: 'sink',
          type: 'sqlite-sink',
          config: {
            table: 'flags',
            columns: [
              { name: 'qos', path: 'qos', type: 'integer' },
              { name: 'retain', path: 'retain', type: 'integer' },
            ],
          },
        },
      ],
      [
        ['state', 'out', 'sink'],
        ['live', 'out', 'sink'],
      ],
    );
    t.after(() => run.stop());
    const retained = await waitForRows(run, 'SELECT topic, payload, qos, retain FROM flags', 1);
    assert.deepEqual(retained, [{ topic: 'state/r1', payload: '{"on":true}', qos: 1, retain: 1 }]);

    await fixture.client.publishAsync('live/x', '5', { qos: 2 });
    await fixture.client.publishAsync('state/r2', '6', { qos: 1 });
    const rows = await waitForRows(run, 'SELECT topic, payload, qos, retain FROM flags ORDER BY id', 3);
    assert.deepEqual(rows.slice(1), [
      { topic: 'live/x', payload: '5', qos: 0, retain: 0 },
      { topic: 'state/r2', payload: '6', qos: 1, retain: 0 },
    ]);
  });

  /** Two mqtt-in nodes whose filters overlap, on one connection: each must see a message once. */
  async function overlapCase(t: TestContext, protocolVersion: 4 | 5, prefix: string): Promise<void> {
    const run = await startFlow(
      fixture.broker.url,
      [
        { id: 'all', type: 'mqtt-in', config: { connection: 'broker', topic: `${prefix}/#` } },
        { id: 'one', type: 'mqtt-in', config: { connection: 'broker', topic: `${prefix}/{device}/telemetry` } },
        { id: 'sink-all', type: 'sqlite-sink', config: { table: 'all_rows' } },
        {
          id: 'sink-one',
          type: 'sqlite-sink',
          config: { table: 'one_rows', columns: [{ name: 'device', path: 'params.device', type: 'text' }] },
        },
      ],
      [
        ['all', 'out', 'sink-all'],
        ['one', 'out', 'sink-one'],
      ],
      { extra: { connections: [{ id: 'broker', url: fixture.broker.url, protocolVersion }] } },
    );
    t.after(() => run.stop());

    await fixture.client.publishAsync(`${prefix}/d1/telemetry`, '1', { qos: 1 });
    await fixture.client.publishAsync(`${prefix}/d1/status`, '2', { qos: 1 });
    await waitFor('the status message', () => run.rows("SELECT * FROM all_rows WHERE payload = '2'").length > 0);
    await settle(200);
    assert.deepEqual(run.rows('SELECT topic, payload FROM all_rows ORDER BY id'), [
      { topic: `${prefix}/d1/telemetry`, payload: '1' },
      { topic: `${prefix}/d1/status`, payload: '2' },
    ]);
    assert.deepEqual(run.rows('SELECT topic, device FROM one_rows'), [
      { topic: `${prefix}/d1/telemetry`, device: 'd1' },
    ]);
  }

  it('delivers a message once to each node when two filters on one MQTT 5 connection overlap', (t) =>
    overlapCase(t, 5, 'overlap5'));

  // Mosquitto sends a 3.1.1 fixture.client one copy for overlapping subscriptions (an MQTT 5 fixture.client one per
  // subscription), so this guards the routing for connections without subscription identifiers.
  it('delivers a message once to each node when two filters on one MQTT 3.1.1 connection overlap', (t) =>
    overlapCase(t, 4, 'overlap4'));

  it('stores the good messages, in order, from a stream where every other one is malformed', async (t) => {
    const run = await startFlow(
      fixture.broker.url,
      [
        { id: 'in', type: 'mqtt-in', config: { connection: 'broker', topic: 'mixed/+', decoding: 'json' } },
        {
          id: 'sink',
          type: 'sqlite-sink',
          config: {
            table: 'mixed',
            includePayload: false,
            columns: [{ name: 'n', path: 'payload.n', type: 'integer' }],
          },
        },
      ],
      [['in', 'out', 'sink']],
    );
    t.after(() => run.stop());
    const payloads: string[] = [];
    for (let i = 0; i < 200; i++) payloads.push(i % 2 === 0 ? `{"n":${i}}` : `{"n":${i}`);
    await publishAll(fixture.client, 'mixed/a', payloads);
    const rows = await waitForRows<{ n: number }>(run, 'SELECT n FROM mixed ORDER BY id', 100);
    assert.deepEqual(
      rows.map((r) => r.n),
      Array.from({ length: 100 }, (_, i) => i * 2),
    );
    await waitFor('100 dead letters', () => run.deadLetters().length === 100);
    assert.ok(run.deadLetters().every((d) => /^malformed JSON/.test(d.reason)));
  });
});
