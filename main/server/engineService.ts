import { randomBytes } from 'node:crypto';
import { readFile, readdir, rename, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { MAX_FLOW_FILE_BYTES, FLOW_FORMAT, type FlowDocument } from '../../shared/flow/flowDocument.js';
import { exportFlow } from '../../shared/flow/exportFlow.js';
import { NODE_SPECS, secretPaths } from '../../shared/nodes/catalog.js';
import {
  MAX_ROWS_PAGE,
  STATUS_EVENT_INTERVAL_MS,
  type CatalogNode,
  type DebugMessage,
  type DeployOutcome,
  type ExportOutcome,
  type EventName,
  type MethodName,
  type ParamsOf,
  type ProtocolEngineStatus,
  type ProtocolError,
  type ProtocolEventListener,
  type ProtocolEvents,
  type ProtocolService,
  type ResponseEnvelope,
  type ResultOf,
  type ValidationResult,
} from '../../shared/protocol/protocol.js';
import { EXPLORER_METHOD_NAMES, type ExplorerMethods } from '../../shared/protocol/explorerProtocol.js';
import { revisionOf, type EngineStatus, type FlowEngine } from '../engine/flowEngine.js';
import { checkFlow, checkFlowText, resolveFlow, type Lookup } from '../engine/flowLoader.js';
import { silentLogger, type Logger } from '../engine/logger.js';
import type { DebugEvent } from '../engine/runtime/nodeRuntime.js';
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

import { document, flowName, optionalBoolean, optionalInt, ProtocolFailure, requiredString } from './protocolParams.js';
import { StoreMethods } from './storeMethods.js';

export { ProtocolFailure } from './protocolParams.js';
export { quoteIdentifier, replayConnection } from './storeMethods.js';

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
  private readonly store: StoreMethods;
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
    this.store = new StoreMethods(engine, () => ({ flow: this.deployedFlow, running: this.running }));
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
      'store.tables': () => ({ tables: this.store.tables() }),
      'store.rows': () =>
        this.store.rows(
          requiredString(p, 'table'),
          optionalInt(p, 'offset', 0, Number.MAX_SAFE_INTEGER) ?? 0,
          optionalInt(p, 'limit', 1, MAX_ROWS_PAGE) ?? 100,
        ),
      'deadLetters.list': () => this.store.deadLetters(p),
      'deadLetters.purge': () => this.store.purge(p),
      'deadLetters.replay': () => this.store.replay(p),
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

  // ---- store and dead letters: storeMethods.ts ---------------------------------------------

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
