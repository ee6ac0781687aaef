import { mqttOutSpec } from '../../../shared/nodes/mqttOut.js';
import { fillTopicTemplate, parseTopicTemplate } from '../../../shared/topicTemplate.js';
import type { ResolvedConnection, SharedConnection } from '../mqtt/connectionManager.js';
import { implement } from '../runtime/nodeRuntime.js';
import type { OutboxEntry, SendOutcome } from '../store/outbox.js';
import { checkOutboxConfig, createOutboxSink } from './outboxSink.js';

export function encodePayload(payload: unknown, encoding: 'auto' | 'json' | 'text'): Buffer | string {
  if (encoding === 'json') return JSON.stringify(payload) ?? 'null';
  if (payload instanceof Uint8Array) return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  if (typeof payload === 'string') return payload;
  // Objects and arrays as JSON, as a sqlite-sink text column stores them: String() would give "[object Object]".
  if (encoding === 'text')
    return payload !== null && typeof payload === 'object' ? JSON.stringify(payload) : String(payload);
  return JSON.stringify(payload) ?? '';
}

/** MQTT 5 PUBACK reason codes that will never succeed on a retry. */
const PERMANENT_REASONS = new Set([
  0x87 /* not authorized */, 0x90 /* topic name invalid */, 0x99 /* payload format invalid */,
]);

export const mqttOutNode = implement({
  spec: mqttOutSpec,
  check: (config) => checkOutboxConfig(config),
  create(ctx) {
    const { qos, retain, encoding, timeoutMs } = ctx.config;
    const template = parseTopicTemplate(ctx.config.topic);
    const { services } = ctx;
    let connection: ResolvedConnection | undefined;
    let shared: SharedConnection | undefined;
    const onConnect = (): void => sink.poke();

    const send = (entry: OutboxEntry): Promise<SendOutcome> =>
      new Promise((resolve) => {
        const client = shared?.client;
        if (!client?.connected) {
          resolve({ ok: false, retry: true, error: 'mqtt-out: not connected' });
          return;
        }
        // A publish the broker does not confirm in time is sent again (at least once).
        const timer = setTimeout(
          () => resolve({ ok: false, retry: true, error: `mqtt-out: no acknowledgement within ${timeoutMs} ms` }),
          timeoutMs,
        );
        client.publish(entry.topic ?? '', entry.body, { qos, retain }, (error) => {
          clearTimeout(timer);
          if (!error) return resolve({ ok: true });
          const code = (error as { code?: unknown }).code;
          const retry = !(typeof code === 'number' && PERMANENT_REASONS.has(code));
          resolve({ ok: false, retry, error: `mqtt-out: publish to ${entry.topic ?? ''} failed: ${error.message}` });
        });
      });

    const sink = createOutboxSink(ctx, {
      // QoS 1/2 publishes overlap (the broker's in-flight window orders them); QoS 0 goes one by one.
      concurrency: qos === 0 ? 1 : 32,
      encode: (message) => {
        const payload = encodePayload(message.payload, encoding);
        return {
          topic: fillTopicTemplate(template, message),
          body: typeof payload === 'string' ? Buffer.from(payload) : payload,
        };
      },
      send,
      ready: () => shared?.client.connected === true,
    });

    return {
      async start() {
        connection = services.connection(ctx.config.connection);
        shared = await services.connections.acquire(connection);
        shared.client.on('connect', onConnect);
        sink.start();
      },
      onInput: sink.onInput,
      pending: sink.pending,
      outbox: sink.outbox,
      async stop() {
        await sink.stop();
        shared?.client.off('connect', onConnect);
        if (connection) await services.connections.release(connection);
        shared = undefined;
        connection = undefined;
      },
    };
  },
});
