import { mqttInSpec } from '../../../shared/nodes/mqttIn.js';
import { parseTopicFilter } from '../../../shared/topicFilter.js';
import type { MessageHandler, ResolvedConnection } from '../mqtt/connectionManager.js';
import { decodePayload, PayloadError } from '../payload/decodePayload.js';
import { errorMessage, implement } from '../runtime/nodeRuntime.js';

export const mqttInNode = implement({
  spec: mqttInSpec,
  create(ctx) {
    const { decoding, maxPayloadBytes, maxDepth, qos } = ctx.config;
    const filter = parseTopicFilter(ctx.config.topic);
    const out = ctx.output('out');
    const { services, counters } = ctx;
    let connection: ResolvedConnection | undefined;
    let unsubscribe: ((keepAtBroker?: boolean) => void) | undefined;

    const onMessage: MessageHandler = (topic, raw, packet, params, delivery) => {
      counters.in++;
      if (raw.length > maxPayloadBytes) {
        ctx.deadLetter(
          { topic, raw, qos: packet.qos, seq: undefined, delivery },
          `payload of ${raw.length} bytes is over maxPayloadBytes (${maxPayloadBytes})`,
        );
        return;
      }
      let payload: unknown;
      try {
        payload = decodePayload(raw, decoding, maxDepth);
      } catch (error) {
        const reason = error instanceof PayloadError ? error.message : `cannot decode payload: ${errorMessage(error)}`;
        ctx.deadLetter({ topic, raw, qos: packet.qos, seq: undefined, delivery }, reason);
        return;
      }
      out(
        services.newMessage({
          topic,
          payload,
          raw,
          qos: packet.qos,
          retain: packet.retain,
          properties: packet.properties as Record<string, unknown> | undefined,
          params,
          connection: ctx.config.connection,
          packetId: packet.qos > 0 ? packet.messageId : undefined,
          delivery,
        }),
      );
    };

    return {
      async start() {
        connection = services.connection(ctx.config.connection);
        const shared = await services.connections.acquire(connection);
        unsubscribe = shared.subscribe(filter, qos, onMessage);
      },
      async stop(reason) {
        unsubscribe?.(reason === 'shutdown');
        unsubscribe = undefined;
        if (connection) await services.connections.release(connection);
        connection = undefined;
      },
    };
  },
});
