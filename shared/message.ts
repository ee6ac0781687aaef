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
  /** Validation errors attached by a `validate` node. */
  readonly errors?: readonly { readonly path: string; readonly message: string }[];
}
