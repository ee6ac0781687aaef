/**
 * The `explorer` case of `npm run bench`: the topic explorer's engine half under load.
 *
 * `topicflow serve` (the launcher's Node flags, no default broker) watches a real Mosquitto; a
 * protocol client on the WebSocket keeps the page's model (snapshot, then every `explorer.delta`
 * applied) without a browser; bench/loadGenerator.ts publishes 10,000 msg/s (QoS 1) spread over
 * 10,000 topics for 60 s (15 s with --quick). Measured:
 * - counts: the engine's tree (a final snapshot) and the client's delta-built model both equal
 *   what was published, per topic and in total;
 * - the engine's peak RSS (VmHWM), and its RSS sampled every second: the median of 3 samples
 *   halfway between the moment every topic's history is full and the end, vs the median of the
 *   last 3 s (RSS keeps rising for a few seconds after the limit while V8 grows its heap to the
 *   steady state). The history limit is set with `--explorer-history` so that every topic fills it
 *   a quarter of the way into the run (15 messages per topic over 60 s; 4 over 15 s);
 * - `explorer.delta` events per second (overall, and the most in any one-second window).
 *
 * `startExplorerLoad` is the hook for a page-side measurement: it starts Mosquitto, `topicflow
 * serve` and the explorer connection, and runs the load on demand.
 */
import WebSocket from 'ws';
import type { ExplorerEvents, TopicStat } from '../shared/protocol/explorerProtocol.js';
import type { EventEnvelope, ResponseEnvelope } from '../shared/protocol/protocol.js';
import { startServe, type RunningCli } from '../test/helpers/cli.js';
import { startMosquitto, type Mosquitto } from '../test/helpers/mosquitto.js';
import { tempDir } from '../test/helpers/paths.js';
import { waitFor } from '../test/helpers/waitFor.js';
import { processStats, runGenerator, type GeneratorResult } from './processes.js';
import { median } from './stats.js';

const BROKER_CONFIG = 'max_queued_messages 0\nmax_queued_bytes 0';
const TOPICS = 10_000;
const RATE = 10_000;

export interface ExplorerBenchResult {
  readonly seconds: number;
  readonly topics: number;
  readonly targetMsgPerS: number;
  readonly published: number;
  readonly achievedMsgPerS: number;
  /** The engine's tree (final snapshot) equals what was published, per topic and in total. */
  readonly engineCountsExact: boolean;
  /** The client's model from snapshot + deltas equals what was published. */
  readonly deltaCountsExact: boolean;
  readonly engineMessages: number;
  readonly enginePeakRssMb: number;
  readonly historyPerTopic: number;
  /** Seconds into the run when every topic had filled its history. */
  readonly historyFullAtS: number;
  readonly rssAtLimitMb: number;
  readonly rssEndMb: number;
  readonly deltasPerS: number;
  readonly maxDeltasInOneSecond: number;
  readonly topicsPerDelta: number;
  readonly rssSamples: readonly { readonly s: number; readonly mb: number }[];
}

/** A minimal protocol client that keeps only the page's model (not every event). */
class ModelClient {
  readonly counts = new Map<string, number>();
  deltaTimes: number[] = [];
  deltaTopics = 0;
  private nextId = 1;
  private readonly waiting = new Map<number, (r: ResponseEnvelope) => void>();

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const envelope = JSON.parse(String(data)) as ResponseEnvelope | EventEnvelope;
      if (envelope.kind === 'response') {
        this.waiting.get(envelope.id)?.(envelope);
        this.waiting.delete(envelope.id);
      } else if (envelope.event === 'explorer.delta') {
        const delta = envelope.data as ExplorerEvents['explorer.delta'];
        this.deltaTimes.push(performance.now());
        this.deltaTopics += delta.topics.length;
        for (const t of delta.topics) this.counts.set(t.topic, t.count);
      }
    });
  }

  static async open(url: string): Promise<ModelClient> {
    const socket = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return new ModelClient(socket);
  }

  call<T>(method: string, params: unknown = {}): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${method}: no answer in 60 s`)), 60_000);
      this.waiting.set(id, (r) => {
        clearTimeout(timer);
        if (r.ok) resolve(r.result as T);
        else reject(new Error(`${method}: ${r.error.code}: ${r.error.message}`));
      });
      this.socket.send(JSON.stringify({ kind: 'request', id, method, params }));
    });
  }

  close(): void {
    this.socket.close();
  }
}

export interface ExplorerLoad {
  /** The editor page's URL (`topicflow serve`). */
  readonly url: string;
  /** The WebSocket API's URL. */
  readonly apiUrl: string;
  readonly broker: Mosquitto;
  readonly cli: RunningCli;
  /** The explorer connection's id. */
  readonly connection: string;
  /** Publishes `rate` msg/s (QoS 1) over `topics` topics (`fleet/dev-N/telemetry`) for `seconds`. */
  runLoad(options: { rate: number; topics: number; seconds: number }): Promise<GeneratorResult>;
  /** The engine's RSS now and at its peak. */
  engineStats(): { rssMb: number; peakRssMb: number };
  stop(): Promise<void>;
}

/**
 * The hook for a page-side measurement: Mosquitto, `topicflow serve --no-default-broker` with an
 * explorer connection `bench` on it (filter `fleet/#`), ready; the load runs when asked.
 */
export async function startExplorerLoad(options: { historyPerTopic?: number } = {}): Promise<ExplorerLoad> {
  const tmp = tempDir('topicflow-explorer-bench-');
  const broker = await startMosquitto({ extraConfig: BROKER_CONFIG });
  const { cli, url } = await startServe(tmp.path, tmp.path, [
    '--explorer-history',
    String(options.historyPerTopic ?? 100),
    '--log-level',
    'warn',
  ]);
  try {
    const apiUrl = `${url.replace(/^http/, 'ws').replace(/\/?(\?.*)?$/, '')}/api`;
    const setup = await ModelClient.open(apiUrl);
    try {
      await setup.call('explorer.connections.save', {
        config: {
          connection: { id: 'bench', url: broker.url, protocolVersion: 5 },
          filters: ['fleet/#'],
          enabled: true,
        },
      });
      await waitFor(
        'the explorer connected',
        async () =>
          (await setup.call<{ connections: { state: string }[] }>('explorer.connections.list')).connections[0]
            ?.state === 'connected',
        10_000,
      );
    } finally {
      setup.close();
    }
    return {
      url,
      apiUrl,
      broker,
      cli,
      connection: 'bench',
      runLoad: ({ rate, topics, seconds }) =>
        runGenerator({ url: broker.url, count: rate * seconds, qos: 1, rate, topics, prefixes: 1, padBytes: 0 }),
      engineStats: () => {
        const s = processStats(cli.child.pid as number);
        return { rssMb: s.rssMb, peakRssMb: s.peakRssMb };
      },
      async stop() {
        await cli.stop();
        await broker.stop();
        tmp.cleanup();
      },
    };
  } catch (error) {
    await cli.stop();
    await broker.stop();
    tmp.cleanup();
    throw error;
  }
}

export async function explorerBench(
  log: (text: string) => void,
  options: { quick: boolean },
): Promise<ExplorerBenchResult> {
  const seconds = options.quick ? 15 : 60;
  // Every topic fills its history a quarter of the way in.
  const historyPerTopic = Math.round(((seconds / 4) * RATE) / TOPICS);
  const historyFullAtS = (historyPerTopic * TOPICS) / RATE;
  const load = await startExplorerLoad({ historyPerTopic });
  let client: ModelClient | undefined;
  try {
    client = await ModelClient.open(load.apiUrl);
    const model = client;
    const snapshot = await model.call<{ seq: number; topics: TopicStat[] }>('explorer.tree.snapshot', {
      connection: load.connection,
    });
    for (const t of snapshot.topics) model.counts.set(t.topic, t.count);
    const samples: { s: number; mb: number }[] = [];
    const start = performance.now();
    const sampler = setInterval(() => {
      samples.push({ s: (performance.now() - start) / 1000, mb: load.engineStats().rssMb });
    }, 1000);
    log(`explorer: ${RATE} msg/s over ${TOPICS} topics for ${seconds} s, history ${historyPerTopic} per topic`);
    let generated: GeneratorResult;
    try {
      generated = await load.runLoad({ rate: RATE, topics: TOPICS, seconds });
      const expected = generated.published;
      await waitFor(
        'the engine to count every message',
        async () =>
          (await model.call<{ connections: { messages: number }[] }>('explorer.connections.list')).connections[0]
            ?.messages === expected,
        60_000,
        200,
      ).catch(() => undefined);
      // Two more delta intervals: the last changes reach the client.
      await new Promise((resolve) => setTimeout(resolve, 500));
    } finally {
      clearInterval(sampler);
    }
    const loadSeconds = (generated.lastAt - generated.firstAt) / 1000;
    const final = await model.call<{ topics: TopicStat[] }>('explorer.tree.snapshot', { connection: load.connection });
    const perTopic = generated.published / TOPICS;
    const engineTotal = final.topics.reduce((n, t) => n + t.count, 0);
    const engineCountsExact =
      final.topics.length === TOPICS &&
      engineTotal === generated.published &&
      final.topics.every((t) => t.count === perTopic);
    const modelTotal = [...model.counts.values()].reduce((n, c) => n + c, 0);
    const deltaCountsExact =
      model.counts.size === TOPICS &&
      modelTotal === generated.published &&
      [...model.counts.values()].every((c) => c === perTopic);

    const inLoad = model.deltaTimes.filter((t) => t >= start && t <= start + loadSeconds * 1000 + 500);
    let maxInOneSecond = 0;
    for (let i = 0, j = 0; i < inLoad.length; i++) {
      while ((inLoad[i] as number) - (inLoad[j] as number) >= 1000) j++;
      maxInOneSecond = Math.max(maxInOneSecond, i - j + 1);
    }
    const settle = (historyFullAtS + seconds) / 2;
    const atLimit = samples.filter((x) => x.s >= settle && x.s < settle + 3).map((x) => x.mb);
    const end = samples.slice(-3).map((x) => x.mb);
    const stats = load.engineStats();
    const result: ExplorerBenchResult = {
      seconds,
      topics: TOPICS,
      targetMsgPerS: RATE,
      published: generated.published,
      achievedMsgPerS: Math.round(generated.published / loadSeconds),
      engineCountsExact,
      deltaCountsExact,
      engineMessages: engineTotal,
      enginePeakRssMb: stats.peakRssMb,
      historyPerTopic,
      historyFullAtS,
      rssAtLimitMb: median(atLimit),
      rssEndMb: median(end),
      deltasPerS: inLoad.length / loadSeconds,
      maxDeltasInOneSecond: maxInOneSecond,
      topicsPerDelta: model.deltaTimes.length > 0 ? Math.round(model.deltaTopics / model.deltaTimes.length) : 0,
      rssSamples: samples.map((x) => ({ s: Math.round(x.s), mb: Math.round(x.mb * 10) / 10 })),
    };
    log(
      `explorer: published ${result.published} (${result.achievedMsgPerS} msg/s), engine counted ${engineTotal}` +
        ` (exact: ${engineCountsExact}), deltas model exact: ${deltaCountsExact}; peak RSS ${stats.peakRssMb.toFixed(0)} MB,` +
        ` RSS at history limit ${result.rssAtLimitMb.toFixed(0)} MB → end ${result.rssEndMb.toFixed(0)} MB;` +
        ` ${result.deltasPerS.toFixed(1)} deltas/s (max ${maxInOneSecond} in 1 s, ~${result.topicsPerDelta} topics each)`,
    );
    return result;
  } finally {
    client?.close();
    await load.stop();
  }
}

/** Budget lines for bench/results/latest.md. */
export function explorerBudget(r: ExplorerBenchResult): { check: string; value: string; ok: boolean }[] {
  return [
    {
      check: `explorer: counts exact at ${r.targetMsgPerS} msg/s over ${r.topics} topics (engine tree and snapshot+deltas)`,
      value: `${r.engineMessages} of ${r.published}; deltas model ${r.deltaCountsExact ? 'exact' : 'off'}`,
      ok: r.engineCountsExact && r.deltaCountsExact,
    },
    {
      check: 'explorer: explorer.delta ≤ 10/s per connection',
      value: `${r.deltasPerS.toFixed(1)}/s (max ${r.maxDeltasInOneSecond} in one second)`,
      ok: r.maxDeltasInOneSecond <= 10,
    },
    {
      check: 'explorer: engine RSS does not grow after the history limits are reached (≤ +10 MB)',
      value: `${r.rssAtLimitMb.toFixed(0)} → ${r.rssEndMb.toFixed(0)} MB (peak ${r.enginePeakRssMb.toFixed(0)} MB)`,
      ok: r.rssEndMb - r.rssAtLimitMb <= 10,
    },
  ];
}

export function explorerMarkdown(r: ExplorerBenchResult): string[] {
  return [
    `| explorer engine, ${r.targetMsgPerS} msg/s over ${r.topics} topics for ${r.seconds} s (QoS 1) | measured |`,
    '| --- | --- |',
    `| published / achieved rate | ${r.published} / ${r.achievedMsgPerS} msg/s |`,
    `| engine tree count / client model from snapshot + deltas | ${r.engineMessages} (${r.engineCountsExact ? 'exact' : 'NOT exact'}) / ${r.deltaCountsExact ? 'exact' : 'NOT exact'} |`,
    `| engine peak RSS | ${r.enginePeakRssMb.toFixed(0)} MB |`,
    `| engine RSS halfway from history full (${r.historyPerTopic}/topic at ${r.historyFullAtS} s) to the end → end | ${r.rssAtLimitMb.toFixed(0)} → ${r.rssEndMb.toFixed(0)} MB |`,
    `| explorer.delta events per second (max in one second), topics per delta | ${r.deltasPerS.toFixed(1)} (${r.maxDeltasInOneSecond}), ${r.topicsPerDelta} |`,
    '',
  ];
}
