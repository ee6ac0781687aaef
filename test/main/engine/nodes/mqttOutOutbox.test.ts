import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { MqttClient } from 'mqtt';
import { testClient } from '../../../helpers/engineHarness.js';
import { startMosquitto, type Mosquitto } from '../../../helpers/mosquitto.js';
import { startTcpProxy, type TcpProxy } from '../../../helpers/tcpProxy.js';
import { waitFor } from '../../../helpers/waitFor.js';
import { collect, publishAll, startFlow } from '../engineTestKit.js';

/**
 * mqtt-out publishes on a connection of its own, through a TCP proxy that can go dark: while it is
 * cut, the messages wait in the durable outbox (and their inputs are acknowledged); once it is
 * back, every one is published, in order.
 */
describe('mqtt-out outbox', () => {
  let broker: Mosquitto;
  let proxy: TcpProxy;
  let client: MqttClient;
  before(async () => {
    broker = await startMosquitto();
    proxy = await startTcpProxy(broker.port);
    client = await testClient(broker.url);
  });
  after(async () => {
    await client?.endAsync();
    await proxy?.close();
    await broker?.stop();
  });

  it('keeps what it cannot publish while the link is down, and publishes all of it once back', async (t) => {
    const received = await collect(client, 'relayed/#', 1);
    const run = await startFlow(
      broker.url,
      [
        { id: 'in', type: 'mqtt-in', config: { connection: 'broker', topic: 'relay/{dev}', qos: 1 } },
        {
          id: 'out',
          type: 'mqtt-out',
          config: {
            connection: 'remote',
            topic: 'relayed/{params.dev}',
            qos: 1,
            timeoutMs: 500,
            retryBaseMs: 50,
            retryMaxMs: 200,
          },
        },
      ],
      [['in', 'out', 'out']],
      {
        extra: {
          connections: [
            { id: 'broker', url: broker.url },
            { id: 'remote', url: proxy.url, keepalive: 1 },
          ],
        },
      },
    );
    t.after(() => run.stop());
    await publishAll(client, 'relay/a', ['{"n":0}']);
    await waitFor('the first relayed', () => received.length === 1);

    proxy.cut();
    await publishAll(
      client,
      'relay/a',
      Array.from({ length: 20 }, (_, i) => JSON.stringify({ n: i + 1 })),
    );
    await waitFor('20 in the outbox', () => run.rows('SELECT * FROM tf_outbox').length === 20);
    // In the outbox means acknowledged: the input connection holds nothing back.
    await waitFor(
      'inputs acknowledged',
      () => run.engine.status().connections.find((c) => c.id === 'broker')?.unacknowledged === 0,
    );
    await waitFor(
      'the remote link seen down',
      () => run.engine.status().connections.find((c) => c.id === 'remote')?.state !== 'connected',
      5000,
    );
    assert.equal(received.length, 1);

    proxy.restore();
    await waitFor('all relayed', () => received.length >= 21, 15_000);
    const ns = received.map((r) => (JSON.parse(r.payload.toString()) as { n: number }).n);
    assert.deepEqual(
      [...new Set(ns)].sort((a, b) => a - b),
      Array.from({ length: 21 }, (_, i) => i),
    );
    assert.ok(received.every((r) => r.topic === 'relayed/a'));
    await waitFor('outbox empty', () => run.rows('SELECT * FROM tf_outbox').length === 0);
    assert.equal(run.node('out').outbox?.sent, 21);
  });
});
