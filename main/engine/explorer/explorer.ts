import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inferPayloads, MAX_INFER_SAMPLES } from '../../../shared/explorer/inferSchema.js';
import { isUnder } from '../../../shared/explorer/topicFilters.js';
import type {
  ExplorerConnectionConfig,
  ExplorerConnectionInfo,
  InferredSchema,
  RecordingInfo,
  TopicMessageProperties,
} from '../../../shared/protocol/explorerProtocol.js';
import { matchTopic, parseTopicFilter } from '../../../shared/topicFilter.js';
import type { Logger } from '../logger.js';
import {
  checkExplorerConfig,
  defaultExplorerConfig,
  ExplorerError,
  MAX_EXPLORER_CONNECTIONS,
} from './explorerConfig.js';
import { ExplorerConnection, type Lookup } from './explorerConnection.js';
import { Recorder, type RecorderOptions } from './recorder.js';
import { HistoryBudget, type TopicTreeLimits } from './topicTree.js';

export const CONNECTIONS_FILE = 'explorer-connections.json';
export const RECORDING_FILE = 'explorer.db';
const CONNECTIONS_FORMAT = 'topicflow/explorer-connections@1';
/** Concurrent empty retained publishes while clearing a subtree. */
const CLEAR_WINDOW = 100;
/** Topic names listed in an inference result. */
const MAX_INFER_TOPICS = 1000;

export interface ExplorerOptions {
  /** `<dataDir>/explorer-connections.json` and `<dataDir>/explorer.db`. */
  readonly dataDir: string;
  /** Resolves `${env:...}` and `${secret:...}` in connection configs (as `topicflow serve` does for flows). */
  readonly lookup: Lookup;
  readonly logger: Logger;
  /** The connection used when none is saved: the embedded broker on this port; false for none. */
  readonly defaultBroker?: { readonly port: number } | false;
  readonly limits?: TopicTreeLimits;
  /** History bytes across every connection (default 64 MiB). */
  readonly historyBudgetBytes?: number;
  readonly recorder?: RecorderOptions;
}

/**
 * The topic explorer's engine half: the registry of broker connections (saved in the data dir),
 * their topic trees, publishing, retained clearing, recording, series and schema inference.
 * Transport-free: main/server/explorerService.ts checks parameters and sends events.
 */
export class Explorer {
  private readonly connectionsById = new Map<string, ExplorerConnection>();
  private readonly budget: HistoryBudget;
  private saving: Promise<void> = Promise.resolve();
  private closed = false;
  /** Called when any connection's state changes. */
  onDidChangeState: () => void = () => undefined;

  private constructor(
    private readonly options: ExplorerOptions,
    readonly recorder: Recorder,
  ) {
    this.budget = new HistoryBudget(options.historyBudgetBytes);
  }

  static async open(options: ExplorerOptions): Promise<Explorer> {
    mkdirSync(options.dataDir, { recursive: true });
    const recorder = new Recorder(join(options.dataDir, RECORDING_FILE), options.logger, options.recorder);
    const explorer = new Explorer(options, recorder);
    const configs = await explorer.load();
    for (const config of configs) explorer.add(config);
    return explorer;
  }

  get historyBudget(): HistoryBudget {
    return this.budget;
  }

  private get file(): string {
    return join(this.options.dataDir, CONNECTIONS_FILE);
  }

  private async load(): Promise<ExplorerConnectionConfig[]> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      const broker = this.options.defaultBroker ?? { port: 1883 };
      return broker === false ? [] : [defaultExplorerConfig(broker.port)];
    }
    const configs: ExplorerConnectionConfig[] = [];
    let saved: unknown;
    try {
      saved = JSON.parse(text);
    } catch (error) {
      this.options.logger.error(
        { file: this.file, error: (error as Error).message },
        'explorer connections: not JSON, none loaded',
      );
      return [];
    }
    const list = (saved as { connections?: unknown }).connections;
    (Array.isArray(list) ? list : []).forEach((entry, i) => {
      try {
        configs.push(checkExplorerConfig(entry, `/connections/${i}`));
      } catch (error) {
        this.options.logger.error({ file: this.file, error: (error as Error).message }, 'explorer connection skipped');
      }
    });
    return configs;
  }

  /** Writes the list atomically (temporary file + rename), one write at a time. */
  private persist(): Promise<void> {
    const text = `${JSON.stringify(
      { format: CONNECTIONS_FORMAT, connections: [...this.connectionsById.values()].map((c) => c.config) },
      null,
      2,
    )}\n`;
    this.saving = this.saving.then(async () => {
      const temporary = `${this.file}.${randomBytes(4).toString('hex')}.tmp`;
      await writeFile(temporary, text, { flag: 'wx', mode: 0o600 });
      await rename(temporary, this.file);
    });
    return this.saving;
  }

  private add(config: ExplorerConnectionConfig): ExplorerConnection {
    const connection = new ExplorerConnection(config, {
      log: this.options.logger,
      lookup: this.options.lookup,
      budget: this.budget,
      ...(this.options.limits ? { limits: this.options.limits } : {}),
      onState: () => this.onDidChangeState(),
    });
    connection.record = this.recorder.tapFor(connection.id);
    this.connectionsById.set(connection.id, connection);
    void connection.start();
    return connection;
  }

  list(): ExplorerConnectionInfo[] {
    return [...this.connectionsById.values()].map((c) => c.info());
  }

  connections(): ExplorerConnection[] {
    return [...this.connectionsById.values()];
  }

  get(id: string): ExplorerConnection {
    const connection = this.connectionsById.get(id);
    if (!connection) throw new ExplorerError('not-found', `no explorer connection "${id}"`);
    return connection;
  }

  /** Adds or replaces a connection; only a change of filters keeps the client (re-subscribes). */
  async save(input: unknown): Promise<ExplorerConnectionInfo> {
    if (this.closed) throw new ExplorerError('unavailable', 'the explorer is closed');
    const config = checkExplorerConfig(input);
    const id = config.connection.id;
    const existing = this.connectionsById.get(id);
    if (!existing && this.connectionsById.size >= MAX_EXPLORER_CONNECTIONS) {
      throw new ExplorerError('invalid-params', `/config: at most ${MAX_EXPLORER_CONNECTIONS} explorer connections`);
    }
    let connection: ExplorerConnection;
    if (
      existing &&
      existing.config.enabled === config.enabled &&
      JSON.stringify(existing.config.connection) === JSON.stringify(config.connection)
    ) {
      existing.updateFilters(config.filters);
      connection = existing;
    } else {
      if (existing) {
        this.connectionsById.delete(id);
        await existing.close();
      }
      connection = this.add(config);
    }
    await this.persist();
    this.onDidChangeState();
    return connection.info();
  }

  async remove(id: string): Promise<boolean> {
    const existing = this.connectionsById.get(id);
    if (!existing) return false;
    this.connectionsById.delete(id);
    await existing.close();
    existing.tree.clear();
    await this.persist();
    this.onDidChangeState();
    return true;
  }

  async publish(
    id: string,
    topic: string,
    payload: Buffer,
    qos: 0 | 1 | 2,
    retain: boolean,
    properties?: TopicMessageProperties,
  ): Promise<void> {
    await this.get(id).publish(topic, payload, qos, retain, properties);
  }

  /**
   * Publishes an empty retained message to `topic`, or with `subtree` to every topic at or under
   * it that the tree saw holding a retained value; returns the topics cleared.
   */
  async clearRetained(id: string, topic: string, subtree: boolean): Promise<string[]> {
    const connection = this.get(id);
    const topics = subtree ? connection.tree.retainedUnder(topic) : [topic];
    const empty = Buffer.alloc(0);
    for (let i = 0; i < topics.length; i += CLEAR_WINDOW) {
      await Promise.all(topics.slice(i, i + CLEAR_WINDOW).map((t) => connection.publish(t, empty, 1, true)));
    }
    for (const t of topics) {
      const node = connection.tree.get(t);
      if (node) {
        node.holdsRetained = false;
        node.retained = false;
      }
    }
    return topics;
  }

  startRecording(id: string, filters: readonly string[], maxAgeMs: number, maxRows: number): RecordingInfo {
    const connection = this.get(id);
    const info = this.recorder.start(id, filters, maxAgeMs, maxRows);
    connection.record = this.recorder.tapFor(id);
    return info;
  }

  stopRecording(id: string): RecordingInfo {
    const info = this.recorder.stop(id);
    if (!info) throw new ExplorerError('not-found', `no recording of connection "${id}"`);
    const connection = this.connectionsById.get(id);
    if (connection) connection.record = undefined;
    return info;
  }

  /**
   * Numeric points of a topic: from the recording (when one covers the topic, before the oldest
   * history message; not with `sinceSeq`, which asks for the live tail) then from history.
   */
  series(
    id: string,
    topic: string,
    field: string | undefined,
    sinceSeq: number | undefined,
    limit: number,
  ): { points: [number, number][]; lastSeq: number } {
    const connection = this.get(id);
    const node = connection.tree.get(topic);
    const history = node?.history ?? [];
    const points: [number, number][] = [];
    const path = field === undefined || field === '' ? undefined : field.split('.');
    if (sinceSeq === undefined && this.recorder.covers(id, topic)) {
      const before = history[0]?.at ?? Number.MAX_SAFE_INTEGER;
      for (const row of this.recorder.topicRows(id, topic, before, limit)) {
        const value = numericValue(row.payload, path);
        if (value !== undefined) points.push([row.at, value]);
      }
    }
    for (const entry of history) {
      if (sinceSeq !== undefined && entry.seq <= sinceSeq) continue;
      const value = numericValue(entry.payload, path);
      if (value !== undefined) points.push([entry.at, value]);
    }
    return {
      points: points.length > limit ? points.slice(points.length - limit) : points,
      lastSeq: connection.tree.seq,
    };
  }

  /** A schema inferred from the history of every topic matching `filter` (newest messages, spread over the topics). */
  inferSchema(id: string, filter: string): InferredSchema {
    const connection = this.get(id);
    const parsed = parseTopicFilter(filter);
    const nodes = connection.tree
      .find((t) => matchTopic(parsed, t) !== undefined)
      .sort((a, b) => (a.topic < b.topic ? -1 : 1));
    const perTopic = Math.max(1, Math.ceil(MAX_INFER_SAMPLES / Math.max(1, nodes.length)));
    const texts: string[] = [];
    for (const node of nodes) {
      const history = node.history;
      for (let i = history.length - 1; i >= 0 && i >= history.length - perTopic; i--) {
        if (texts.length >= MAX_INFER_SAMPLES) break;
        texts.push((history[i] as { payload: Buffer }).payload.toString('utf8'));
      }
    }
    const result = inferPayloads(texts);
    return {
      schema: result.schema,
      samples: result.samples,
      skipped: result.skipped,
      topics: nodes.slice(0, MAX_INFER_TOPICS).map((n) => n.topic),
      decode: result.decode,
    };
  }

  /** Topics at or under a root (for the page's subtree actions). */
  topicsUnder(id: string, root: string): string[] {
    return this.get(id)
      .tree.find((t) => isUnder(t, root))
      .map((n) => n.topic);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.connectionsById.values()].map((c) => c.close()));
    await this.saving.catch(() => undefined);
    this.recorder.close();
  }
}

const NUMBER_TEXT = /^\s*-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?\s*$/;

/** The payload as a number, or the number at a dotted path of its JSON (`a.b.0.c`); undefined otherwise. */
export function numericValue(payload: Buffer, path: readonly string[] | undefined): number | undefined {
  if (payload.length === 0 || payload.length > 1024 * 1024) return undefined;
  const text = payload.toString('utf8');
  if (path === undefined) {
    if (!NUMBER_TEXT.test(text)) return undefined;
    const value = Number(text);
    return Number.isFinite(value) ? value : undefined;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined;
  }
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}
