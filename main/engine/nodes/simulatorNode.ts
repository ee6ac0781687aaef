import { randomInt } from 'node:crypto';
import { simulatorSpec } from '../../../shared/nodes/simulator.js';
import type { ResolvedConnection, SharedConnection } from '../mqtt/connectionManager.js';
import { implement } from '../runtime/nodeRuntime.js';
import { FleetModel, type SimulatedMessage } from '../simulator/fleetModel.js';

/** Publishes not yet confirmed; a tick that would exceed it is skipped and counted as dropped. */
const MAX_UNCONFIRMED = 50_000;

export const simulatorNode = implement({
  spec: simulatorSpec,
  create(ctx) {
    const config = ctx.config;
    const seed = config.seed === 0 ? randomInt(1, 2 ** 31) : config.seed;
    const model = new FleetModel({ ...config, seed });
    const out = ctx.output('out');
    const { services, counters } = ctx;
    let timer: NodeJS.Timeout | undefined;
    let tick = 0;
    let connection: ResolvedConnection | undefined;
    let shared: SharedConnection | undefined;
    let unconfirmed = 0;
    let stopped = false;

    const publish = (target: SharedConnection, m: SimulatedMessage): void => {
      unconfirmed++;
      target.client.publish(m.topic, JSON.stringify(m.payload), { qos: m.qos, retain: m.retain }, (error) => {
        unconfirmed--;
        if (error) {
          counters.errors++;
          ctx.log.warn({ topic: m.topic, error: error.message }, 'simulator publish failed');
        } else counters.out++;
      });
    };

    const emit = (m: SimulatedMessage): void => {
      out(
        services.newMessage({
          topic: m.topic,
          payload: m.payload,
          raw: undefined,
          qos: m.qos,
          retain: m.retain,
          properties: undefined,
          params: {},
          connection: undefined,
          packetId: undefined,
          delivery: undefined,
        }),
      );
    };

    const onTick = (): void => {
      if (config.maxTicks > 0 && tick >= config.maxTicks) {
        clearInterval(timer);
        timer = undefined;
        return;
      }
      if (shared && unconfirmed >= MAX_UNCONFIRMED) {
        counters.dropped += config.devices;
        return;
      }
      const messages = model.tick(tick++, Date.now());
      for (const m of messages) {
        if (shared) publish(shared, m);
        else emit(m);
      }
    };

    return {
      async start() {
        ctx.log.info({ seed, devices: config.devices, mode: config.mode }, 'simulator started');
        const begin = (): void => {
          if (timer !== undefined || stopped) return;
          timer = setInterval(onTick, config.intervalMs);
          onTick();
        };
        if (config.mode === 'publish') {
          connection = services.connection(config.connection as string);
          shared = await services.connections.acquire(connection);
          // Publishes made before the first connect wait in mqtt.js's offline queue, and the next
          // tick could overtake them: begin once connected (without holding up the deploy).
          if (!shared.client.connected) {
            shared.client.once('connect', begin);
            return;
          }
        }
        begin();
      },
      pending: () => unconfirmed,
      async stop() {
        stopped = true;
        clearInterval(timer);
        timer = undefined;
        if (connection) await services.connections.release(connection);
        shared = undefined;
        connection = undefined;
      },
    };
  },
});
