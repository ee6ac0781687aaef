import { connect, type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import mqttPacket from 'mqtt-packet';
import type { FlowConnection } from '../../../shared/flow/flowDocument.js';
import { matchTopic, type TopicFilter } from '../../../shared/topicFilter.js';
import type { Logger } from '../logger.js';
import type { Delivery } from '../runtime/delivery.js';
import type { LatencySnapshot } from '../runtime/latencyHistogram.js';
import { AckAfterCommit } from './ackAfterCommit.js';
import { EmbeddedBroker } from './embeddedBroker.js';
import { mqttClientOptions } from './clientOptions.js';

// mqtt-packet (under mqtt.js and aedes) otherwise fills a cache of 65,536 two-byte Buffers on its
// first write: 6.3 MB of an idle engine's heap (heap snapshot of the demo flow). Documented switch.
mqttPacket.writeToStream.cacheNumbers = false;

export type MessageHandler = (
  topic: string,
  payload: Buffer,
  packet: IPublishPacket,
  params: Record<string, string>,
  delivery: Delivery | undefined,
) => void;

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface ConnectionStatus {
  readonly id: string;
  readonly state: ConnectionState;
  readonly url: string;
  readonly connects: number;
  readonly lastError: string | undefined;
  readonly users: number;
  readonly subscriptions: number;
  /** QoS 1/2 messages received whose work is not done yet (so not acknowledged). */
  readonly unacknowledged: number;
  /** Monotonic ms (performance.now()) since when it has not been connected; undefined while connected. */
  readonly downSinceMono?: number | undefined;
  /** Receipt → PUBACK/PUBCOMP written, for the QoS 1/2 messages acknowledged on this connection. */
  readonly ackLatency?: LatencySnapshot | undefined;
}

interface Route {
  readonly filter: TopicFilter;
  readonly handler: MessageHandler;
}

interface BrokerFilter {
  qos: 0 | 1 | 2;
  count: number;
  /** MQTT 5 subscription identifier: tells which subscription a delivered copy is for. */
  readonly id: number;
}

/** Reconnect delays: exponential from 1 s to 30 s with jitter, so a fleet does not stampede. */
export function reconnectDelay(attempt: number, random = Math.random): number {
  const ceiling = Math.min(30_000, 1000 * 2 ** Math.min(attempt, 10));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/**
 * One MQTT client per connection, shared by every node that uses it. Nodes subscribe filters;
 * the broker sees each distinct filter once; a message is routed to the nodes whose filter
 * matches. Subscribing and unsubscribing never reconnect the client.
 */
export class SharedConnection {
  readonly client: MqttClient;
  users = 0;
  private state: ConnectionState = 'connecting';
  private downSinceMono: number | undefined = performance.now();
  private connects = 0;
  private attempts = 0;
  private lastError: string | undefined;
  private routes: Route[] = [];
  private readonly brokerFilters = new Map<string, BrokerFilter>();
  private nextSubscriptionId = 1;
  private readonly useIdentifiers: boolean;
  private readonly acks: AckAfterCommit;

  constructor(
    readonly id: string,
    readonly url: string,
    options: IClientOptions,
    private readonly log: Logger,
    private readonly embedded: EmbeddedBroker | undefined,
  ) {
    this.client = connect(url, { ...options, reconnectPeriod: reconnectDelay(0) });
    this.useIdentifiers = options.protocolVersion === 5;
    this.acks = new AckAfterCommit(this.client);
    this.client.on('connect', (connack) => {
      if (this.useIdentifiers && connack.properties?.subscriptionIdentifiersAvailable === false) {
        this.log.warn(
          { connection: id, url },
          'broker has no subscription identifiers: overlapping filters may deliver a message more than once',
        );
      }
      // No Nagle: a PUBLISH or PUBACK waiting for the previous segment's TCP ACK (delayed up to
      // 40 ms) capped a republishing outbox at ~1,300 msg/s (`npm run bench`, republish-outbox).
      (this.client.stream as { setNoDelay?: (on: boolean) => void } | undefined)?.setNoDelay?.(true);
      this.state = 'connected';
      this.downSinceMono = undefined;
      this.connects++;
      this.attempts = 0;
      this.lastError = undefined;
      this.client.options.reconnectPeriod = reconnectDelay(0);
      this.log.info({ connection: id, url, sessionPresent: connack.sessionPresent }, 'mqtt connected');
    });
    // Prepended: mqtt.js schedules its reconnect in its own 'close' listener with the period set at
    // that moment, so the next delay must be in place before that listener runs.
    this.client.prependListener('close', () => {
      if (this.state === 'closed') return;
      const delay = reconnectDelay(this.attempts++);
      this.client.options.reconnectPeriod = delay;
      if (this.state === 'connected') this.log.warn({ connection: id, url }, 'mqtt connection lost');
      this.downSinceMono ??= performance.now();
      this.state = 'reconnecting';
      this.log.info(
        { connection: id, url, attempt: this.attempts, retryInMs: delay, error: this.lastError },
        'mqtt reconnect scheduled',
      );
    });
    this.client.on('error', (error) => {
      this.lastError = error.message;
      this.log.warn({ connection: id, url, error: error.message }, 'mqtt error');
    });
    this.client.on('message', (topic, payload, packet) => this.route(topic, payload, packet));
  }

  /**
   * Hands a message to every node whose filter matches. A broker sends one copy per matching
   * subscription when filters overlap (`a/#` and `a/b`); under MQTT 5 each copy names its
   * subscription, so it goes only to the nodes of that subscription and none sees it twice.
   */
  private route(topic: string, payload: Buffer, packet: IPublishPacket): void {
    const ids = packet.properties?.subscriptionIdentifier;
    const delivery = this.acks.track(packet);
    const routes = this.routes;
    for (let i = 0; i < routes.length; i++) {
      const route = routes[i] as Route;
      if (ids !== undefined) {
        const id = this.brokerFilters.get(route.filter.mqtt)?.id;
        if (id === undefined || (typeof ids === 'number' ? ids !== id : !ids.includes(id))) continue;
      }
      const params = matchTopic(route.filter, topic);
      if (params !== undefined) route.handler(topic, payload, packet, params, delivery);
    }
    // The router's own hold: with no node holding it, the message is acknowledged now.
    delivery?.release();
  }

  /**
   * Starts routing matching messages to `handler`; returns the function that stops it. Stopping
   * with `keepAtBroker` leaves the broker's subscription in place: on shutdown, a persistent
   * session must keep it so the broker queues what arrives while the engine is away.
   */
  subscribe(filter: TopicFilter, qos: 0 | 1 | 2, handler: MessageHandler): (keepAtBroker?: boolean) => void {
    const route: Route = { filter, handler };
    this.routes = [...this.routes, route];
    let entry = this.brokerFilters.get(filter.mqtt);
    const needsSubscribe = !entry || entry.qos < qos;
    if (entry) {
      entry.count++;
      entry.qos = Math.max(entry.qos, qos) as 0 | 1 | 2;
    } else {
      entry = { qos, count: 1, id: this.nextSubscriptionId++ };
      this.brokerFilters.set(filter.mqtt, entry);
    }
    if (needsSubscribe) {
      const options = this.useIdentifiers
        ? { qos: entry.qos, properties: { subscriptionIdentifier: entry.id } }
        : { qos: entry.qos };
      this.client.subscribe(filter.mqtt, options, (error) => {
        const fields = { connection: this.id, filter: filter.mqtt, qos: entry.qos };
        // mqtt.js subscribes again on (re)connect, so an offline subscribe is deferred, not lost.
        if (!error) this.log.info(fields, 'subscribed');
        else if (!this.client.connected) this.log.info(fields, 'subscription deferred until connected');
        else this.log.error({ ...fields, error: error.message }, 'subscribe failed');
      });
    }
    let active = true;
    return (keepAtBroker = false) => {
      if (!active) return;
      active = false;
      this.routes = this.routes.filter((r) => r !== route);
      const entry = this.brokerFilters.get(filter.mqtt);
      if (!entry) return;
      if (--entry.count > 0) return;
      this.brokerFilters.delete(filter.mqtt);
      if (this.state !== 'closed' && !keepAtBroker) {
        this.client.unsubscribe(filter.mqtt, (error) => {
          if (error)
            this.log.warn({ connection: this.id, filter: filter.mqtt, error: error.message }, 'unsubscribe failed');
          else this.log.info({ connection: this.id, filter: filter.mqtt }, 'unsubscribed');
        });
      }
    };
  }

  publish(topic: string, payload: Buffer | string, qos: 0 | 1 | 2, retain: boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      this.client.publish(topic, payload, { qos, retain }, (error) => (error ? reject(error) : resolve()));
    });
  }

  status(): ConnectionStatus {
    return {
      id: this.id,
      state: this.state,
      url: this.url,
      connects: this.connects,
      lastError: this.lastError,
      users: this.users,
      subscriptions: this.brokerFilters.size,
      unacknowledged: this.acks.unacknowledged,
      downSinceMono: this.downSinceMono,
      ackLatency: this.acks.latency.snapshot(),
    };
  }

  async close(): Promise<void> {
    this.state = 'closed';
    this.downSinceMono ??= performance.now();
    // Without a connection nothing queued can be sent or acknowledged; a graceful end would wait
    // for those acknowledgements (an unsubscribe sent while offline, say) forever.
    await this.client.endAsync(!this.client.connected);
    await this.embedded?.stop();
  }
}

/** Connections after `${env:...}` references were resolved. */
export type ResolvedConnection = FlowConnection;

/** Hands out shared connections, counting users; the last user to leave closes it. */
export class ConnectionManager {
  private readonly connections = new Map<string, Promise<SharedConnection>>();
  private readonly ready = new Map<string, SharedConnection>();

  constructor(private readonly log: Logger) {}

  /** The key changes when anything in the connection's config changes, so a changed connection is a new one. */
  static key(connection: ResolvedConnection): string {
    return JSON.stringify(connection);
  }

  async acquire(connection: ResolvedConnection): Promise<SharedConnection> {
    const key = ConnectionManager.key(connection);
    let pending = this.connections.get(key);
    if (!pending) {
      pending = this.open(connection);
      this.connections.set(key, pending);
      pending.then(
        (c) => this.ready.set(key, c),
        () => this.connections.delete(key),
      );
    }
    const shared = await pending;
    shared.users++;
    return shared;
  }

  async release(connection: ResolvedConnection): Promise<void> {
    const key = ConnectionManager.key(connection);
    const shared = this.ready.get(key);
    if (!shared) return;
    if (--shared.users > 0) return;
    this.ready.delete(key);
    this.connections.delete(key);
    await shared.close();
    this.log.info({ connection: connection.id }, 'mqtt connection closed (no more users)');
  }

  status(): ConnectionStatus[] {
    return [...this.ready.values()].map((c) => c.status());
  }

  async closeAll(): Promise<void> {
    const all = [...this.ready.values()];
    this.ready.clear();
    this.connections.clear();
    await Promise.allSettled(all.map((c) => c.close()));
  }

  private async open(connection: ResolvedConnection): Promise<SharedConnection> {
    let embedded: EmbeddedBroker | undefined;
    let url = connection.url ?? '';
    if (connection.embedded) {
      embedded = await EmbeddedBroker.start(connection.embedded.port, this.log);
      url = embedded.url;
    }
    const options = mqttClientOptions(connection);
    this.log.info({ connection: connection.id, url, protocolVersion: options.protocolVersion }, 'mqtt connecting');
    return new SharedConnection(connection.id, url, options, this.log, embedded);
  }
}
