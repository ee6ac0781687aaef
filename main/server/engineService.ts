import { randomBytes } from 'node:crypto';
import { readFile, readdir, rename, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { MAX_FLOW_FILE_BYTES, FLOW_FORMAT, type FlowDocument } from '../../shared/flow/flowDocument.js';
import type { FlowProblem } from '../../shared/flow/validateFlow.js';
import { exportFlow } from '../../shared/flow/exportFlow.js';
import { NODE_SPECS, secretPaths } from '../../shared/nodes/catalog.js';
import {
  MAX_DEAD_LETTERS_PAGE,
  MAX_REPLAY_IDS,
  MAX_ROWS_PAGE,
  STATUS_EVENT_INTERVAL_MS,
  type CatalogNode,
  type DebugMessage,
  type DeployOutcome,
  type ExportOutcome,
  type ErrorCode,
  type EventName,
  type MethodName,
  type ParamsOf,
  type ProtocolEngineStatus,
  type ProtocolError,
  type ProtocolEventListener,
  type ProtocolEvents,
  type ProtocolService,
  type ReplayOutcome,
  type ResponseEnvelope,
  type ResultOf,
  type TableInfo,
  type ValidationResult,
} from '../../shared/protocol/protocol.js';
import { EXPLORER_METHOD_NAMES, type ExplorerMethods } from '../../shared/protocol/explorerProtocol.js';
import { revisionOf, type EngineStatus, type FlowEngine } from '../engine/flowEngine.js';
import { checkFlow, checkFlowText, resolveFlow, type Lookup } from '../engine/flowLoader.js';
import { silentLogger, type Logger } from '../engine/logger.js';
import type { DebugEvent } from '../engine/runtime/nodeRuntime.js';
import type { ResolvedConnection } from '../engine/mqtt/connectionManager.js';
import { DeadLetterQueries, type DeadLetterRecord } from '../engine/store/deadLetters.js';
import { ExplorerFailure, type ExplorerService } from './explorerService.js';
import type { FlowMessage } from '../../shared/message.js';
import { parseSample, previewExpression, sampleToMessage, toLastMessage } from './expressionPreview.js';

/** Every explorer method answering "not available": an engine opened without the topic explorer. */
function explorerUnavailable(): { [K in keyof ExplorerMethods]: () => never } {
  const fail = (): never => {
    throw new ProtocolFailure('not-found', 'the topic explorer is not enabled in this engine');
  };
  return Object.fromEntries(EXPLORER_METHOD_NAMES.map((m) => [m, fail])) as {
    [K in keyof ExplorerMethods]: () => never;
  };
}

/** The explorer's handlers, its failures turned into ProtocolFailure like every other method's. */
function explorerHandlers(
  explorer: ExplorerService,
  p: Record<string, unknown>,
): ReturnType<ExplorerService['handlers']> {
  const handlers = explorer.handlers(p);
  const wrapped = {} as Record<string, () => unknown>;
  for (const [method, run] of Object.entries(handlers) as [string, () => unknown][]) {
    wrapped[method] = () =>
      Promise.resolve()
        .then(run)
        .catch((error: unknown) => {
          throw error instanceof ExplorerFailure ? new ProtocolFailure(error.code, error.message) : error;
        });
  }
  return wrapped as ReturnType<ExplorerService['handlers']>;
}

/** A failure the caller should see as `{ ok: false, error }`. */
export class ProtocolFailure extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly problems?: readonly FlowProblem[],
  ) {
    super(message);
    this.name = 'ProtocolFailure';
  }
}

export interface EngineServiceOptions {
  /** Folder of the flow files (`*.json`). */
  readonly workspace: string;
  /** Resolves `${env:...}` references, as `topicflow run` does. */
  readonly lookup: Lookup;
  readonly logger?: Logger;
  /** Debug messages passed on per second; more are dropped and counted. */
  readonly debugPerSecond?: number;
  /** The topic explorer (issue 6); without it the explorer.* methods answer not-found. */
  readonly explorer?: ExplorerService;
}

const FLOW_NAME = /^[A-Za-z0-9._-]+\.json$/;
const PREVIEW_BYTES = 256;
/** How long a replayed message may wait for the broker's acknowledgement. */
const REPLAY_ACK_TIMEOUT_MS = 10_000;

/** A hand-written check that the engine's status fits what the protocol carries. */
type Assignable<T, U extends T> = U;
export type EngineStatusFitsProtocol = Assignable<Omit<ProtocolEngineStatus, 'running'>, EngineStatus>;

/** What the engine reports, mapped to the protocol's (plain data only). */
export function toProtocolStatus(status: EngineStatus, running: boolean): ProtocolEngineStatus {
  return {
    running,
    flow: status.flow,
    revision: status.revision,
    nodes: status.nodes.map((n) => ({
      id: n.id,
      type: n.type,
      state: n.state,
      error: n.error,
      counters: { ...n.counters },
      rates: { in: n.rates.in, out: n.rates.out },
      pending: n.pending,
      outbox: n.outbox
        ? {
            depth: n.outbox.depth,
            bytes: n.outbox.bytes,
            maxCount: n.outbox.maxCount,
            maxBytes: n.outbox.maxBytes,
            inFlight: n.outbox.inFlight,
            sent: n.outbox.sent,
            evicted: n.outbox.evicted,
            retries: n.outbox.retries,
            failing: n.outbox.failing,
          }
        : undefined,
    })),
    connections: status.connections.map((c) => ({
      id: c.id,
      state: c.state,
      url: c.url,
      connects: c.connects,
      lastError: c.lastError,
      users: c.users,
      subscriptions: c.subscriptions,
      unacknowledged: c.unacknowledged,
    })),
    store: { state: status.store.state, error: status.store.error },
    deadLetters: status.deadLetters,
  };
}

/**
 * The engine side of the protocol: one instance per engine, shared by every connected editor,
 * whatever transport carries it. Status events are batched (at most 4 a second); debug events
 * are rate-limited (the excess is dropped and counted).
 */
export class EngineService implements ProtocolService {
  private readonly workspace: string;
  private readonly log: Logger;
  private readonly listeners = new Set<ProtocolEventListener>();
  private readonly debugPerSecond: number;
  private running = false;
  /** The deployed flow with its references resolved (the connections the engine holds); undefined when stopped. */
  private deployedFlow: FlowDocument | undefined;
  private lastStatusAt = 0;
  private statusTimer: NodeJS.Timeout | undefined;
  private debugQueue: DebugMessage[] = [];
  private debugDropped = 0;
  private debugTimer: NodeJS.Timeout | undefined;
  private debugWindow = { start: 0, count: 0 };
  private disposed = false;
  private readonly onStatus = (): void => this.scheduleStatus();
  private readonly onDebug = (event: DebugEvent): void => this.queueDebug(event);

  constructor(
    private readonly engine: FlowEngine,
    private readonly options: EngineServiceOptions,
  ) {
    this.workspace = resolve(options.workspace);
    this.log = options.logger ?? silentLogger();
    this.debugPerSecond = options.debugPerSecond ?? 50;
    engine.events.on('status', this.onStatus);
    engine.events.on('debug', this.onDebug);
    options.explorer?.attach(
      (event, data) => this.emit(event, data as ProtocolEvents[typeof event]),
      () => !this.disposed && this.listeners.size > 0,
    );
  }

  /** Adds a listener of every event; returns its removal. */
  listen(listener: ProtocolEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  dispose(): void {
    this.disposed = true;
    this.engine.events.off('status', this.onStatus);
    this.engine.events.off('debug', this.onDebug);
    clearTimeout(this.statusTimer);
    clearTimeout(this.debugTimer);
    this.listeners.clear();
  }

  /** Runs one request and turns any failure into an error response naming what went wrong. */
  async respond<M extends MethodName>(id: number, method: M, params: ParamsOf<M>): Promise<ResponseEnvelope> {
    try {
      return { kind: 'response', id, ok: true, result: await this.handle(method, params) };
    } catch (error) {
      let failure: ProtocolError;
      if (error instanceof ProtocolFailure) {
        failure = { code: error.code, message: error.message, ...(error.problems ? { problems: error.problems } : {}) };
      } else {
        const message = error instanceof Error ? error.message : String(error);
        this.log.error({ err: error, method }, 'protocol request failed');
        failure = { code: 'internal', message: `${method}: ${message}` };
      }
      return { kind: 'response', id, ok: false, error: failure };
    }
  }

  handle<M extends MethodName>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>> {
    const p = params as Record<string, unknown>;
    const handlers: { [K in MethodName]: () => Promise<ResultOf<K>> | ResultOf<K> } = {
      'catalog.get': () => ({ nodes: catalog() }),
      'flows.list': () => this.listFlows(),
      'flows.open': () => this.openFlow(flowName(p)),
      'flows.save': () => this.saveFlow(flowName(p), document(p)),
      'flows.validate': () => this.validate(document(p)),
      'flows.export': () => exportDocument(p),
      'engine.deploy': () => this.deploy(document(p)),
      'engine.stop': () => this.stopFlow(),
      'engine.status': () => this.status(),
      'store.tables': () => ({ tables: this.tables() }),
      'store.rows': () =>
        this.rows(
          requiredString(p, 'table'),
          optionalInt(p, 'offset', 0, Number.MAX_SAFE_INTEGER) ?? 0,
          optionalInt(p, 'limit', 1, MAX_ROWS_PAGE) ?? 100,
        ),
      'deadLetters.list': () => this.deadLetters(p),
      'deadLetters.purge': () => this.purge(p),
      'deadLetters.replay': () => this.replay(p),
      'nodes.lastMessage': () => this.lastMessage(requiredString(p, 'node')),
      'expression.preview': () => this.preview(p),
      ...(this.options.explorer ? explorerHandlers(this.options.explorer, p) : explorerUnavailable()),
    };
    return Promise.resolve().then(() => handlers[method]() as ResultOf<M>);
  }

  status(): ProtocolEngineStatus {
    return toProtocolStatus(this.engine.status(), this.running);
  }

  // ---- flows ---------------------------------------------------------------------------------

  private pathOf(name: string): string {
    if (!FLOW_NAME.test(name) || name.includes('..')) {
      throw new ProtocolFailure(
        'invalid-params',
        `flow name ${JSON.stringify(name)} is not allowed: use letters, digits, ".", "_" or "-", ending in .json`,
      );
    }
    const path = resolve(this.workspace, name);
    if (dirname(path) !== this.workspace || basename(path) !== name) {
      throw new ProtocolFailure('invalid-params', `flow name ${JSON.stringify(name)} is outside the workspace`);
    }
    return path;
  }

  private async listFlows(): Promise<ResultOf<'flows.list'>> {
    let names: string[];
    try {
      names = await readdir(this.workspace);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { flows: [] };
      throw error;
    }
    const flows = [];
    for (const name of names.filter((n) => FLOW_NAME.test(n) && !n.includes('..')).sort()) {
      const info = await stat(resolve(this.workspace, name)).catch(() => undefined);
      if (info?.isFile()) flows.push({ name, bytes: info.size, modifiedAt: info.mtimeMs });
    }
    return { flows };
  }

  private async openFlow(name: string): Promise<ResultOf<'flows.open'>> {
    const path = this.pathOf(name);
    let text: string;
    try {
      const info = await stat(path);
      if (info.size > MAX_FLOW_FILE_BYTES) {
        throw new ProtocolFailure('invalid-flow', `${name}: ${info.size} bytes; the limit is ${MAX_FLOW_FILE_BYTES}`);
      }
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new ProtocolFailure('not-found', `no flow ${name} in the workspace ${this.workspace}`);
      }
      throw error;
    }
    const validation = checkFlowText(text, { lookup: this.options.lookup });
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch {
      throw new ProtocolFailure('invalid-flow', `${name} is not JSON`, validation.problems);
    }
    return { name, document, validation: { ok: validation.ok, problems: validation.problems } };
  }

  private async saveFlow(name: string, document: unknown): Promise<ResultOf<'flows.save'>> {
    const path = this.pathOf(name);
    if (typeof document !== 'object' || document === null || Array.isArray(document)) {
      throw new ProtocolFailure('invalid-params', 'flows.save: "document" must be a JSON object');
    }
    const text = `${JSON.stringify(document, null, 2)}\n`;
    const bytes = Buffer.byteLength(text);
    if (bytes > MAX_FLOW_FILE_BYTES) {
      throw new ProtocolFailure('invalid-flow', `${name}: ${bytes} bytes; the limit is ${MAX_FLOW_FILE_BYTES}`);
    }
    // An invalid flow is saved too (work in progress); the answer says what is wrong with it.
    const validation = this.validate(document);
    const temporary = `${path}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(temporary, text, { flag: 'wx' });
    await rename(temporary, path);
    return { name, bytes, validation };
  }

  private validate(document: unknown): ValidationResult {
    const result = checkFlow(document, { lookup: this.options.lookup });
    return { ok: result.ok, problems: result.problems };
  }

  // ---- engine --------------------------------------------------------------------------------

  private async deploy(document: unknown): Promise<DeployOutcome> {
    const checked = checkFlow(document, { lookup: this.options.lookup });
    if (!checked.ok) {
      const first = checked.problems.find((p) => p.severity === 'error');
      throw new ProtocolFailure(
        'invalid-flow',
        `the flow is invalid, nothing deployed: ${first ? `${first.pointer || '(document)'}: ${first.message}` : ''}`,
        checked.problems,
      );
    }
    let resolved: FlowDocument;
    try {
      resolved = resolveFlow(checked.flow, this.options.lookup);
    } catch (error) {
      throw new ProtocolFailure('invalid-flow', `cannot resolve references: ${(error as Error).message}`);
    }
    // As `topicflow run`: the revision comes from the flow before references are resolved.
    const result = await this.deployGuarded(resolved, revisionOf(checked.flow));
    this.running = true;
    this.deployedFlow = resolved;
    const outcome: DeployOutcome = {
      flow: checked.flow.name,
      revision: result.revision,
      added: result.added,
      changed: result.changed,
      removed: result.removed,
      unchanged: result.unchanged,
      failed: result.failed,
    };
    this.emit('deployed', outcome);
    this.scheduleStatus();
    return outcome;
  }

  private async deployGuarded(flow: FlowDocument, revision: string): ReturnType<FlowEngine['deploy']> {
    try {
      return await this.engine.deploy(flow, revision);
    } catch (error) {
      if (/stopped/.test((error as Error).message))
        throw new ProtocolFailure('engine-stopped', 'the engine is stopped');
      throw error;
    }
  }

  /** Stops the flow (an empty deploy): the engine and its store stay open for the next deploy. */
  private async stopFlow(): Promise<ResultOf<'engine.stop'>> {
    const empty: FlowDocument = { format: FLOW_FORMAT, name: 'stopped', connections: [], nodes: [], edges: [] };
    await this.deployGuarded(empty, 'stopped');
    this.running = false;
    this.deployedFlow = undefined;
    this.scheduleStatus();
    return { stopped: true };
  }

  // ---- store ---------------------------------------------------------------------------------

  private tableNames(): string[] {
    const rows = this.engine.store.db
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
      )
      .all() as { name: string }[];
    return rows.map((r) => r.name);
  }

  private columnsOf(table: string): string[] {
    const info = this.engine.store.db.prepare(`SELECT name FROM pragma_table_info(?)`).all(table) as {
      name: string;
    }[];
    return info.map((c) => c.name);
  }

  private tables(): TableInfo[] {
    return this.tableNames().map((name) => ({
      name,
      columns: this.columnsOf(name),
      rows: (this.engine.store.db.prepare(`SELECT count(*) AS n FROM ${quoteIdentifier(name)}`).get() as { n: number })
        .n,
    }));
  }

  private rows(table: string, offset: number, limit: number): ResultOf<'store.rows'> {
    // Only a name read from sqlite_master reaches the SQL text, and quoted.
    if (!this.tableNames().includes(table)) {
      throw new ProtocolFailure('not-found', `store.rows: no table ${JSON.stringify(table)} in the store`);
    }
    const db = this.engine.store.db;
    const quoted = quoteIdentifier(table);
    const total = (db.prepare(`SELECT count(*) AS n FROM ${quoted}`).get() as { n: number }).n;
    const rows = db.prepare(`SELECT * FROM ${quoted} LIMIT ? OFFSET ?`).raw(true).all(limit, offset) as unknown[][];
    return {
      table,
      columns: this.columnsOf(table),
      rows: rows.map((row) =>
        row.map((v) => (Buffer.isBuffer(v) ? { base64: v.toString('base64') } : typeof v === 'bigint' ? String(v) : v)),
      ),
      offset,
      total,
    };
  }

  private deadLetters(p: Record<string, unknown>): ResultOf<'deadLetters.list'> {
    const node = optionalString(p, 'node');
    const limit = optionalInt(p, 'limit', 1, MAX_DEAD_LETTERS_PAGE) ?? 100;
    const beforeId = optionalInt(p, 'beforeId', 1, Number.MAX_SAFE_INTEGER);
    const queries = new DeadLetterQueries(this.engine.store.db);
    const items = queries.list({ node, beforeId, limit }).map((d) => ({
      id: d.id,
      at: d.at,
      flow: d.flow,
      revision: d.revision,
      node: d.node,
      reason: d.reason,
      topic: d.topic,
      qos: d.qos,
      payloadSize: d.payloadSize,
      preview: d.payload ? d.payload.subarray(0, PREVIEW_BYTES).toString('utf8') : null,
      replayedAt: d.replayedAt,
    }));
    return { items, total: queries.count({ node }) };
  }

  private purge(p: Record<string, unknown>): ResultOf<'deadLetters.purge'> {
    const ids = p['ids'];
    if (!Array.isArray(ids) || ids.length === 0 || ids.length > 10_000 || !ids.every(isPositiveInteger)) {
      throw new ProtocolFailure('invalid-params', 'deadLetters.purge: "ids" must be 1 to 10000 positive integers');
    }
    return { purged: new DeadLetterQueries(this.engine.store.db).purge({ ids }) };
  }

  /**
   * Publishes each letter's original bytes to its original topic through the engine's shared
   * connection of the deployed flow (the connection of the node that recorded it, else the first
   * connection an mqtt-in node uses, else the flow's first); the flow's subscription takes it in
   * again. Marked replayed only after the broker's acknowledgement (QoS 1, or 2 when it came at 2).
   */
  private async replay(p: Record<string, unknown>): Promise<ReplayOutcome> {
    const ids = p['ids'];
    if (!Array.isArray(ids) || ids.length === 0 || ids.length > MAX_REPLAY_IDS || !ids.every(isPositiveInteger)) {
      throw new ProtocolFailure(
        'invalid-params',
        `deadLetters.replay: "ids" must be 1 to ${MAX_REPLAY_IDS} positive integers`,
      );
    }
    const flow = this.deployedFlow;
    if (!flow || !this.running) {
      throw new ProtocolFailure('engine-stopped', 'deadLetters.replay: no flow is deployed to replay into');
    }
    const queries = new DeadLetterQueries(this.engine.store.db);
    const records = queries.get(ids);
    const found = new Set(records.map((d) => d.id));
    const errors: { id: number; error: string }[] = [];
    for (const id of new Set(ids)) if (!found.has(id)) errors.push({ id, error: 'no such dead letter' });
    const acknowledged: number[] = [];
    for (const d of records) {
      const why = unreplayable(d);
      const connection = why === undefined ? replayConnection(flow, d.node) : undefined;
      if (why !== undefined || connection === undefined) {
        errors.push({ id: d.id, error: why ?? `the flow "${flow.name}" has no MQTT connection` });
        continue;
      }
      try {
        await this.publishOnce(connection, d.topic as string, d.payload as Buffer, d.qos === 2 ? 2 : 1);
        acknowledged.push(d.id);
      } catch (error) {
        errors.push({ id: d.id, error: error instanceof Error ? error.message : String(error) });
      }
    }
    // Only after the acknowledgements: a failure before this replays them again, never loses one.
    const replayed = acknowledged.length > 0 ? queries.markReplayed(acknowledged) : 0;
    errors.sort((a, b) => a.id - b.id);
    return { replayed, errors };
  }

  /** One acknowledged publish on the engine's shared connection (held for the publish only). */
  private async publishOnce(connection: ResolvedConnection, topic: string, payload: Buffer, qos: 1 | 2): Promise<void> {
    const shared = await this.engine.connections.acquire(connection);
    let timer: NodeJS.Timeout | undefined;
    try {
      if (shared.status().state !== 'connected') {
        throw new Error(`the connection "${connection.id}" is ${shared.status().state}, not connected`);
      }
      await Promise.race([
        shared.publish(topic, payload, qos, false),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no acknowledgement from the broker within ${REPLAY_ACK_TIMEOUT_MS} ms`)),
            REPLAY_ACK_TIMEOUT_MS,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
      await this.engine.connections.release(connection);
    }
  }

  // ---- expression preview (editor) ------------------------------------------------------------

  private lastMessage(node: string): ResultOf<'nodes.lastMessage'> {
    const message = this.running ? this.engine.lastInput(node) : undefined;
    return { last: message ? toLastMessage(message) : null };
  }

  /** One preview at a time: each may run up to the evaluator's time limit on the engine's thread. */
  private previewChain: Promise<unknown> = Promise.resolve();

  private preview(p: Record<string, unknown>): Promise<ResultOf<'expression.preview'>> {
    const expression = p['expression'];
    if (typeof expression !== 'string') throw new ProtocolFailure('invalid-params', '"expression" must be a string');
    let message: FlowMessage;
    if (p['message'] !== undefined) {
      const sample = parseSample(p['message']);
      if (typeof sample === 'string') throw new ProtocolFailure('invalid-params', `expression.preview: ${sample}`);
      message = sampleToMessage(sample);
    } else {
      const node = requiredString(p, 'node');
      const last = this.running ? this.engine.lastInput(node) : undefined;
      if (!last) throw new ProtocolFailure('not-found', `node "${node}" has received no message in the deployed flow`);
      message = last;
    }
    const run = this.previewChain.then(() => previewExpression(expression, message));
    this.previewChain = run.catch(() => undefined);
    return run;
  }

  // ---- events --------------------------------------------------------------------------------

  private emit<E extends EventName>(event: E, data: ProtocolEvents[E]): void {
    for (const listener of this.listeners) {
      try {
        listener.onDidEmit(event, data);
      } catch (error) {
        this.log.error({ err: error, event }, 'event listener failed');
      }
    }
  }

  /** The latest status, at most once per STATUS_EVENT_INTERVAL_MS (later triggers are batched). */
  private scheduleStatus(): void {
    if (this.disposed || this.statusTimer || this.listeners.size === 0) return;
    const wait = Math.max(0, this.lastStatusAt + STATUS_EVENT_INTERVAL_MS - performance.now());
    this.statusTimer = setTimeout(() => {
      this.statusTimer = undefined;
      this.lastStatusAt = performance.now();
      this.emit('status', this.status());
    }, wait);
    this.statusTimer.unref();
  }

  private queueDebug(event: DebugEvent): void {
    if (this.disposed || this.listeners.size === 0) return;
    const now = performance.now();
    if (now - this.debugWindow.start >= 1000) this.debugWindow = { start: now, count: 0 };
    if (++this.debugWindow.count > this.debugPerSecond) {
      this.debugDropped++;
    } else {
      this.debugQueue.push({
        node: event.node,
        at: event.at,
        topic: event.topic,
        preview: event.preview,
        truncated: event.truncated,
      });
    }
    this.debugTimer ??= setTimeout(() => {
      this.debugTimer = undefined;
      const messages = this.debugQueue;
      const dropped = this.debugDropped;
      this.debugQueue = [];
      this.debugDropped = 0;
      this.emit('debug', { messages, dropped });
    }, STATUS_EVENT_INTERVAL_MS).unref();
  }
}

function catalog(): CatalogNode[] {
  return NODE_SPECS.map((spec) => ({
    type: spec.type,
    title: spec.title,
    category: spec.category,
    summary: spec.summary,
    inputs: spec.inputs,
    outputs: spec.outputs,
    config: spec.config,
    usesConnection: spec.usesConnection,
    example: spec.example,
    secrets: secretPaths(spec.config),
  }));
}

/** An SQL identifier in double quotes (embedded quotes doubled). */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Why a dead letter cannot be replayed as it was received, or undefined when it can. */
function unreplayable(d: DeadLetterRecord): string | undefined {
  if (d.topic === null || d.topic === '') return 'no topic (it did not come from MQTT)';
  if (d.payload === null) return 'no payload';
  if (d.payload.length === 0) return 'empty payload';
  if (d.payloadSize !== null && d.payloadSize > d.storedSize) {
    return `payload truncated (${d.storedSize} of ${d.payloadSize} bytes kept)`;
  }
  return undefined;
}

/** The connection a dead letter of `node` goes back through. */
export function replayConnection(flow: FlowDocument, node: string): ResolvedConnection | undefined {
  const byId = (id: unknown) => (typeof id === 'string' ? flow.connections.find((c) => c.id === id) : undefined);
  const own = byId(flow.nodes.find((n) => n.id === node)?.config?.['connection']);
  if (own) return own;
  for (const n of flow.nodes) {
    const used = n.type === 'mqtt-in' ? byId(n.config?.['connection']) : undefined;
    if (used) return used;
  }
  return flow.connections[0];
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

function requiredString(p: Record<string, unknown>, key: string): string {
  const value = p[key];
  if (typeof value !== 'string' || value === '') {
    throw new ProtocolFailure('invalid-params', `"${key}" must be a non-empty string`);
  }
  return value;
}

function optionalString(p: Record<string, unknown>, key: string): string | undefined {
  return p[key] === undefined ? undefined : requiredString(p, key);
}

function optionalInt(p: Record<string, unknown>, key: string, min: number, max: number): number | undefined {
  const value = p[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ProtocolFailure('invalid-params', `"${key}" must be an integer from ${min} to ${max}`);
  }
  return value;
}

function flowName(p: Record<string, unknown>): string {
  return requiredString(p, 'name');
}

/** `flows.export`: references are not resolved here, the gateway does that. */
function exportDocument(p: Record<string, unknown>): ExportOutcome {
  const result = exportFlow(document(p), {
    stripSecrets: optionalBoolean(p, 'stripSecrets') ?? false,
    keepLayout: optionalBoolean(p, 'keepLayout') ?? false,
    check: (d) => checkFlow(d),
  });
  if (!result.ok) {
    const first = result.problems.find((problem) => problem.severity === 'error');
    throw new ProtocolFailure(
      'invalid-flow',
      `the flow cannot be exported: ${first ? `${first.pointer || '(document)'}: ${first.message}` : ''}`,
      result.problems,
    );
  }
  return { document: result.document, warnings: result.warnings, requiredEnv: result.requiredEnv };
}

function optionalBoolean(p: Record<string, unknown>, key: string): boolean | undefined {
  const value = p[key];
  if (value !== undefined && typeof value !== 'boolean') {
    throw new ProtocolFailure('invalid-params', `"${key}" must be true or false`);
  }
  return value;
}

function document(p: Record<string, unknown>): unknown {
  if (!('document' in p)) throw new ProtocolFailure('invalid-params', '"document" is missing');
  return p['document'];
}
