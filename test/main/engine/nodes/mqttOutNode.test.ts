import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { encodePayload } from '../../../../main/engine/nodes/mqttOutNode.js';
import { testClient } from '../../../helpers/engineHarness.js';
import { brokerFixture } from '../../../helpers/brokerFixture.js';
import { waitFor } from '../../../helpers/waitFor.js';
import { collect, settle, startFlow, type Received } from '../engineTestKit.js';

const fixture = brokerFixture();

/** A subscriber of its own for one test, ended when the test ends. */
async function subscriber(t: TestContext, filter: string): Promise<Received[]> {
  const sub = await testClient(fixture.broker.url);
  t.after(() => sub.endAsync());
  return collect(sub, filter);
}

const received = (messages: Received[], count: number) =>
  waitFor(`${count} messages`, () => (messages.length >= count ? messages : undefined));

describe('mqtt-out', () => {
  it('publishes to the templated topic with the exact payload, qos and retain', async (t) => {
    const alerts = await subscriber(t, 'alerts/#');
    const run = await startFlow(
      fixture.broker.url,
      [
        {
          id: 'in',
          type: 'mqtt-in',
          config: { connection: 'broker', topic: 'o1/{device}/telemetry', decoding: 'json' },
        },
        { id: 'out', type: 'mqtt-out', config: { connection: 'broker', topic: 'alerts/{params.device}', qos: 1 } },
      ],
      [['in', 'out', 'out']],
    );
    t.after(() => run.stop());

    await fixture.client.publishAsync('o1/pump-7/telemetry', '{"temperature":81.5,"unit":"C"}', { qos: 1 });
    await fixture.client.publishAsync('o1/fan-2/telemetry', '"overheat"', { qos: 1 });
    await fixture.client.publishAsync('o1/fan-2/telemetry', '22.4', { qos: 1 });
    const got = await received(alerts, 3);
    assert.deepEqual(
      got.map((m) => ({ ...m, payload: m.payload.toString() })),
      [
        { topic: 'alerts/pump-7', payload: '{"temperature":81.5,"unit":"C"}', qos: 1, retain: false },
        // Encoding auto: a string goes out as its text, a number as JSON.
        { topic: 'alerts/fan-2', payload: 'overheat', qos: 1, retain: false },
        { topic: 'alerts/fan-2', payload: '22.4', qos: 1, retain: false },
      ],
    );
    await waitFor('out counted', () => run.node('out').counters.out === 3);
    assert.deepEqual(run.deadLetters(), []);
  });

  it('publishes retained at QoS 2, and a late subscriber gets the retained message', async (t) => {
    const live = await subscriber(t, 'o2-state/#');
    const run = await startFlow(
      fixture.broker.url,
      [
        { id: 'in', type: 'mqtt-in', config: { connection: 'broker', topic: 'o2/{device}', decoding: 'text' } },
        {
          id: 'out',
          type: 'mqtt-out',
          config: { connection: 'broker', topic: 'o2-state/{params.device}', qos: 2, retain: true },
        },
      ],
      [['in', 'out', 'out']],
    );
    t.after(() => run.stop());
    t.after(() => fixture.client.publishAsync('o2-state/valve-1', '', { qos: 1, retain: true }));

    await fixture.client.publishAsync('o2/valve-1', 'open', { qos: 2 });
    assert.deepEqual(
      (await received(live, 1)).map((m) => ({ ...m, payload: m.payload.toString() })),
      [{ topic: 'o2-state/valve-1', payload: 'open', qos: 2, retain: true }],
    );
    const late = await subscriber(t, 'o2-state/#');
    assert.deepEqual(
      (await received(late, 1)).map((m) => ({ ...m, payload: m.payload.toString() })),
      [{ topic: 'o2-state/valve-1', payload: 'open', qos: 2, retain: true }],
    );
  });

  it('encodes as json, text or auto; binary payloads keep their bytes', async (t) => {
    const got = await subscriber(t, 'o3-out/#');
    const run = await startFlow(
      fixture.broker.url,
      [
        { id: 'in-json', type: 'mqtt-in', config: { connection: 'broker', topic: 'o3/json', decoding: 'json' } },
        { id: 'in-bin', type: 'mqtt-in', config: { connection: 'broker', topic: 'o3/bin', decoding: 'binary' } },
        ...(['auto', 'json', 'text'] as const).map((encoding) => ({
          id: `out-${encoding}`,
          type: 'mqtt-out',
          config: { connection: 'broker', topic: `o3-out/${encoding}`, qos: 1, encoding },
        })),
      ],
      [
        ['in-json', 'out', 'out-auto'],
        ['in-json', 'out', 'out-json'],
        ['in-json', 'out', 'out-text'],
        ['in-bin', 'out', 'out-auto'],
      ],
    );
    t.after(() => run.stop());

    await fixture.client.publishAsync('o3/json', '"hello"', { qos: 1 });
    await fixture.client.publishAsync('o3/json', '22.4', { qos: 1 });
    await fixture.client.publishAsync('o3/json', '{"a":[1,2]}', { qos: 1 });
    const bytes = Buffer.from([0x00, 0xff, 0x10, 0x80]);
    await fixture.client.publishAsync('o3/bin', bytes, { qos: 1 });
    await received(got, 10);
    await settle(100);
    const by = (topic: string) => got.filter((m) => m.topic === topic).map((m) => m.payload);
    assert.deepEqual(by('o3-out/auto').map(String).slice(0, 3), ['hello', '22.4', '{"a":[1,2]}']);
    assert.deepEqual(by('o3-out/auto')[3], bytes);
    assert.deepEqual(by('o3-out/json').map(String), ['"hello"', '22.4', '{"a":[1,2]}']);
    assert.deepEqual(by('o3-out/text').map(String), ['hello', '22.4', '{"a":[1,2]}']);
    assert.equal(got.length, 10);
  });

  it('dead-letters a message whose template value is missing or would add topic levels', async (t) => {
    const got = await subscriber(t, 'o4-out/#');
    const run = await startFlow(
      fixture.broker.url,
      [
        { id: 'in', type: 'mqtt-in', config: { connection: 'broker', topic: 'o4/+', decoding: 'json' } },
        { id: 'out', type: 'mqtt-out', config: { connection: 'broker', topic: 'o4-out/{payload.id}/x' } },
      ],
      [['in', 'out', 'out']],
    );
    t.after(() => run.stop());
    await fixture.client.publishAsync('o4/a', '{"value":1}', { qos: 1 });
    await fixture.client.publishAsync('o4/a', '{"id":"a/b"}', { qos: 1 });
    await fixture.client.publishAsync('o4/a', '{"id":{"nested":1}}', { qos: 1 });
    await fixture.client.publishAsync('o4/a', '{"id":17}', { qos: 1 });

    assert.deepEqual(
      (await received(got, 1)).map((m) => [m.topic, m.payload.toString()]),
      [['o4-out/17/x', '{"id":17}']],
    );
    const dead = await waitFor('3 dead letters', () => (run.deadLetters().length >= 3 ? run.deadLetters() : undefined));
    assert.deepEqual(
      dead.map((d) => [d.node, d.reason, d.payload?.toString()]),
      [
        ['out', 'topic template: {payload.id} has no text value in this message', '{"value":1}'],
        ['out', 'topic template: {payload.id} = "a/b" contains "/"', '{"id":"a/b"}'],
        ['out', 'topic template: {payload.id} has no text value in this message', '{"id":{"nested":1}}'],
      ],
    );
    await settle(50);
    assert.equal(got.length, 1);
  });
});

describe('encodePayload', () => {
  it('auto: strings and bytes as they are, the rest as JSON', () => {
    assert.equal(encodePayload('x', 'auto'), 'x');
    assert.equal(encodePayload({ a: 1 }, 'auto'), '{"a":1}');
    assert.equal(encodePayload(null, 'auto'), 'null');
    assert.equal(encodePayload(false, 'auto'), 'false');
    const view = new Uint8Array([9, 1, 2, 3, 9]).subarray(1, 4);
    assert.deepEqual(encodePayload(view, 'auto'), Buffer.from([1, 2, 3]));
  });

  it('json: everything as JSON', () => {
    assert.equal(encodePayload('x', 'json'), '"x"');
    assert.equal(encodePayload([1, 'a'], 'json'), '[1,"a"]');
    assert.equal(encodePayload(undefined, 'json'), 'null');
  });

  it('text: strings and numbers as text, objects and arrays as JSON rather than "[object Object]"', () => {
    assert.equal(encodePayload('x', 'text'), 'x');
    assert.equal(encodePayload(22.4, 'text'), '22.4');
    assert.equal(encodePayload(true, 'text'), 'true');
    assert.equal(encodePayload({ a: 1 }, 'text'), '{"a":1}');
    assert.equal(encodePayload([1, 2], 'text'), '[1,2]');
  });
});
