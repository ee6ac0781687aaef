import { isValidTopicName } from '../../shared/topicFilter.js';
import { filterProblem } from '../../shared/explorer/topicFilters.js';
import {
  EXPLORER_DELTA_INTERVAL_MS,
  MAX_DELTA_TOPICS,
  type ExplorerEvents,
  type ExplorerMethods,
  type TopicMessageProperties,
} from '../../shared/protocol/explorerProtocol.js';
import type { ErrorCode } from '../../shared/protocol/protocol.js';
import { Explorer, type ExplorerOptions } from '../engine/explorer/explorer.js';
import { ExplorerError, MAX_EXPLORER_FILTERS } from '../engine/explorer/explorerConfig.js';
import {
  DEFAULT_EXPORT_LIMIT,
  DEFAULT_RECORDING_MAX_AGE_MS,
  DEFAULT_RECORDING_MAX_ROWS,
  MAX_EXPORT_LIMIT,
  MAX_RECORDING_ROWS,
} from '../engine/explorer/recorder.js';

/** Largest payload `explorer.publish` sends (after base64 decoding). */
export const MAX_PUBLISH_BYTES = 1024 * 1024;
export const MAX_HISTORY_PAGE = 1000;
export const MAX_SERIES_POINTS = 10_000;
const MAX_AGE_MS = 366 * 24 * 60 * 60 * 1000;
/** The delta timer's period: a quarter of the interval, so a delta goes out 100–125 ms after the previous one. */
const TICK_MS = EXPLORER_DELTA_INTERVAL_MS / 4;
/** `explorer.connections` at most this often (plus on every state change). */
const CONNECTIONS_EVENT_INTERVAL_MS = 1000;

/** A failure the protocol answers with `{ ok: false, error }` (EngineService turns it into one). */
export class ExplorerFailure extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ExplorerFailure';
  }
}

export type ExplorerEmit = <E extends keyof ExplorerEvents>(event: E, data: ExplorerEvents[E]) => void;

type Handlers = {
  [M in keyof ExplorerMethods]: () => Promise<ExplorerMethods[M]['result']> | ExplorerMethods[M]['result'];
};

/**
 * The explorer's protocol methods and events. Parameters are checked here (an `invalid-params`
 * answer names the field); the work is the engine's Explorer. Deltas go out per connection at
 * most every EXPLORER_DELTA_INTERVAL_MS and only when something changed, in chunks of
 * MAX_DELTA_TOPICS; `explorer.connections` at most once a second plus on every state change.
 */
export class ExplorerService {
  private emitter: ExplorerEmit | undefined;
  private hasListeners: () => boolean = () => false;
  private readonly timer: NodeJS.Timeout;
  private lastSecondAt = performance.now();
  /** performance.now() of each connection's last delta. */
  private readonly lastDeltaAt = new Map<string, number>();
  private lastConnectionsText = '';
  private stateChanged = false;
  private stateTimer: NodeJS.Immediate | undefined;
  private lastConnectionsAt = 0;
  private disposed = false;

  constructor(readonly explorer: Explorer) {
    explorer.onDidChangeState = () => this.onStateChange();
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  /** Opens the explorer (connections, recordings) and its service. */
  static async open(options: ExplorerOptions): Promise<ExplorerService> {
    return new ExplorerService(await Explorer.open(options));
  }

  /** Where events go; `hasListeners` says whether anyone listens (no deltas are built otherwise). */
  attach(emit: ExplorerEmit, hasListeners: () => boolean): void {
    this.emitter = emit;
    this.hasListeners = hasListeners;
  }

  private tick(): void {
    if (this.disposed) return;
    const now = Date.now();
    const mono = performance.now();
    const listening = this.emitter !== undefined && this.hasListeners();
    const second = mono - this.lastSecondAt >= CONNECTIONS_EVENT_INTERVAL_MS;
    if (second) this.lastSecondAt = mono;
    for (const connection of this.explorer.connections()) {
      const tree = connection.tree;
      if (second) {
        tree.sampleRate(now);
        tree.sweepRates(now);
      }
      if (!tree.hasChanges) continue;
      if (!listening) {
        tree.dropChanges();
        continue;
      }
      // Measured from this connection's previous delta, so two are never closer than the interval.
      const last = this.lastDeltaAt.get(connection.id) ?? -Infinity;
      if (mono - last < EXPLORER_DELTA_INTERVAL_MS) continue;
      this.lastDeltaAt.set(connection.id, mono);
      const delta = tree.takeDelta(MAX_DELTA_TOPICS, now);
      this.emitter?.('explorer.delta', { connection: connection.id, ...delta });
    }
    if (second && listening) this.emitConnections(false);
  }

  private onStateChange(): void {
    if (this.disposed) return;
    this.stateChanged = true;
    // Coalesces the changes of one turn of the event loop into one event.
    this.stateTimer ??= setImmediate(() => {
      this.stateTimer = undefined;
      if (this.emitter !== undefined && this.hasListeners()) this.emitConnections(true);
    });
  }

  private emitConnections(stateChange: boolean): void {
    const connections = this.explorer.list();
    const text = JSON.stringify(connections);
    if (text === this.lastConnectionsText && !this.stateChanged) return;
    // Rates alone: at most once a second.
    if (!stateChange && !this.stateChanged && Date.now() - this.lastConnectionsAt < CONNECTIONS_EVENT_INTERVAL_MS - 50)
      return;
    this.lastConnectionsText = text;
    this.stateChanged = false;
    this.lastConnectionsAt = Date.now();
    this.emitter?.('explorer.connections', { connections });
  }

  /** The handlers of every explorer method for one request's params. */
  handlers(p: Record<string, unknown>): Handlers {
    const explorer = this.explorer;
    return {
      'explorer.connections.list': () => ({ connections: explorer.list() }),
      'explorer.connections.save': () => guard(() => explorer.save(p['config'])),
      'explorer.connections.remove': () =>
        guard(async () => {
          const id = connectionId(p);
          this.lastDeltaAt.delete(id);
          return { removed: await explorer.remove(id) };
        }),
      'explorer.tree.snapshot': () =>
        guard(() => {
          const id = connectionId(p);
          const columns = p['columns'];
          if (columns !== undefined && typeof columns !== 'boolean') {
            throw new ExplorerFailure('invalid-params', '"columns" must be true or false');
          }
          const tree = explorer.get(id).tree;
          if (columns) {
            const { seq, columns: c } = tree.snapshotColumns();
            return { connection: id, seq, topics: [], columns: c };
          }
          return { connection: id, ...tree.snapshot() };
        }),
      'explorer.tree.clear': () =>
        guard(() => {
          const cleared = explorer.get(connectionId(p)).tree.clear();
          // Other pages learn it from the connection's topic count (0) and take a new snapshot.
          this.onStateChange();
          return { cleared };
        }),
      'explorer.topic.history': () =>
        guard(() =>
          explorer
            .get(connectionId(p))
            .tree.history(
              requiredString(p, 'topic'),
              optionalInt(p, 'sinceSeq', 0, Number.MAX_SAFE_INTEGER) ?? 0,
              optionalInt(p, 'limit', 1, MAX_HISTORY_PAGE) ?? MAX_HISTORY_PAGE,
            ),
        ),
      'explorer.publish': () =>
        guard(async () => {
          const id = connectionId(p);
          const topic = topicName(p, 'topic');
          const payload = publishPayload(p);
          const qos = qosOf(p);
          const retain = requiredBoolean(p, 'retain');
          const properties = publishProperties(p['properties']);
          await explorer.publish(id, topic, payload, qos, retain, properties);
          return { published: true as const };
        }),
      'explorer.retained.clear': () =>
        guard(async () => {
          const id = connectionId(p);
          const subtree = requiredBoolean(p, 'subtree');
          const topic = topicName(p, 'topic');
          return { cleared: await explorer.clearRetained(id, topic, subtree) };
        }),
      'explorer.recording.start': () =>
        guard(() =>
          explorer.startRecording(
            connectionId(p),
            filterList(p, 'filters'),
            optionalInt(p, 'maxAgeMs', 0, MAX_AGE_MS) ?? DEFAULT_RECORDING_MAX_AGE_MS,
            optionalInt(p, 'maxRows', 1, MAX_RECORDING_ROWS) ?? DEFAULT_RECORDING_MAX_ROWS,
          ),
        ),
      'explorer.recording.stop': () => guard(() => explorer.stopRecording(connectionId(p))),
      'explorer.recording.list': () => ({ recordings: explorer.recorder.list() }),
      'explorer.recording.export': () =>
        guard(() => {
          const id = connectionId(p);
          const format = p['format'];
          if (format !== 'jsonl' && format !== 'csv') throw invalidParams('format', 'must be "jsonl" or "csv"');
          const filter = optionalString(p, 'filter');
          if (filter !== undefined) checkFilter(filter, 'filter');
          const from = optionalInt(p, 'from', 0, Number.MAX_SAFE_INTEGER);
          const to = optionalInt(p, 'to', 0, Number.MAX_SAFE_INTEGER);
          const limit = optionalInt(p, 'limit', 1, MAX_EXPORT_LIMIT) ?? DEFAULT_EXPORT_LIMIT;
          if (!explorer.recorder.get(id)) throw new ExplorerFailure('not-found', `no recording of connection "${id}"`);
          return explorer.recorder.export(id, format, {
            ...(filter !== undefined ? { filter } : {}),
            ...(from !== undefined ? { from } : {}),
            ...(to !== undefined ? { to } : {}),
            limit,
          });
        }),
      'explorer.series': () =>
        guard(() => {
          const field = optionalString(p, 'field');
          if (field !== undefined && (field.length > 200 || field.split('.').some((k) => k === ''))) {
            throw invalidParams('field', 'must be a dotted path such as "a.b.0", at most 200 characters');
          }
          return explorer.series(
            connectionId(p),
            requiredString(p, 'topic'),
            field,
            optionalInt(p, 'sinceSeq', 0, Number.MAX_SAFE_INTEGER),
            optionalInt(p, 'limit', 1, MAX_SERIES_POINTS) ?? 1000,
          );
        }),
      'explorer.inferSchema': () =>
        guard(() => {
          const id = connectionId(p);
          const filter = requiredString(p, 'filter');
          checkFilter(filter, 'filter');
          return explorer.inferSchema(id, filter);
        }),
    };
  }

  /** Closes clients, timers, embedded brokers and the recording database. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    clearInterval(this.timer);
    if (this.stateTimer) clearImmediate(this.stateTimer);
    this.emitter = undefined;
    await this.explorer.close();
  }
}

/** Runs a handler and maps the engine's ExplorerError to a protocol failure. */
async function guard<T>(run: () => T | Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof ExplorerError) {
      throw new ExplorerFailure(error.code === 'unavailable' ? 'internal' : error.code, error.message);
    }
    throw error;
  }
}

function invalidParams(field: string, message: string): ExplorerFailure {
  return new ExplorerFailure('invalid-params', `"${field}" ${message}`);
}

function requiredString(p: Record<string, unknown>, key: string): string {
  const value = p[key];
  if (typeof value !== 'string' || value === '') throw invalidParams(key, 'must be a non-empty string');
  if (value.length > 65_535) throw invalidParams(key, 'is longer than 65535 characters');
  return value;
}

function optionalString(p: Record<string, unknown>, key: string): string | undefined {
  return p[key] === undefined ? undefined : requiredString(p, key);
}

function connectionId(p: Record<string, unknown>): string {
  return requiredString(p, 'connection');
}

function requiredBoolean(p: Record<string, unknown>, key: string): boolean {
  const value = p[key];
  if (typeof value !== 'boolean') throw invalidParams(key, 'must be true or false');
  return value;
}

function optionalInt(p: Record<string, unknown>, key: string, min: number, max: number): number | undefined {
  const value = p[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw invalidParams(key, `must be an integer from ${min} to ${max}`);
  }
  return value;
}

function topicName(p: Record<string, unknown>, key: string): string {
  const topic = requiredString(p, key);
  if (!isValidTopicName(topic)) throw invalidParams(key, 'must be a topic name without + or # (and no NUL)');
  return topic;
}

function checkFilter(filter: string, field: string): void {
  const problem = filterProblem(filter);
  if (problem) throw invalidParams(field, problem);
}

function filterList(p: Record<string, unknown>, key: string): string[] {
  const value = p[key];
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_EXPLORER_FILTERS) {
    throw invalidParams(key, `must be 1 to ${MAX_EXPLORER_FILTERS} topic filters`);
  }
  return value.map((f: unknown, i) => {
    if (typeof f !== 'string' || f === '') throw invalidParams(`${key}/${i}`, 'must be a non-empty string');
    checkFilter(f, `${key}/${i}`);
    return f;
  });
}

function qosOf(p: Record<string, unknown>): 0 | 1 | 2 {
  const qos = p['qos'];
  if (qos !== 0 && qos !== 1 && qos !== 2) throw invalidParams('qos', 'must be 0, 1 or 2');
  return qos;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function publishPayload(p: Record<string, unknown>): Buffer {
  const payload = p['payload'];
  if (typeof payload !== 'string')
    throw invalidParams('payload', 'must be a string (text, or base64 with "encoding": "base64")');
  const encoding = p['encoding'] ?? 'utf8';
  if (encoding !== 'utf8' && encoding !== 'base64') throw invalidParams('encoding', 'must be "utf8" or "base64"');
  if (payload.length > MAX_PUBLISH_BYTES * 2)
    throw invalidParams('payload', `is larger than ${MAX_PUBLISH_BYTES} bytes`);
  if (encoding === 'base64' && !BASE64.test(payload)) throw invalidParams('payload', 'is not valid base64');
  const bytes = Buffer.from(payload, encoding);
  if (bytes.length > MAX_PUBLISH_BYTES)
    throw invalidParams('payload', `is ${bytes.length} bytes; the limit is ${MAX_PUBLISH_BYTES}`);
  return bytes;
}

/** Checks MQTT 5 publish properties from the page (only those a client may send). */
function publishProperties(value: unknown): TopicMessageProperties | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw invalidParams('properties', 'must be an object');
  const v = value as Record<string, unknown>;
  const out: { -readonly [K in keyof TopicMessageProperties]: TopicMessageProperties[K] } = {};
  for (const [key, item] of Object.entries(v)) {
    const field = `properties/${key}`;
    switch (key) {
      case 'payloadFormatIndicator':
        if (typeof item !== 'boolean') throw invalidParams(field, 'must be true or false');
        out.payloadFormatIndicator = item;
        break;
      case 'messageExpiryInterval':
        if (typeof item !== 'number' || !Number.isSafeInteger(item) || item < 0 || item > 4294967295) {
          throw invalidParams(field, 'must be an integer from 0 to 4294967295 (seconds)');
        }
        out.messageExpiryInterval = item;
        break;
      case 'contentType':
      case 'responseTopic':
        if (typeof item !== 'string' || item.length > 65_535) throw invalidParams(field, 'must be a string');
        if (key === 'responseTopic' && !isValidTopicName(item)) throw invalidParams(field, 'must be a topic name');
        out[key] = item;
        break;
      case 'correlationDataBase64':
        if (typeof item !== 'string' || !BASE64.test(item) || item.length > 87_384) {
          throw invalidParams(field, 'must be base64 of at most 65535 bytes');
        }
        out.correlationDataBase64 = item;
        break;
      case 'userProperties': {
        if (item === null || typeof item !== 'object' || Array.isArray(item))
          throw invalidParams(field, 'must be an object');
        const entries = Object.entries(item as Record<string, unknown>);
        if (entries.length > 100) throw invalidParams(field, 'has more than 100 names');
        for (const [name, v2] of entries) {
          const ok =
            typeof v2 === 'string' || (Array.isArray(v2) && v2.length <= 100 && v2.every((s) => typeof s === 'string'));
          if (!ok) throw invalidParams(`${field}/${name}`, 'must be a string or an array of strings');
        }
        out.userProperties = item as Record<string, string | string[]>;
        break;
      }
      default:
        throw invalidParams(field, 'is not a property a client may publish');
    }
  }
  return out;
}
