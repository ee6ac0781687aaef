import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { Delivery } from '../../../../main/engine/runtime/delivery.js';
import { brokerFixture } from '../../../helpers/brokerFixture.js';
import { flowOf, startEngine } from '../../../helpers/engineHarness.js';
import { waitFor } from '../../../helpers/waitFor.js';

describe('Delivery', () => {
  it('is done once every hold is released, exactly once', () => {
    let done = 0;
    const d = new Delivery(() => done++);
    d.hold();
    d.hold();
    d.release(); // the creator's hold
    d.release();
    assert.equal(done, 0);
    d.release();
    assert.equal(done, 1);
    assert.ok(d.done);
    assert.throws(() => d.release(), /released more often than held/);
    assert.throws(() => d.hold(), /cannot be held again/);
    assert.equal(done, 1);
  });
});

describe('acknowledgement waits for the work a message caused (real Mosquitto)', () => {
  const fixture = brokerFixture();

  it('acknowledges a QoS 1 message once every sink committed it, a network sink to its durable outbox', async (t) => {
    const waiting: ServerResponse[] = [];
    const server = createServer((req, res) => {
      req.resume();
      waiting.push(res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise((resolve) => server.close(resolve)));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const harness = await startEngine(
      flowOf(
        fixture.broker.url,
        [
          { id: 'in', type: 'mqtt-in', config: { connection: 'broker', topic: 'ack/+', qos: 1 } },
          { id: 'db', type: 'sqlite-sink', config: { table: 'acked' } },
          { id: 'post', type: 'http-post', config: { url, timeoutMs: 10_000 } },
        ],
        [
          ['in', 'out', 'db'],
          ['in', 'out', 'post'],
        ],
      ),
    );
    t.after(() => harness.stop());
    const connection = () => harness.engine.status().connections[0];
    await waitFor('subscribed', () => connection()?.subscriptions === 1 && connection()?.state === 'connected');

    await fixture.client.publishAsync('ack/1', '{"n":1}', { qos: 1 });
    await waitFor('the POST to arrive', () => waiting.length === 1);
    await waitFor('the row to commit', () => harness.rows('SELECT * FROM acked').length === 1);
    // The POST is still open, but the message is safe in the outbox: acknowledged.
    await waitFor('the acknowledgement', () => connection()?.unacknowledged === 0);
    assert.equal(harness.rows('SELECT * FROM tf_outbox').length, 1);
    assert.equal(harness.engine.status().nodes.find((n) => n.id === 'post')?.outbox?.inFlight, 1);

    waiting[0]?.writeHead(204).end();
    await waitFor('the outbox to empty', () => harness.rows('SELECT * FROM tf_outbox').length === 0);
  });

  it('receives, after a restart, what was published while a persistent session was away', async (t) => {
    const flow = (clientId: string) => ({
      format: 'topicflow/flow@1',
      name: 'persistent',
      connections: [{ id: 'broker', url: fixture.broker.url, clientId, clean: false, sessionExpiry: 600 }],
      nodes: [
        { id: 'in', type: 'mqtt-in', config: { connection: 'broker', topic: 'away/+', qos: 1 } },
        { id: 'db', type: 'sqlite-sink', config: { table: 'away' } },
      ],
      edges: [{ id: 'e', from: { node: 'in', port: 'out' }, to: { node: 'db', port: 'in' } }],
    });
    const clientId = `tf-persistent-${process.pid}`;
    const first = await startEngine(flow(clientId));
    const subscribed = () => first.engine.status().connections[0]?.state === 'connected';
    await waitFor('first run connected', subscribed);
    await new Promise((resolve) => setTimeout(resolve, 200)); // SUBACK
    await first.stop();

    for (const n of [1, 2, 3]) await fixture.client.publishAsync(`away/${n}`, `{"n":${n}}`, { qos: 1 });

    const second = await startEngine(flow(clientId));
    t.after(() => second.stop());
    await waitFor('the three queued messages', () => second.rows('SELECT * FROM away').length === 3);
    assert.deepEqual(
      second.rows<{ topic: string }>('SELECT topic FROM away ORDER BY id').map((r) => r.topic),
      ['away/1', 'away/2', 'away/3'],
    );
  });

  it('acknowledges a message that became a dead letter once the dead letter is committed', async (t) => {
    const harness = await startEngine(
      flowOf(
        fixture.broker.url,
        [
          { id: 'in', type: 'mqtt-in', config: { connection: 'broker', topic: 'dl/+', qos: 1, decoding: 'json' } },
          { id: 'db', type: 'sqlite-sink', config: { table: 'dl' } },
        ],
        [['in', 'out', 'db']],
      ),
    );
    t.after(() => harness.stop());
    const connection = () => harness.engine.status().connections[0];
    await waitFor('subscribed', () => connection()?.subscriptions === 1 && connection()?.state === 'connected');
    await fixture.client.publishAsync('dl/1', '{not json', { qos: 1 });
    await waitFor('the dead letter', () => harness.rows('SELECT * FROM tf_dead_letters').length === 1);
    await waitFor('the acknowledgement', () => connection()?.unacknowledged === 0);
  });
});
