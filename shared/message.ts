/**
 * Tracks the work a received QoS 1/2 message caused; the broker is acknowledged when it is done.
 * A node that keeps a message beyond its synchronous `onInput` (a batch, a pending evaluation, a
 * request) calls `hold()` when it takes it and `release()` once that work committed or failed.
 */
export interface DeliveryHandle {
  hold(): void;
  release(): void;
}

/** The message that travels between nodes. Nodes never mutate one; they make a new one. */
export interface FlowMessage {
  /** Unique within a run of the engine: `<run>-<seq>`. */
  readonly id: string;
  /** Monotonic receive sequence number within the engine run; orders messages without the clock. */
  readonly seq: number;
  readonly topic: string;
  /** Decoded payload (JSON value, number, text, or bytes for `binary`). */
  readonly payload: unknown;
  /** The bytes as they arrived, kept for dead letters; undefined for generated messages. */
  readonly raw: Uint8Array | undefined;
  readonly qos: 0 | 1 | 2;
  readonly retain: boolean;
  /** MQTT 5 properties of the PUBLISH, when any. */
  readonly properties: Readonly<Record<string, unknown>> | undefined;
  /** Named wildcard values from the subscription filter. */
  readonly params: Readonly<Record<string, string>>;
  /** Wall-clock receive time (epoch ms). */
  readonly receivedAt: number;
  /** Monotonic receive time (ms since the engine started); immune to clock jumps. */
  readonly receivedMono: number;
  /** The connection a broker message came in on, and its MQTT packet identifier (QoS 1/2 only). */
  readonly connection: string | undefined;
  readonly packetId: number | undefined;
  /** Present for QoS 1/2 messages from a broker: the acknowledgement waits for it. */
  readonly delivery: DeliveryHandle | undefined;
  /** Validation errors attached by a `validate` node. */
  readonly errors?: readonly { readonly path: string; readonly message: string }[];
}

/**
 * The same message with another payload. Spelled out rather than spread: every message then has
 * one hidden class, and the hot path allocates one small object per hop (measured in `npm run bench`).
 */
export function withPayload(message: FlowMessage, payload: unknown): FlowMessage {
  return {
    id: message.id,
    seq: message.seq,
    topic: message.topic,
    payload,
    raw: message.raw,
    qos: message.qos,
    retain: message.retain,
    properties: message.properties,
    params: message.params,
    receivedAt: message.receivedAt,
    receivedMono: message.receivedMono,
    connection: message.connection,
    packetId: message.packetId,
    delivery: message.delivery,
    errors: message.errors,
  };
}
