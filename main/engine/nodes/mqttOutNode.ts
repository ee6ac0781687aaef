import { mqttOutSpec } from '../../../shared/nodes/mqttOut.js';
import { fillTopicTemplate, parseTopicTemplate } from '../../../shared/topicTemplate.js';
import type { ResolvedConnection, SharedConnection } from '../mqtt/connectionManager.js';
import { implement } from '../runtime/nodeRuntime.js';

/** Publishes not yet confirmed by the client; beyond it messages are dead-lettered, not buffered. */
export const MQTT_OUT_MAX_PENDING = 10_000;

export function encodePayload(payload: unknown, encoding: 'auto' | 'json' | 'text'): Buffer | string {
  if (encoding === 'json') return JSON.stringify(payload) ?? 'null';
  if (payload instanceof Uint8Array) return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  if (typeof payload === 'string') return payload;
  // Objects and arrays as JSON, as a sqlite-sink text column stores them: String() would give "[object Object]".
  if (encoding === 'text')
    return payload !== null && typeof payload === 'object' ? JSON.stringify(payload) : String(payload);
  return JSON.stringify(payload) ?? '';
}

export const mqttOutNode = implement({
  spec: mqttOutSpec,
  create(ctx) {
    const { qos, retain, encoding } = ctx.config;
    const template = parseTopicTemplate(ctx.config.topic);
    const { services, counters } = ctx;
    let connection: ResolvedConnection | undefined;
    let shared: SharedConnection | undefined;
    let inFlight = 0;
    let onIdle: (() => void) | undefined;

    return {
      async start() {
        connection = services.connection(ctx.config.connection);
        shared = await services.connections.acquire(connection);
      },
      onInput(message) {
        if (!shared) throw new Error('mqtt-out is not started');
        if (inFlight >= MQTT_OUT_MAX_PENDING) {
          counters.dropped++;
          ctx.deadLetter(message, `mqtt-out: ${MQTT_OUT_MAX_PENDING} publishes already waiting for the broker`);
          return;
        }
        const topic = fillTopicTemplate(template, message);
        inFlight++;
        message.delivery?.hold();
        shared.client.publish(topic, encodePayload(message.payload, encoding), { qos, retain }, (error) => {
          inFlight--;
          if (error) ctx.deadLetter(message, `mqtt-out: publish to ${topic} failed: ${error.message}`);
          else counters.out++;
          message.delivery?.release();
          if (inFlight === 0) onIdle?.();
        });
      },
      pending: () => inFlight,
      async stop() {
        if (inFlight > 0) await new Promise<void>((resolve) => (onIdle = resolve));
        if (connection) await services.connections.release(connection);
        shared = undefined;
        connection = undefined;
      },
    };
  },
});
