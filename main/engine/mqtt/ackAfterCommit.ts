import type { IPublishPacket, MqttClient, Packet } from 'mqtt';
import { Delivery } from '../runtime/delivery.js';
import { LatencyHistogram } from '../runtime/latencyHistogram.js';

/**
 * Makes an mqtt.js client acknowledge QoS 1/2 messages only when the work they caused is done,
 * while it goes on reading the next packets.
 *
 * Why an adapter: mqtt.js handles one incoming packet at a time and parses the next only after
 * `handleMessage`'s callback; the callback also sends the PUBACK. Holding it until a batch
 * commits would stall reading (one message per batch, and brokers cap unacknowledged messages at
 * 20 by default). mqtt.js 5 skips the PUBACK/PUBCOMP when that callback gets an error, yet still
 * moves on to the next packet; this adapter answers with such a marker at once and sends the
 * acknowledgement itself later. Acknowledgements leave in the order the messages arrived (MQTT
 * 4.6). One that belongs to an earlier connection is dropped: the broker redelivers that message
 * on the new connection, and a PUBACK with an old id could acknowledge another message.
 * test/main/engine/mqtt/ackAfterCommit.test.ts pins this behaviour of mqtt.js.
 *
 * `latency` counts, per acknowledgement written, the time from the message reaching the client
 * (QoS 2: its PUBREL, when mqtt.js hands it over) to its PUBACK/PUBCOMP being written, by
 * performance.now(); acknowledgements dropped with an old connection are not counted.
 */
export class AckAfterCommit {
  private readonly pending: {
    readonly packet: IPublishPacket;
    readonly generation: number;
    readonly receivedMono: number;
    done: boolean;
  }[] = [];
  private head = 0;
  private generation = 0;
  private acknowledged = 0;
  readonly latency = new LatencyHistogram();

  constructor(private readonly client: MqttClient) {
    const deferred = new DeferredAck();
    client.handleMessage = (packet, callback) => {
      callback(packet.qos > 0 ? deferred : undefined);
    };
    client.on('connect', () => {
      this.generation++;
    });
  }

  /** A delivery for a received packet; `undefined` for QoS 0, which needs no acknowledgement. */
  track(packet: IPublishPacket): Delivery | undefined {
    if (packet.qos === 0) return undefined;
    const entry = { packet, generation: this.generation, receivedMono: performance.now(), done: false };
    this.pending.push(entry);
    return new Delivery(() => {
      entry.done = true;
      this.flush();
    });
  }

  /** Messages received and not yet acknowledged. */
  get unacknowledged(): number {
    return this.pending.length - this.head;
  }

  get acknowledgedCount(): number {
    return this.acknowledged;
  }

  private flush(): void {
    const pending = this.pending;
    const pubacks: number[] = [];
    // writePubacks writes nothing without a live stream: count only what is written.
    const stream = this.client.stream;
    const writable = !!stream && !stream.destroyed;
    let now = -1;
    while (this.head < pending.length && (pending[this.head] as { done: boolean }).done) {
      const { packet, generation, receivedMono } = pending[this.head++] as (typeof pending)[number];
      if (generation !== this.generation || !this.client.connected) continue;
      if (now < 0) now = performance.now();
      if (packet.qos === 1) {
        pubacks.push(packet.messageId as number);
        if (writable) this.latency.observe(now - receivedMono);
      } else {
        this.acknowledgeQoS2(packet);
        this.latency.observe(now - receivedMono);
      }
    }
    if (pubacks.length > 0) this.writePubacks(pubacks);
    if (this.head > 1024 && this.head * 2 > pending.length) {
      pending.splice(0, this.head);
      this.head = 0;
    }
  }

  /**
   * All PUBACKs that are due, in one write. A PUBACK with reason "success" is the same 4 bytes in
   * MQTT 3.1.1 and 5 (0x40, length 2, message id). One write per acknowledgement, as mqtt.js does,
   * costs a few hundred bytes of bookkeeping each while the socket is busy: draining a 200,000
   * message backlog piled up ~200,000 of them (the broker reads slowly while it sends).
   */
  private writePubacks(ids: readonly number[]): void {
    const stream = this.client.stream;
    if (!stream || stream.destroyed) return;
    const bytes = Buffer.allocUnsafe(ids.length * 4);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i] as number;
      bytes[i * 4] = 0x40;
      bytes[i * 4 + 1] = 0x02;
      bytes[i * 4 + 2] = id >> 8;
      bytes[i * 4 + 3] = id & 0xff;
    }
    stream.write(bytes);
    this.acknowledged += ids.length;
  }

  private acknowledgeQoS2(packet: IPublishPacket): void {
    const messageId = packet.messageId as number;
    const send = (this.client as unknown as { _sendPacket(packet: Packet, cb?: () => void): void })._sendPacket.bind(
      this.client,
    );
    this.acknowledged++;
    // mqtt.js calls handleMessage at PUBREL; completing it is what its callback would do.
    const internals = this.client as unknown as { _releaseIncomingQoS2Publish(id: number): void };
    this.client.incomingStore.del(packet, () => undefined);
    internals._releaseIncomingQoS2Publish(messageId);
    send({ cmd: 'pubcomp', messageId } as Packet);
  }
}

/** The marker handed to mqtt.js: "do not acknowledge now, go on reading". */
class DeferredAck extends Error {
  constructor() {
    super('acknowledgement deferred until the message is committed');
  }
}
