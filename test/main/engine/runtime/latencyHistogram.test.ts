import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IPublishPacket, MqttClient } from 'mqtt';
import { AckAfterCommit } from '../../../../main/engine/mqtt/ackAfterCommit.js';
import { LatencyHistogram } from '../../../../main/engine/runtime/latencyHistogram.js';

describe('LatencyHistogram', () => {
  it('counts each duration in the first bucket whose bound holds it, the rest in the overflow', () => {
    const h = new LatencyHistogram([1, 10, 100]);
    for (const ms of [0, 1, 1.5, 10, 99, 100, 101, 5000]) h.observe(ms);
    const s = h.snapshot();
    assert.deepEqual(s.boundsMs, [1, 10, 100]);
    assert.deepEqual(s.counts, [2, 2, 2, 2]);
    assert.equal(s.count, 8);
    assert.equal(h.count, 8);
    assert.equal(s.sumMs, 0 + 1 + 1.5 + 10 + 99 + 100 + 101 + 5000);
    assert.throws(() => new LatencyHistogram([5, 1]), /ascend/);
  });

  it('a snapshot is a copy', () => {
    const h = new LatencyHistogram([1]);
    const before = h.snapshot();
    h.observe(0.5);
    assert.deepEqual(before.counts, [0, 0]);
    assert.deepEqual(h.snapshot().counts, [1, 0]);
  });
});

/** Just enough of an mqtt.js client for AckAfterCommit: a connection flag and a stream that records writes. */
function fakeClient(): { client: MqttClient; writes: Buffer[]; state: { connected: boolean } } {
  const writes: Buffer[] = [];
  const state = { connected: true };
  const client = {
    handleMessage: undefined,
    on: () => client,
    get connected() {
      return state.connected;
    },
    stream: { destroyed: false, write: (bytes: Buffer) => writes.push(Buffer.from(bytes)) },
  };
  return { client: client as unknown as MqttClient, writes, state };
}

const publish = (messageId: number): IPublishPacket =>
  ({
    cmd: 'publish',
    topic: 't',
    payload: Buffer.alloc(0),
    qos: 1,
    retain: false,
    dup: false,
    messageId,
  }) as IPublishPacket;

describe('AckAfterCommit ack latency', () => {
  it('measures receipt → PUBACK written, once per acknowledgement written', async () => {
    const { client, writes } = fakeClient();
    const acks = new AckAfterCommit(client);
    const first = acks.track(publish(1));
    const second = acks.track(publish(2));
    await new Promise((resolve) => setTimeout(resolve, 30));
    second?.release();
    assert.equal(acks.latency.count, 0, 'message 2 waits for message 1: nothing written yet');
    first?.release();
    assert.equal(writes.length, 1);
    assert.deepEqual([...(writes[0] as Buffer)], [0x40, 2, 0, 1, 0x40, 2, 0, 2]);
    const snapshot = acks.latency.snapshot();
    assert.equal(snapshot.count, 2);
    assert.ok(snapshot.sumMs >= 2 * 25, `waited ~30 ms each, got ${snapshot.sumMs} ms in all`);
    assert.equal(acks.acknowledgedCount, 2);
  });

  it('counts nothing for QoS 0 nor for acknowledgements dropped while disconnected', () => {
    const { client, writes, state } = fakeClient();
    const acks = new AckAfterCommit(client);
    assert.equal(acks.track({ ...publish(0), qos: 0 }), undefined);
    const delivery = acks.track(publish(3));
    state.connected = false;
    delivery?.release();
    assert.equal(writes.length, 0);
    assert.equal(acks.latency.count, 0);
  });
});
