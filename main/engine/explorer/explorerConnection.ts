import { connect, type IClientPublishOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { FlowConnection } from '../../../shared/flow/flowDocument.js';
import { mapStrings, resolveReferences } from '../../../shared/references.js';
import { matchTopic, parseTopicFilter, type TopicFilter } from '../../../shared/topicFilter.js';
import { minimalFilters } from '../../../shared/explorer/topicFilters.js';
import type {
  ExplorerConnectionConfig,
  ExplorerConnectionInfo,
  ExplorerConnectionState,
  TopicMessageProperties,
} from '../../../shared/protocol/explorerProtocol.js';
import type { Logger } from '../logger.js';
import { mqttClientOptions } from '../mqtt/clientOptions.js';
import { reconnectDelay } from '../mqtt/connectionManager.js';
import { EmbeddedBroker } from '../mqtt/embeddedBroker.js';
import { ExplorerError } from './explorerConfig.js';
import { TopicTree, type HistoryBudget, type TopicTreeLimits } from './topicTree.js';

/** How long a publish may wait for the broker's acknowledgement. */
const PUBLISH_TIMEOUT_MS = 10_000;

export type Lookup = (name: string) => string | undefined;

/** A message as the recorder takes it (called only while a recording of the connection is active). */
export type RecordTap = (
  topic: string,
  payload: Buffer,
  qos: 0 | 1 | 2,
  retain: boolean,
  properties: TopicMessageProperties | undefined,
  at: number,
  seq: number,
) => void;

export interface ExplorerConnectionOptions {
  readonly log: Logger;
  readonly lookup: Lookup;
  readonly budget: HistoryBudget;
  readonly limits?: TopicTreeLimits;
  /** Called on every state change. */
  readonly onState: () => void;
}

interface Subscription {
  readonly filter: TopicFilter;
  /** MQTT 5 subscription identifier (only with several filters, to drop overlapping copies). */
  readonly id: number;
}

/**
 * One broker the explorer watches: an mqtt.js client (MQTT 3.1.1 or 5, mqtt/mqtts/ws/wss, TLS
 * and mTLS as the flow format describes), its subscriptions and its topic tree. Secrets are
 * resolved from references at connect time, in memory only. Reconnects with the same backoff as
 * the flow engine's connections.
 */
export class ExplorerConnection {
  readonly tree: TopicTree;
  private stateValue: ExplorerConnectionState = 'connecting';
  private urlValue = '';
  private lastError: string | undefined;
  private client: MqttClient | undefined;
  private embedded: EmbeddedBroker | undefined;
  private attempts = 0;
  private subscriptions = new Map<string, Subscription>();
  private nextSubscriptionId = 1;
  private v5 = false;
  private closing = false;
  private started: Promise<void> | undefined;
  /** Set by the recorder while a recording of this connection is active. */
  record: RecordTap | undefined;

  constructor(
    private configValue: ExplorerConnectionConfig,
    private readonly options: ExplorerConnectionOptions,
  ) {
    this.tree = new TopicTree(options.budget, options.limits);
    if (!configValue.enabled) this.stateValue = 'closed';
  }

  get id(): string {
    return this.configValue.connection.id;
  }

  get config(): ExplorerConnectionConfig {
    return this.configValue;
  }

  get state(): ExplorerConnectionState {
    return this.stateValue;
  }

  get url(): string {
    return this.urlValue;
  }

  get protocolVersion(): 4 | 5 {
    return this.v5 ? 5 : 4;
  }

  info(): ExplorerConnectionInfo {
    return {
      config: this.configValue,
      state: this.stateValue,
      url: this.urlValue,
      lastError: this.lastError,
      messages: this.tree.messages,
      topics: this.tree.size,
      rate: this.tree.rate,
      droppedTopics: this.tree.droppedTopics,
    };
  }

  /** Connects (when enabled). Never throws: a failure shows as state `failed` with `lastError`. */
  start(): Promise<void> {
    this.started ??= this.open();
    return this.started;
  }

  private setState(state: ExplorerConnectionState, error?: string): void {
    if (error !== undefined) this.lastError = error;
    if (state === this.stateValue && error === undefined) return;
    this.stateValue = state;
    this.options.onState();
  }

  private async open(): Promise<void> {
    if (!this.configValue.enabled) return this.setState('closed');
    const log = this.options.log;
    let resolved: FlowConnection;
    try {
      resolved = mapStrings(this.configValue.connection, (value, pointer) => {
        try {
          return resolveReferences(value, this.options.lookup);
        } catch (error) {
          throw new Error(`connection "${this.id}" ${pointer.slice(1) || 'value'}: ${(error as Error).message}`);
        }
      }) as FlowConnection;
    } catch (error) {
      return this.setState('failed', (error as Error).message);
    }
    try {
      let url = resolved.url ?? '';
      if (resolved.embedded) {
        this.embedded = await EmbeddedBroker.start(resolved.embedded.port, log);
        if (this.closing) {
          await this.embedded.stop();
          return;
        }
        url = this.embedded.url;
      }
      // What the page and the log see: a password inside the URL (from a reference) is masked.
      this.urlValue = maskUrlPassword(url);
      const options = mqttClientOptions(resolved);
      this.v5 = options.protocolVersion === 5;
      log.info(
        { explorer: this.id, url: this.urlValue, protocolVersion: options.protocolVersion },
        'explorer connecting',
      );
      const client = connect(url, { ...options, reconnectPeriod: reconnectDelay(0) });
      this.client = client;
      client.on('connect', () => {
        (client.stream as { setNoDelay?: (on: boolean) => void } | undefined)?.setNoDelay?.(true);
        this.attempts = 0;
        this.lastError = undefined;
        client.options.reconnectPeriod = reconnectDelay(0);
        log.info({ explorer: this.id, url: this.urlValue }, 'explorer connected');
        this.setState('connected');
      });
      // Prepended so the next delay is in place before mqtt.js schedules its reconnect (as SharedConnection).
      client.prependListener('close', () => {
        if (this.closing) return;
        client.options.reconnectPeriod = reconnectDelay(this.attempts++);
        this.setState('reconnecting');
      });
      client.on('error', (error) => {
        log.warn({ explorer: this.id, url: this.urlValue, error: error.message }, 'explorer mqtt error');
        this.setState(this.stateValue, error.message);
      });
      client.on('message', (topic, payload, packet) => this.onMessage(topic, payload, packet));
      this.applyFilters(this.configValue.filters);
    } catch (error) {
      this.setState('failed', (error as Error).message);
    }
  }

  private onMessage(topic: string, payload: Buffer, packet: IPublishPacket): void {
    const properties = packet.properties;
    if (
      properties?.subscriptionIdentifier !== undefined &&
      this.subscriptions.size > 1 &&
      !this.isFirstCopy(topic, properties.subscriptionIdentifier)
    ) {
      return;
    }
    const props = properties === undefined ? undefined : toTopicProperties(properties);
    const at = Date.now();
    const qos = packet.qos;
    this.tree.add(topic, payload, qos, packet.retain, props, at);
    if (this.record !== undefined) this.record(topic, payload, qos, packet.retain, props, at, this.tree.seq);
  }

  /**
   * Overlapping filters (`a/+` and `+/b`) make the broker send one copy per subscription; each
   * names its subscription, and only the copy for the first matching filter counts.
   */
  private isFirstCopy(topic: string, ids: number | number[]): boolean {
    for (const s of this.subscriptions.values()) {
      if (matchTopic(s.filter, topic) !== undefined) return typeof ids === 'number' ? ids === s.id : ids.includes(s.id);
    }
    return true;
  }

  /** Subscribes the new filters and unsubscribes the old ones, without reconnecting. */
  updateFilters(filters: readonly string[]): void {
    this.configValue = { ...this.configValue, filters: [...filters] };
    if (this.client) this.applyFilters(filters);
  }

  private applyFilters(filters: readonly string[]): void {
    const client = this.client;
    if (!client) return;
    const wanted = minimalFilters(filters);
    const removed = [...this.subscriptions.keys()].filter((f) => !wanted.includes(f));
    for (const f of removed) this.subscriptions.delete(f);
    if (removed.length > 0) {
      client.unsubscribe(removed, (error) => {
        if (error)
          this.options.log.warn({ explorer: this.id, filters: removed, error: error.message }, 'unsubscribe failed');
      });
    }
    for (const f of wanted) {
      if (this.subscriptions.has(f)) continue;
      const id = this.nextSubscriptionId++;
      this.subscriptions.set(f, { filter: parseTopicFilter(f), id });
      // QoS 2 so each message shows the QoS it was published with; MQTT 5 "retain as published"
      // so the retain flag of live messages tells which topics hold a retained value.
      const options = this.v5
        ? { qos: 2 as const, rap: true, properties: { subscriptionIdentifier: id } }
        : { qos: 2 as const };
      client.subscribe(f, options, (error) => {
        if (error && client.connected) {
          this.options.log.warn({ explorer: this.id, filter: f, error: error.message }, 'subscribe failed');
          this.setState(this.stateValue, `subscribe ${f}: ${error.message}`);
        }
      });
    }
  }

  /** Publishes and waits for the broker's acknowledgement (QoS 1/2) or the write (QoS 0). */
  async publish(
    topic: string,
    payload: Buffer,
    qos: 0 | 1 | 2,
    retain: boolean,
    properties?: TopicMessageProperties,
  ): Promise<void> {
    const client = this.client;
    if (!client || this.stateValue !== 'connected') {
      throw new ExplorerError('unavailable', `connection "${this.id}" is ${this.stateValue}, not connected`);
    }
    const options: IClientPublishOptions = { qos, retain };
    if (properties !== undefined) {
      if (!this.v5)
        throw new ExplorerError('invalid-params', '/properties: MQTT 5 properties need a protocolVersion 5 connection');
      options.properties = toPublishProperties(properties);
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        new Promise<void>((resolve, reject) =>
          client.publish(topic, payload, options, (e) => (e ? reject(e) : resolve())),
        ),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new ExplorerError('unavailable', `no acknowledgement from the broker within ${PUBLISH_TIMEOUT_MS} ms`),
              ),
            PUBLISH_TIMEOUT_MS,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.started;
    this.record = undefined;
    const client = this.client;
    this.client = undefined;
    if (client) await client.endAsync(!client.connected);
    await this.embedded?.stop();
    this.embedded = undefined;
    if (this.stateValue !== 'closed') {
      this.stateValue = 'closed';
      this.options.onState();
    }
  }
}

/** `mqtt://user:secret@host` → `mqtt://user:***@host`. */
export function maskUrlPassword(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^/@:]*):[^/@]*@/i, '$1:***@');
}

type PacketProperties = NonNullable<IPublishPacket['properties']>;

/** MQTT 5 publish properties as the page shows them (binary values in base64). */
export function toTopicProperties(p: PacketProperties): TopicMessageProperties {
  const out: {
    -readonly [K in keyof TopicMessageProperties]: TopicMessageProperties[K];
  } = {};
  if (p.payloadFormatIndicator !== undefined) out.payloadFormatIndicator = p.payloadFormatIndicator;
  if (p.messageExpiryInterval !== undefined) out.messageExpiryInterval = p.messageExpiryInterval;
  if (p.contentType !== undefined) out.contentType = p.contentType;
  if (p.responseTopic !== undefined) out.responseTopic = p.responseTopic;
  if (p.correlationData !== undefined) out.correlationDataBase64 = Buffer.from(p.correlationData).toString('base64');
  if (p.topicAlias !== undefined) out.topicAlias = p.topicAlias;
  if (p.subscriptionIdentifier !== undefined) out.subscriptionIdentifier = p.subscriptionIdentifier;
  // mqtt-packet builds it without a prototype; a plain copy compares and serializes as any object.
  if (p.userProperties !== undefined) out.userProperties = { ...p.userProperties };
  return out;
}

function toPublishProperties(p: TopicMessageProperties): NonNullable<IClientPublishOptions['properties']> {
  return {
    ...(p.payloadFormatIndicator !== undefined ? { payloadFormatIndicator: p.payloadFormatIndicator } : {}),
    ...(p.messageExpiryInterval !== undefined ? { messageExpiryInterval: p.messageExpiryInterval } : {}),
    ...(p.contentType !== undefined ? { contentType: p.contentType } : {}),
    ...(p.responseTopic !== undefined ? { responseTopic: p.responseTopic } : {}),
    ...(p.correlationDataBase64 !== undefined
      ? { correlationData: Buffer.from(p.correlationDataBase64, 'base64') }
      : {}),
    ...(p.userProperties !== undefined
      ? { userProperties: p.userProperties as Record<string, string | string[]> }
      : {}),
  };
}
