import type { FlowConnection } from '../flow/flowDocument.js';

/**
 * The topic explorer's part of the protocol (issue 6): live topic trees of any number of broker
 * connections, aggregated in the engine and sent to the page as batched deltas, never one event
 * per message. Merged into ProtocolMethods / ProtocolEvents in protocol.ts.
 */

/** Tree deltas of one connection: at most one per this many milliseconds (10 a second). */
export const EXPLORER_DELTA_INTERVAL_MS = 100;
/** Largest number of topics in one `explorer.delta`; the rest follow in the next one (`more`). */
export const MAX_DELTA_TOPICS = 5000;
/** Characters of payload preview carried per topic in the tree. */
export const TOPIC_PREVIEW_CHARS = 120;

/** A broker the explorer watches: a flow connection (same schema, same secret references) plus filters. */
export interface ExplorerConnectionConfig {
  /** The broker, exactly as a flow's `connections[]` entry (`embedded` for the built-in broker). */
  readonly connection: FlowConnection;
  /** Subscription filters, default `["#"]`. */
  readonly filters: readonly string[];
  /** Whether the explorer connects (false keeps the entry but disconnects). */
  readonly enabled: boolean;
}

export type ExplorerConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'closed' | 'failed';

export interface ExplorerConnectionInfo {
  readonly config: ExplorerConnectionConfig;
  readonly state: ExplorerConnectionState;
  readonly url: string;
  readonly lastError: string | undefined;
  /** Messages received since the connection was added or the tree cleared. */
  readonly messages: number;
  readonly topics: number;
  /** Messages per second over the last second. */
  readonly rate: number;
  /** Topics not tracked because the per-connection topic cap was reached. */
  readonly droppedTopics: number;
}

/** Aggregates of one topic (a leaf that received messages). Folder aggregates are the page's sums. */
export interface TopicStat {
  readonly topic: string;
  readonly count: number;
  readonly bytes: number;
  /** Messages per second (exponentially weighted over a few seconds). */
  readonly rate: number;
  /** Epoch ms of the last message. */
  readonly lastAt: number;
  /** Whether the last message was delivered with the retain flag (a retained value on the broker). */
  readonly retained: boolean;
  readonly qos: 0 | 1 | 2;
  /** Size in bytes of the last payload. */
  readonly size: number;
  /** The first TOPIC_PREVIEW_CHARS characters of the last payload as text. */
  readonly preview: string;
}

/** TopicStat[] by field: entry i of every array is topic i (`retained` as 0/1). */
export interface TopicColumns {
  readonly topic: readonly string[];
  readonly count: readonly number[];
  readonly bytes: readonly number[];
  readonly rate: readonly number[];
  readonly lastAt: readonly number[];
  readonly retained: readonly (0 | 1)[];
  readonly qos: readonly (0 | 1 | 2)[];
  readonly size: readonly number[];
  readonly preview: readonly string[];
}

/** MQTT 5 publish properties as the page shows them (binary values in base64). */
export interface TopicMessageProperties {
  readonly payloadFormatIndicator?: boolean;
  readonly messageExpiryInterval?: number;
  readonly contentType?: string;
  readonly responseTopic?: string;
  readonly correlationDataBase64?: string;
  readonly topicAlias?: number;
  readonly subscriptionIdentifier?: number | readonly number[];
  readonly userProperties?: Readonly<Record<string, string | readonly string[]>>;
}

/** One message of a topic's bounded history. */
export interface TopicMessage {
  /** Increasing per connection; `sinceSeq` pages on it. */
  readonly seq: number;
  readonly topic: string;
  readonly at: number;
  readonly qos: 0 | 1 | 2;
  readonly retain: boolean;
  readonly size: number;
  readonly payloadBase64: string;
  readonly properties?: TopicMessageProperties;
}

export interface RecordingInfo {
  readonly connection: string;
  /** Topic filters recorded. */
  readonly filters: readonly string[];
  readonly active: boolean;
  readonly rows: number;
  readonly bytes: number;
  readonly oldestAt: number | null;
  readonly newestAt: number | null;
  /** Retention: rows older than this are deleted (0 = keep by count only). */
  readonly maxAgeMs: number;
  readonly maxRows: number;
}

export interface InferredSchema {
  /** A JSON Schema (draft 2020-12 subset the validate node accepts). */
  readonly schema: unknown;
  /** Payloads the schema was inferred from, and how many of them were not JSON objects. */
  readonly samples: number;
  readonly skipped: number;
  readonly topics: readonly string[];
  /** How the payloads decode: what an mqtt-in node's `decode` should be. */
  readonly decode: 'json' | 'text' | 'number';
}

type ConnectionRef = { readonly connection: string };

export interface ExplorerMethods {
  'explorer.connections.list': {
    params: Record<string, never>;
    result: { readonly connections: readonly ExplorerConnectionInfo[] };
  };
  /** Adds or replaces (by `connection.id`) a connection and (re)connects it; saved in the data dir. */
  'explorer.connections.save': {
    params: { readonly config: ExplorerConnectionConfig };
    result: ExplorerConnectionInfo;
  };
  'explorer.connections.remove': { params: ConnectionRef; result: { readonly removed: boolean } };
  /**
   * Every topic of a connection's tree; deltas with a higher `seq` follow as `explorer.delta`. With
   * `columns: true` the topics come as TopicColumns instead of `topics` (about half the bytes, and
   * several times cheaper to serialize and parse at 100,000 topics).
   */
  'explorer.tree.snapshot': {
    params: ConnectionRef & { readonly columns?: boolean };
    result: {
      readonly connection: string;
      readonly seq: number;
      readonly topics: readonly TopicStat[];
      readonly columns?: TopicColumns;
    };
  };
  /** Forgets a connection's tree and histories (not the broker's retained messages). */
  'explorer.tree.clear': { params: ConnectionRef; result: { readonly cleared: number } };
  /** The bounded history of one topic, oldest first; with `sinceSeq` only newer messages. */
  'explorer.topic.history': {
    params: ConnectionRef & { readonly topic: string; readonly sinceSeq?: number; readonly limit?: number };
    result: { readonly messages: readonly TopicMessage[]; readonly evicted: number };
  };
  'explorer.publish': {
    params: ConnectionRef & {
      readonly topic: string;
      /** Text, or base64 when `encoding` is `base64`. */
      readonly payload: string;
      readonly encoding?: 'utf8' | 'base64';
      readonly qos: 0 | 1 | 2;
      readonly retain: boolean;
      readonly properties?: TopicMessageProperties;
    };
    result: { readonly published: true };
  };
  /**
   * Clears retained messages (an empty retained publish per topic): `topic` alone, or with
   * `subtree` every topic under it that the tree saw retained. The page confirms first.
   */
  'explorer.retained.clear': {
    params: ConnectionRef & { readonly topic: string; readonly subtree: boolean };
    result: { readonly cleared: readonly string[] };
  };
  'explorer.recording.start': {
    params: ConnectionRef & {
      readonly filters: readonly string[];
      readonly maxAgeMs?: number;
      readonly maxRows?: number;
    };
    result: RecordingInfo;
  };
  'explorer.recording.stop': { params: ConnectionRef; result: RecordingInfo };
  'explorer.recording.list': {
    params: Record<string, never>;
    result: { readonly recordings: readonly RecordingInfo[] };
  };
  /** Recorded messages as JSON Lines or CSV text (bounded by `limit`; `truncated` says when more exist). */
  'explorer.recording.export': {
    params: ConnectionRef & {
      readonly format: 'jsonl' | 'csv';
      readonly filter?: string;
      readonly from?: number;
      readonly to?: number;
      readonly limit?: number;
    };
    result: { readonly text: string; readonly rows: number; readonly truncated: boolean };
  };
  /** Numeric points of a topic (the payload, or a JSON field by dotted path) from history and recording. */
  'explorer.series': {
    params: ConnectionRef & {
      readonly topic: string;
      readonly field?: string;
      readonly sinceSeq?: number;
      readonly limit?: number;
    };
    result: { readonly points: readonly (readonly [at: number, value: number])[]; readonly lastSeq: number };
  };
  /** Infers a JSON Schema from the history of a topic or of every topic matching a filter. */
  'explorer.inferSchema': { params: ConnectionRef & { readonly filter: string }; result: InferredSchema };
}

export interface ExplorerEvents {
  /** Topics of one connection changed since the last delta; at most 10 a second per connection. */
  'explorer.delta': {
    readonly connection: string;
    readonly seq: number;
    readonly topics: readonly TopicStat[];
    /** True when more changed topics wait for the next delta (MAX_DELTA_TOPICS). */
    readonly more: boolean;
  };
  /** Connection states and rates; at most once a second, and on every state change. */
  'explorer.connections': { readonly connections: readonly ExplorerConnectionInfo[] };
}

export const EXPLORER_METHOD_NAMES: readonly (keyof ExplorerMethods)[] = [
  'explorer.connections.list',
  'explorer.connections.save',
  'explorer.connections.remove',
  'explorer.tree.snapshot',
  'explorer.tree.clear',
  'explorer.topic.history',
  'explorer.publish',
  'explorer.retained.clear',
  'explorer.recording.start',
  'explorer.recording.stop',
  'explorer.recording.list',
  'explorer.recording.export',
  'explorer.series',
  'explorer.inferSchema',
];
