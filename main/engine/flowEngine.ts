import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { FlowConnection, FlowDocument, FlowNode } from '../../shared/flow/flowDocument.js';
import type { FlowMessage } from '../../shared/message.js';
import { getNodeSpec } from '../../shared/nodes/catalog.js';
import { LogThrottle, silentLogger, type Logger } from './logger.js';
import { ConnectionManager, type ConnectionStatus } from './mqtt/connectionManager.js';
import { getNodeImplementation } from './nodes/nodeImplementations.js';
import {
  errorMessage,
  type DebugEvent,
  type EngineServices,
  type NodeContext,
  type NodeCounters,
  type NodeInstance,
  type Output,
  type StopReason,
} from './runtime/nodeRuntime.js';
import type { OutboxStatus } from './store/outbox.js';
import { Store } from './store/store.js';

export interface EngineOptions {
  readonly dataDir: string;
  readonly logger?: Logger;
  /** Time each node gets to finish its work when stopped. */
  readonly stopTimeoutMs?: number;
  /** Upper bound of the SQLite file; when reached, writes fail and nothing more is acknowledged. */
  readonly storeMaxBytes?: number;
}

export interface DeployResult {
  readonly revision: string;
  readonly added: readonly string[];
  readonly changed: readonly string[];
  readonly removed: readonly string[];
  readonly unchanged: readonly string[];
  readonly failed: readonly { readonly node: string; readonly error: string }[];
}

export type { OutboxStatus } from './store/outbox.js';

export interface NodeStatus {
  readonly id: string;
  readonly type: string;
  readonly state: 'created' | 'running' | 'failed' | 'stopped';
  readonly error: string | undefined;
  readonly counters: Readonly<NodeCounters>;
  /** Messages per second over the last sampling period. */
  readonly rates: { readonly in: number; readonly out: number };
  readonly pending: number;
  /** Network sinks (http-post, mqtt-out): their durable outbox. */
  readonly outbox?: OutboxStatus | undefined;
}

/** Whether the SQLite store accepts writes. While it does not, nothing is acknowledged. */
export interface StoreStatus {
  readonly state: 'ok' | 'failing';
  /** The last write error (SQLITE_FULL, SQLITE_READONLY, ...) while failing. */
  readonly error: string | undefined;
  /** Monotonic ms (performance.now()) when writes started failing. */
  readonly failingSinceMono: number | undefined;
}

export interface EngineStatus {
  readonly flow: string | undefined;
  readonly revision: string | undefined;
  readonly nodes: readonly NodeStatus[];
  readonly connections: readonly ConnectionStatus[];
  readonly store: StoreStatus;
  /** Dead letters recorded since the engine started. */
  readonly deadLetters: number;
}

interface Wire {
  targets: Output[];
  readonly whenUnwired: 'discard' | 'dead-letter';
}

interface RunningNode {
  readonly node: FlowNode;
  /** Type + resolved config + the connection it uses: any change means a restart. */
  readonly key: string;
  readonly category: 'source' | 'process' | 'sink';
  readonly instance: NodeInstance;
  readonly context: NodeContext<Record<string, unknown>>;
  readonly wires: Map<string, Wire>;
  readonly receive: Output;
  state: 'created' | 'running' | 'failed' | 'stopped';
  error: string | undefined;
  last: { in: number; out: number; at: number };
  rates: { in: number; out: number };
  /** The last message on the input: a reference (no copy on the hot path), for the editor's previews. */
  lastInput: FlowMessage | undefined;
}

/**
 * Runs one flow at a time against real brokers and the workspace store. Messages pass between
 * nodes by direct calls; `deploy` diffs against what runs and restarts only what changed.
 */
export class FlowEngine {
  readonly events = new EventEmitter();
  readonly store: Store;
  readonly connections: ConnectionManager;
  private readonly log: Logger;
  private readonly stopTimeoutMs: number;
  private readonly runId = randomBytes(4).toString('hex');
  private readonly startedAt = performance.now();
  private seq = 0;
  private nodes = new Map<string, RunningNode>();
  private edges: FlowDocument['edges'] = [];
  private connectionById = new Map<string, FlowConnection>();
  private flowName: string | undefined;
  private revision: string | undefined;
  private readonly sampler: NodeJS.Timeout;
  private readonly services: EngineServices;
  private stopped = false;
  private deploying: Promise<unknown> = Promise.resolve();

  private constructor(options: EngineOptions) {
    this.log = options.logger ?? silentLogger();
    this.stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
    this.store = Store.open(options.dataDir, this.log, options.storeMaxBytes);
    this.connections = new ConnectionManager(this.log);
    this.services = {
      store: this.store,
      connections: this.connections,
      connection: (id) => {
        const connection = this.connectionById.get(id);
        if (!connection) throw new Error(`no connection "${id}"`);
        return connection;
      },
      revision: () => this.revision ?? '',
      newMessage: (fields): FlowMessage => {
        const seq = ++this.seq;
        // Spelled out (see withPayload): one hidden class for every message.
        return {
          id: `${this.runId}-${seq}`,
          seq,
          topic: fields.topic,
          payload: fields.payload,
          raw: fields.raw,
          qos: fields.qos,
          retain: fields.retain,
          properties: fields.properties,
          params: fields.params,
          receivedAt: Date.now(),
          receivedMono: performance.now() - this.startedAt,
          connection: fields.connection,
          packetId: fields.packetId,
          delivery: fields.delivery,
          errors: undefined,
        };
      },
      debug: (event: DebugEvent) => {
        this.events.emit('debug', event);
      },
    };
    this.sampler = setInterval(() => this.sample(), 1000);
    this.sampler.unref();
  }

  static open(options: EngineOptions): FlowEngine {
    return new FlowEngine(options);
  }

  /**
   * Deploys a validated flow whose references are resolved. Deploys run one after another.
   * `revision` should be computed from the flow before resolution, so no secret feeds it.
   */
  deploy(flow: FlowDocument, revision = revisionOf(flow)): Promise<DeployResult> {
    const next = this.deploying.then(() => this.deployNow(flow, revision));
    this.deploying = next.catch(() => undefined);
    return next;
  }

  private async deployNow(flow: FlowDocument, revision: string): Promise<DeployResult> {
    if (this.stopped) throw new Error('the engine is stopped');
    const connectionById = new Map(flow.connections.map((c) => [c.id, c]));
    const keyOf = (node: FlowNode): string => {
      const connectionId = node.config?.['connection'];
      const connection = typeof connectionId === 'string' ? connectionById.get(connectionId) : undefined;
      return JSON.stringify([node.type, node.config ?? {}, connection ?? null]);
    };

    const old = this.nodes;
    const added: string[] = [];
    const changed: string[] = [];
    const unchanged: string[] = [];
    const removed = [...old.keys()].filter((id) => !flow.nodes.some((n) => n.id === id));
    const next = new Map<string, RunningNode>();
    const created: RunningNode[] = [];
    const previousFlow = this.flowName;
    const previousRevision = this.revision;
    const previousConnections = this.connectionById;
    this.flowName = flow.name;
    this.revision = revision;
    this.connectionById = connectionById;

    try {
      for (const node of flow.nodes) {
        const key = keyOf(node);
        const current = old.get(node.id);
        if (current && current.key === key && current.state !== 'failed') {
          next.set(node.id, current);
          unchanged.push(node.id);
          continue;
        }
        (current ? changed : added).push(node.id);
        const running = this.createNode(node, key);
        next.set(node.id, running);
        created.push(running);
      }
    } catch (error) {
      this.flowName = previousFlow;
      this.revision = previousRevision;
      this.connectionById = previousConnections;
      throw error;
    }

    // Hold every connection the new flow uses, so swapping its nodes never drops one.
    const leases = flow.connections.filter((c) => flow.nodes.some((n) => n.config?.['connection'] === c.id));
    const held = await Promise.allSettled(leases.map((c) => this.connections.acquire(c)));
    const failed: { node: string; error: string }[] = [];
    try {
      const order = topologicalOrder(flow);
      const byOrder = (a: RunningNode, b: RunningNode): number =>
        (order.get(a.node.id) ?? 0) - (order.get(b.node.id) ?? 0);

      await this.stopAll(
        removed.map((id) => old.get(id) as RunningNode).filter((n) => n.category === 'source'),
        'removed',
      );

      // Downstream first, so a sink is ready (its table exists) before anything reaches it.
      const createdDownstreamFirst = [...created].sort(byOrder).reverse();
      for (const n of createdDownstreamFirst.filter((n) => n.category !== 'source')) await this.startNode(n, failed);

      this.nodes = next;
      this.edges = flow.edges;
      this.rewire(flow);

      for (const n of createdDownstreamFirst.filter((n) => n.category === 'source')) await this.startNode(n, failed);

      const retired = [
        ...changed.map((id) => old.get(id) as RunningNode),
        ...removed.map((id) => old.get(id) as RunningNode).filter((n) => n.category !== 'source'),
      ].sort((a, b) => categoryRank(a) - categoryRank(b));
      await this.stopAll(retired, 'redeploy');
    } finally {
      await Promise.allSettled(
        leases.map((c, i) => (held[i]?.status === 'fulfilled' ? this.connections.release(c) : Promise.resolve())),
      );
    }

    const result: DeployResult = { revision, added, changed, removed, unchanged, failed };
    this.log.info(
      { flow: flow.name, revision, added, changed, removed, unchanged: unchanged.length, failed },
      failed.length > 0 ? 'flow deployed with failures' : 'flow deployed',
    );
    this.events.emit('deploy', result);
    return result;
  }

  private createNode(node: FlowNode, key: string): RunningNode {
    const implementation = getNodeImplementation(node.type);
    const spec = getNodeSpec(node.type);
    if (!implementation || !spec) throw new Error(`node "${node.id}": unknown node type "${node.type}"`);
    const counters: NodeCounters = { in: 0, out: 0, errors: 0, dropped: 0 };
    const wires = new Map<string, Wire>(
      spec.outputs.map((p) => [p.name, { targets: [], whenUnwired: p.whenUnwired ?? 'discard' }]),
    );
    const log = this.log.child({ node: node.id, type: node.type });
    const throttle = new LogThrottle();
    const context: NodeContext<Record<string, unknown>> = {
      id: node.id,
      type: node.type,
      name: node.name ?? node.id,
      flow: this.flowName ?? '',
      config: node.config ?? {},
      log,
      counters,
      services: this.services,
      output(port) {
        const wire = wires.get(port);
        if (!wire) throw new Error(`node "${node.id}" has no output port "${port}"`);
        return (message) => {
          counters.out++;
          const targets = wire.targets;
          if (targets.length === 0) {
            if (wire.whenUnwired === 'dead-letter') context.deadLetter(message, unwiredReason(port, message));
            return;
          }
          for (let i = 0; i < targets.length; i++) (targets[i] as Output)(message);
        };
      },
      deadLetter: (message, reason) => {
        counters.errors++;
        const full = 'id' in message ? message : undefined;
        message.delivery?.hold();
        this.store.addDeadLetter({
          delivery: message.delivery,
          at: Date.now(),
          seq: message.seq,
          flow: this.flowName ?? '',
          revision: this.revision ?? '',
          node: node.id,
          reason,
          topic: message.topic,
          qos: message.qos,
          payload: message.raw ?? (full ? Buffer.from(JSON.stringify(full.payload) ?? '') : undefined),
        });
        const now = performance.now();
        if (throttle.allow(now, (suppressed) => log.warn({ suppressed }, 'more dead letters not logged'))) {
          log.warn({ topic: message.topic, reason }, 'dead letter');
        }
      },
    };
    const instance = implementation.create(context as never);
    const running: RunningNode = {
      node,
      key,
      category: spec.category,
      instance,
      context,
      wires,
      state: 'created',
      error: undefined,
      last: { in: 0, out: 0, at: performance.now() },
      rates: { in: 0, out: 0 },
      lastInput: undefined,
      receive: (message) => {
        counters.in++;
        running.lastInput = message;
        if (running.state !== 'running') {
          context.deadLetter(message, `node "${node.id}" is not running${running.error ? `: ${running.error}` : ''}`);
          return;
        }
        try {
          instance.onInput?.(message);
        } catch (error) {
          context.deadLetter(message, errorMessage(error));
        }
      },
    };
    return running;
  }

  private rewire(flow: FlowDocument): void {
    const fresh = new Map<string, Map<string, Output[]>>();
    for (const edge of flow.edges) {
      const target = this.nodes.get(edge.to.node);
      if (!target) continue;
      let ports = fresh.get(edge.from.node);
      if (!ports) fresh.set(edge.from.node, (ports = new Map()));
      const list = ports.get(edge.from.port) ?? [];
      list.push(target.receive);
      ports.set(edge.from.port, list);
    }
    for (const [id, running] of this.nodes) {
      for (const [port, wire] of running.wires) wire.targets = fresh.get(id)?.get(port) ?? [];
    }
  }

  private async startNode(running: RunningNode, failed: { node: string; error: string }[]): Promise<void> {
    try {
      await running.instance.start?.();
      running.state = 'running';
    } catch (error) {
      running.state = 'failed';
      running.error = errorMessage(error);
      failed.push({ node: running.node.id, error: running.error });
      this.log.error({ node: running.node.id, error: running.error }, 'node failed to start');
    }
  }

  private async stopAll(nodes: readonly RunningNode[], reason: StopReason): Promise<void> {
    for (const running of nodes) {
      const wasRunning = running.state === 'running';
      running.state = 'stopped';
      if (!wasRunning || !running.instance.stop) continue;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), this.stopTimeoutMs);
      });
      try {
        const outcome = await Promise.race([Promise.resolve(running.instance.stop(reason)), timeout]);
        if (outcome === 'timeout') {
          this.log.warn(
            { node: running.node.id, pending: running.instance.pending?.() ?? 0, timeoutMs: this.stopTimeoutMs },
            'node did not finish stopping in time',
          );
        }
      } catch (error) {
        this.log.error({ node: running.node.id, error: errorMessage(error) }, 'node failed to stop cleanly');
      } finally {
        clearTimeout(timer);
      }
    }
  }

  private sample(): void {
    const now = performance.now();
    for (const running of this.nodes.values()) {
      const c = running.context.counters;
      const seconds = (now - running.last.at) / 1000;
      if (seconds <= 0) continue;
      running.rates = { in: (c.in - running.last.in) / seconds, out: (c.out - running.last.out) / seconds };
      running.last = { in: c.in, out: c.out, at: now };
    }
    this.events.emit('status', this.status());
  }

  status(): EngineStatus {
    return {
      flow: this.flowName,
      revision: this.revision,
      nodes: [...this.nodes.values()].map((r) => ({
        id: r.node.id,
        type: r.node.type,
        state: r.state,
        error: r.error,
        counters: { ...r.context.counters },
        rates: r.rates,
        pending: r.instance.pending?.() ?? 0,
        outbox: r.instance.outbox?.(),
      })),
      connections: this.connections.status(),
      store: this.store.status(),
      deadLetters: this.store.deadLettersRecorded,
    };
  }

  /** The last message node `id` received, or undefined (not deployed, nothing received yet). */
  lastInput(id: string): FlowMessage | undefined {
    return this.nodes.get(id)?.lastInput;
  }

  /** Stops sources first, lets every node finish (within its time limit), then closes everything. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    await this.deploying;
    this.stopped = true;
    clearInterval(this.sampler);
    const order = topologicalOrder({ nodes: [...this.nodes.values()].map((r) => r.node), edges: this.edges });
    const all = [...this.nodes.values()].sort((a, b) => (order.get(a.node.id) ?? 0) - (order.get(b.node.id) ?? 0));
    await this.stopAll(all, 'shutdown');
    this.nodes = new Map();
    await this.connections.closeAll();
    this.store.close();
    this.log.info({ flow: this.flowName }, 'engine stopped');
  }
}

function categoryRank(node: RunningNode): number {
  return node.category === 'source' ? 0 : node.category === 'process' ? 1 : 2;
}

function unwiredReason(port: string, message: FlowMessage): string {
  if (message.errors && message.errors.length > 0) {
    return `${port}: ${message.errors.map((e) => `${e.path} ${e.message}`).join('; ')}`;
  }
  return `output "${port}" is not wired`;
}

/** Position of each node in a topological order (sources first). */
export function topologicalOrder(flow: Pick<FlowDocument, 'nodes' | 'edges'>): Map<string, number> {
  const indegree = new Map(flow.nodes.map((n) => [n.id, 0]));
  for (const e of flow.edges) indegree.set(e.to.node, (indegree.get(e.to.node) ?? 0) + 1);
  const queue = flow.nodes.filter((n) => indegree.get(n.id) === 0).map((n) => n.id);
  const order = new Map<string, number>();
  while (queue.length > 0) {
    const id = queue.shift() as string;
    order.set(id, order.size);
    for (const e of flow.edges) {
      if (e.from.node !== id) continue;
      const d = (indegree.get(e.to.node) ?? 1) - 1;
      indegree.set(e.to.node, d);
      if (d === 0) queue.push(e.to.node);
    }
  }
  return order;
}

/** Identifies what runs: connections, nodes and edges, not names or layout. */
export function revisionOf(flow: FlowDocument): string {
  const content = JSON.stringify({ connections: flow.connections, nodes: flow.nodes, edges: flow.edges });
  return createHash('sha256').update(content).digest('hex').slice(0, 12);
}
