import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, type IPublishPacket, type MqttClient } from 'mqtt';
import { AckAfterCommit } from '../../../../main/engine/mqtt/ackAfterCommit.js';
import type { Delivery } from '../../../../main/engine/runtime/delivery.js';
import { ScriptedBroker } from '../../../helpers/scriptedBroker.js';
import { waitFor } from '../../../helpers/waitFor.js';

const settle = (ms = 150) => new Promise((resolve) => setTimeout(resolve, ms));

describe('AckAfterCommit (against a scripted broker)', () => {
  const broker = new ScriptedBroker();
  let client: MqttClient;
  let acks: AckAfterCommit;
  const deliveries = new Map<number, Delivery>();

  before(async () => {
    const port = await broker.start();
    client = connect(`mqtt://127.0.0.1:${port}`, { protocolVersion: 4, reconnectPeriod: 100, keepalive: 0 });
    acks = new AckAfterCommit(client);
    client.on('message', (_topic, _payload, packet: IPublishPacket) => {
      const delivery = acks.track(packet);
      if (delivery) deliveries.set(packet.messageId as number, delivery);
    });
    await waitFor('connected', () => client.connected);
  });
  after(async () => {
    await client.endAsync(true);
    await broker.stop();
  });

  it('goes on reading while nothing is acknowledged, then acknowledges in arrival order', async () => {
    broker.send(broker.publish(1), broker.publish(2), broker.publish(3));
    await waitFor('three messages read', () => deliveries.size === 3);
    await settle();
    assert.deepEqual(broker.acks('puback'), [], 'no PUBACK before the work is done');
    assert.equal(acks.unacknowledged, 3);

    deliveries.get(2)?.release();
    await settle();
    assert.deepEqual(broker.acks('puback'), [], 'message 2 waits for message 1 (MQTT 4.6 order)');

    deliveries.get(1)?.release();
    await waitFor('PUBACK 1 and 2', () => broker.acks('puback').length === 2);
    assert.deepEqual(broker.acks('puback'), [1, 2]);

    deliveries.get(3)?.release();
    await waitFor('PUBACK 3', () => broker.acks('puback').length === 3);
    assert.deepEqual(broker.acks('puback'), [1, 2, 3]);
    assert.equal(acks.unacknowledged, 0);
  });

  it('holds PUBCOMP of a QoS 2 message until its work is done', async () => {
    broker.send(broker.publish(10, 2));
    await waitFor('PUBREC 10', () => broker.acks('pubrec').includes(10));
    broker.send({ cmd: 'pubrel', messageId: 10 });
    await waitFor('message 10 delivered', () => deliveries.has(10));
    await settle();
    assert.deepEqual(broker.acks('pubcomp'), []);
    deliveries.get(10)?.release();
    await waitFor('PUBCOMP 10', () => broker.acks('pubcomp').includes(10));
  });

  it('never acknowledges, on a new connection, a message received on an earlier one', async () => {
    broker.send(broker.publish(20));
    await waitFor('message 20', () => deliveries.has(20));
    const before = broker.connections;
    broker.socket?.destroy();
    await waitFor('reconnected', () => broker.connections > before && client.connected, 5000);
    deliveries.get(20)?.release();
    broker.send(broker.publish(21));
    await waitFor('message 21', () => deliveries.has(21));
    deliveries.get(21)?.release();
    await waitFor('PUBACK 21', () => broker.acks('puback').includes(21));
    assert.equal(broker.acks('puback').includes(20), false, 'the broker redelivers 20 instead');
  });

  it('acknowledges QoS 0 never and tracks nothing for it', async () => {
    const count = deliveries.size;
    broker.send({ cmd: 'publish', topic: 't/0', payload: Buffer.from('x'), qos: 0, retain: false, dup: false });
    await settle();
    assert.equal(deliveries.size, count);
  });
});
