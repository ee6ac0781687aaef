import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { EngineStatus, NodeStatus, OutboxStatus } from '../engine/flowEngine.js';
import type { ConnectionStatus } from '../engine/mqtt/connectionManager.js';
import { ACK_LATENCY_BOUNDS_MS, type LatencySnapshot } from '../engine/runtime/latencyHistogram.js';
import { healthOf, urlWithoutCredentials, type HealthOptions, type HealthState } from './health.js';

/** Anything that reports an engine status (the FlowEngine; a stub in tests). */
export interface StatusSource {
  status(): EngineStatus;
}

export interface MetricsOptions {
  /** prom-client's process and Node.js metrics (CPU, memory, event loop lag, GC) too. Default true. */
  readonly processMetrics?: boolean;
  readonly health?: HealthOptions;
}

export interface EngineMetrics {
  readonly registry: Registry;
  readonly contentType: string;
  /** One scrape: reads the engine's status once and renders every metric from it. */
  render(): Promise<string>;
}

type NodeLabel = 'node' | 'type';
type ConnectionLabel = 'connection' | 'url';

const HEALTH_STATES: readonly HealthState[] = ['healthy', 'degraded', 'unhealthy'];

/**
 * Prometheus metrics of one engine in a private registry (never prom-client's global one). Every
 * engine metric is computed when scraped, from one `status()` read per scrape, so the hot path
 * does nothing for them and nodes or connections that are gone disappear from the output.
 */
export function createMetrics(source: StatusSource, options: MetricsOptions = {}): EngineMetrics {
  const registry = new Registry();
  let scrape: EngineStatus | undefined;
  const current = (): EngineStatus => scrape ?? source.status();
  const registers = [registry];

  // One metric per field, filled from the status at collect time.
  const nodeMetric = (
    kind: 'counter' | 'gauge',
    name: string,
    help: string,
    value: (node: NodeStatus) => number,
  ): void => {
    const collect = function (this: Counter<NodeLabel> | Gauge<NodeLabel>): void {
      this.reset();
      for (const node of current().nodes) setValue(this, { node: node.id, type: node.type }, value(node));
    };
    if (kind === 'counter') new Counter<NodeLabel>({ name, help, labelNames: ['node', 'type'], registers, collect });
    else new Gauge<NodeLabel>({ name, help, labelNames: ['node', 'type'], registers, collect });
  };
  const outboxMetric = (
    kind: 'counter' | 'gauge',
    name: string,
    help: string,
    value: (outbox: OutboxStatus) => number,
  ): void => {
    const collect = function (this: Counter<NodeLabel> | Gauge<NodeLabel>): void {
      this.reset();
      for (const node of current().nodes) {
        if (node.outbox) setValue(this, { node: node.id, type: node.type }, value(node.outbox));
      }
    };
    if (kind === 'counter') new Counter<NodeLabel>({ name, help, labelNames: ['node', 'type'], registers, collect });
    else new Gauge<NodeLabel>({ name, help, labelNames: ['node', 'type'], registers, collect });
  };
  const connectionMetric = (
    kind: 'counter' | 'gauge',
    name: string,
    help: string,
    value: (connection: ConnectionStatus) => number,
  ): void => {
    const collect = function (this: Counter<ConnectionLabel> | Gauge<ConnectionLabel>): void {
      this.reset();
      for (const c of current().connections) setValue(this, connectionLabels(c), value(c));
    };
    const labelNames: ConnectionLabel[] = ['connection', 'url'];
    if (kind === 'counter') new Counter<ConnectionLabel>({ name, help, labelNames, registers, collect });
    else new Gauge<ConnectionLabel>({ name, help, labelNames, registers, collect });
  };

  new Gauge<'flow' | 'revision'>({
    name: 'topicflow_flow_info',
    help: 'The flow that runs (value 1), by name and revision.',
    labelNames: ['flow', 'revision'],
    registers,
    collect() {
      this.reset();
      const status = current();
      if (status.flow !== undefined) this.set({ flow: status.flow, revision: status.revision ?? '' }, 1);
    },
  });
  new Gauge<'status'>({
    name: 'topicflow_health_status',
    help: 'Health as served on /health: 1 for the current status (healthy, degraded or unhealthy), 0 for the others.',
    labelNames: ['status'],
    registers,
    collect() {
      const health = healthOf(current(), options.health);
      for (const state of HEALTH_STATES) this.set({ status: state }, health.status === state ? 1 : 0);
    },
  });

  nodeMetric('counter', 'topicflow_node_messages_in_total', 'Messages a node received.', (n) => n.counters.in);
  nodeMetric('counter', 'topicflow_node_messages_out_total', 'Messages a node emitted.', (n) => n.counters.out);
  nodeMetric(
    'counter',
    'topicflow_node_errors_total',
    'Messages a node failed (each became a dead letter).',
    (n) => n.counters.errors,
  );
  nodeMetric(
    'counter',
    'topicflow_node_dropped_total',
    'Messages a node dropped at a bound (declared, counted).',
    (n) => n.counters.dropped,
  );
  nodeMetric('gauge', 'topicflow_node_pending', 'Messages a node holds, not finished yet.', (n) => n.pending);
  nodeMetric('gauge', 'topicflow_node_up', '1 while the node is running, 0 otherwise.', (n) =>
    n.state === 'running' ? 1 : 0,
  );

  connectionMetric('gauge', 'topicflow_connection_up', '1 while the MQTT connection is connected.', (c) =>
    c.state === 'connected' ? 1 : 0,
  );
  connectionMetric(
    'counter',
    'topicflow_connection_connects_total',
    'Successful MQTT connects (reconnects included).',
    (c) => c.connects,
  );
  connectionMetric(
    'gauge',
    'topicflow_connection_unacknowledged',
    'QoS 1/2 messages received and not acknowledged yet (their work is not finished).',
    (c) => c.unacknowledged,
  );
  new SnapshotHistogram({
    name: 'topicflow_ack_latency_seconds',
    help: 'Time from a QoS 1/2 message reaching the engine to its PUBACK/PUBCOMP being written.',
    labelNames: ['connection', 'url'],
    buckets: ACK_LATENCY_BOUNDS_MS.map((ms) => ms / 1000),
    registers,
    snapshots: () =>
      current().connections.flatMap((c) =>
        c.ackLatency ? [{ labels: connectionLabels(c), histogram: c.ackLatency }] : [],
      ),
  });

  outboxMetric('gauge', 'topicflow_outbox_depth', 'Messages waiting or in flight in the outbox.', (o) => o.depth);
  outboxMetric('gauge', 'topicflow_outbox_bytes', 'Payload bytes in the outbox.', (o) => o.bytes);
  outboxMetric('gauge', 'topicflow_outbox_max_messages', 'Capacity of the outbox, in messages.', (o) => o.maxCount);
  outboxMetric('gauge', 'topicflow_outbox_max_bytes', 'Capacity of the outbox, in payload bytes.', (o) => o.maxBytes);
  outboxMetric('gauge', 'topicflow_outbox_in_flight', 'Outbox messages being sent now.', (o) => o.inFlight);
  outboxMetric('counter', 'topicflow_outbox_sent_total', 'Messages delivered from the outbox.', (o) => o.sent);
  outboxMetric(
    'counter',
    'topicflow_outbox_evicted_total',
    'Messages evicted from a full outbox to make room.',
    (o) => o.evicted,
  );
  outboxMetric('counter', 'topicflow_outbox_retries_total', 'Deliveries retried after a failure.', (o) => o.retries);
  outboxMetric('gauge', 'topicflow_outbox_failing', '1 while the last delivery attempt failed.', (o) =>
    o.failing ? 1 : 0,
  );

  new Counter({
    name: 'topicflow_dead_letters_total',
    help: 'Dead letters recorded since the engine started.',
    registers,
    collect() {
      this.reset();
      this.inc(current().deadLetters);
    },
  });
  new Gauge({
    name: 'topicflow_store_up',
    help: '1 while the SQLite store accepts writes, 0 while writes fail.',
    registers,
    collect() {
      this.set(current().store.state === 'ok' ? 1 : 0);
    },
  });

  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });

  return {
    registry,
    contentType: registry.contentType,
    async render() {
      // Every collect() runs synchronously inside metrics() before its first await: one status.
      scrape = source.status();
      try {
        return await registry.metrics();
      } finally {
        scrape = undefined;
      }
    },
  };
}

function connectionLabels(c: ConnectionStatus): Record<ConnectionLabel, string> {
  return { connection: c.id, url: urlWithoutCredentials(c.url) };
}

function setValue<T extends string>(
  metric: Counter<T> | Gauge<T>,
  labels: Partial<Record<T, string>>,
  value: number,
): void {
  if (metric instanceof Counter) metric.inc(labels, value);
  else metric.set(labels, value);
}

interface LabelledSnapshot {
  readonly labels: Record<ConnectionLabel, string>;
  readonly histogram: LatencySnapshot;
}

type MetricLine = { labels: Record<string, string | number>; value: number; metricName: string };

/**
 * A Prometheus histogram whose buckets are copied, at scrape time, from histograms the engine
 * keeps itself (allocation-free on the hot path), instead of being observed through prom-client.
 */
class SnapshotHistogram extends Histogram<ConnectionLabel> {
  private readonly snapshots: () => readonly LabelledSnapshot[];
  private readonly metricName: string;
  private readonly metricHelp: string;

  constructor(config: {
    name: string;
    help: string;
    labelNames: ConnectionLabel[];
    buckets: number[];
    registers: Registry[];
    snapshots: () => readonly LabelledSnapshot[];
  }) {
    const { snapshots, ...histogram } = config;
    super(histogram);
    this.snapshots = snapshots;
    this.metricName = histogram.name;
    this.metricHelp = histogram.help;
  }

  override async get(): Promise<Awaited<ReturnType<Histogram<ConnectionLabel>['get']>>> {
    return this.getForPromString() as never;
  }

  /** What the registry renders (it prefers this over get()). */
  async getForPromString(): Promise<{
    name: string;
    help: string;
    type: 'histogram';
    values: MetricLine[];
    aggregator: 'sum';
  }> {
    const values: MetricLine[] = [];
    for (const { labels, histogram } of this.snapshots()) {
      let cumulative = 0;
      for (let i = 0; i < histogram.counts.length; i++) {
        cumulative += histogram.counts[i] as number;
        const bound = histogram.boundsMs[i];
        values.push({
          labels: { ...labels, le: bound === undefined ? '+Inf' : bound / 1000 },
          value: cumulative,
          metricName: `${this.metricName}_bucket`,
        });
      }
      values.push({ labels, value: histogram.sumMs / 1000, metricName: `${this.metricName}_sum` });
      values.push({ labels, value: histogram.count, metricName: `${this.metricName}_count` });
    }
    return { name: this.metricName, help: this.metricHelp, type: 'histogram', values, aggregator: 'sum' };
  }
}
