/**
 * `npm run bench`: the engine against a hand-written reference pipeline on the same libraries,
 * in one invocation, alternating runs (reference, engine, reference, engine ...), each against a
 * fresh Mosquitto on a free loopback port with the load generator in its own process.
 * Writes bench/results/latest.json and bench/results/latest.md (`--out NAME`: NAME.json, NAME.md).
 *
 * Options: --quick (smaller, for a first look), --reps N, --messages N, --soak-minutes M,
 * --only qos0,qos1,paced,scaling,soak,idle,editor,explorer,explorer-page (explorer: bench/explorerBench.ts, the
 * topic explorer's engine side under 10,000 msg/s; editor: bench/editorBench.ts, explorer-page:
 * bench/explorerPageBench.ts, both Chromium against `topicflow serve`)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startCli } from '../test/helpers/cli.js';
import { startMosquitto, type Mosquitto } from '../test/helpers/mosquitto.js';
import { repoRoot, tempDir } from '../test/helpers/paths.js';
import {
  latencies,
  prepareStore,
  processStats,
  runGenerator,
  startPipeline,
  waitForRows,
  type PipelineKind,
} from './processes.js';
import { chromiumMissing } from '../test/helpers/chromium.js';
import { editorBench, type EditorBenchResult } from './editorBench.js';
import { explorerBench, explorerBudget, explorerMarkdown, type ExplorerBenchResult } from './explorerBench.js';
import {
  explorerPageBench,
  explorerPageBudget,
  explorerPageMarkdown,
  type ExplorerPageBenchResult,
} from './explorerPageBench.js';
import { floorPerUnit, percentile, slope, spread, type Spread } from './stats.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    reps: { type: 'string' },
    messages: { type: 'string' },
    'soak-minutes': { type: 'string' },
    only: { type: 'string' },
    /** Results file name under bench/results/ (default `latest`): a partial run need not replace the full one. */
    out: { type: 'string', default: 'latest' },
  },
});
const quick = args.quick ?? false;
const reps = Number(args.reps ?? (quick ? 1 : 3));
const messages = Number(args.messages ?? (quick ? 50_000 : 200_000));
const soakMinutes = Number(args['soak-minutes'] ?? (quick ? 1 : 10));
const pacedSeconds = quick ? 5 : 10;
const only = new Set((args.only ?? 'qos0,qos1,paced,scaling,soak,idle,editor,explorer,explorer-page').split(','));
/** Broker settings for every case: never drop a queued message (default: drop beyond 1000). */
const BROKER_CONFIG = 'max_queued_messages 0\nmax_queued_bytes 0';

interface Run {
  readonly case: string;
  readonly pipeline: PipelineKind;
  readonly rep: number;
  readonly published: number;
  readonly rows: number;
  readonly loss: number;
  readonly duplicates: number;
  readonly seconds: number;
  readonly msgPerS: number;
  readonly peakRssMb: number;
  readonly cpuSeconds: number;
  readonly latencyMs?: { p50: number; p99: number; p999: number; max: number };
}

const runs: Run[] = [];
const extra: Record<string, unknown> = {};
const log = (text: string): void => {
  process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${text}\n`);
};

async function withBroker<T>(fn: (broker: Mosquitto, dir: string) => Promise<T>): Promise<T> {
  const broker = await startMosquitto({ extraConfig: BROKER_CONFIG });
  const dir = tempDir('topicflow-bench-');
  try {
    return await fn(broker, dir.path);
  } finally {
    await broker.stop();
    dir.cleanup();
  }
}

function record(run: Omit<Run, 'loss' | 'duplicates' | 'msgPerS'> & { distinct: number }): Run {
  const { distinct, ...rest } = run;
  const result: Run = {
    ...rest,
    loss: run.published - distinct,
    duplicates: run.rows - distinct,
    msgPerS: Math.round(distinct / run.seconds),
  };
  runs.push(result);
  log(
    `${run.case} ${run.pipeline} #${run.rep}: ${result.msgPerS} msg/s, loss ${result.loss}, dup ${result.duplicates}, ` +
      `peak RSS ${run.peakRssMb.toFixed(0)} MB, CPU ${run.cpuSeconds.toFixed(1)} s${
        run.latencyMs
          ? `, p50/p99/p99.9 ${run.latencyMs.p50.toFixed(1)}/${run.latencyMs.p99.toFixed(1)}/${run.latencyMs.p999.toFixed(1)} ms`
          : ''
      }`,
  );
  return result;
}

/** QoS 0: the publisher as fast as it can while the pipeline runs. First publish → last commit. */
async function qos0(
  kind: PipelineKind,
  rep: number,
  name = 'qos0',
  topics = 1000,
  pipelines = 1,
  count = messages,
  padBytes = 0,
): Promise<Run> {
  return withBroker(async (broker, dir) => {
    prepareStore(dir);
    const p = startPipeline(kind, {
      url: broker.url,
      qos: 0,
      clientId: `bench-${kind}-${rep}`,
      persistent: false,
      dir,
      pipelines,
    });
    try {
      await p.ready;
      const gen = await runGenerator({
        url: broker.url,
        count,
        qos: 0,
        rate: 0,
        topics,
        prefixes: pipelines,
        padBytes,
      });
      const progress = await waitForRows(dir, count, 3000);
      const stats = p.stats();
      return record({
        case: name,
        pipeline: kind,
        rep,
        published: gen.published,
        rows: progress.rows,
        distinct: progress.distinct,
        seconds: (progress.lastCommit - gen.firstAt) / 1000,
        peakRssMb: stats.peakRssMb,
        cpuSeconds: stats.cpuSeconds,
      });
    } finally {
      await p.stop();
    }
  });
}

/** QoS 1 drain: a backlog queued in a persistent session while the pipeline was away. */
async function qos1(
  kind: PipelineKind,
  rep: number,
  name = 'qos1-drain',
  count = messages,
  padBytes = 0,
  republish = false,
): Promise<Run> {
  return withBroker(async (broker, dir) => {
    prepareStore(dir);
    const options = {
      url: broker.url,
      qos: 1 as const,
      clientId: `bench-${kind}-${rep}`,
      persistent: true,
      dir,
      republish,
    };
    const first = startPipeline(kind, options);
    await first.ready;
    await first.stop();
    await runGenerator({ url: broker.url, count, qos: 1, rate: 0, topics: 1000, prefixes: 1, padBytes });
    const p = startPipeline(kind, options);
    try {
      const progress = await waitForRows(dir, count, 5000);
      const stats = p.stats();
      return record({
        case: name,
        pipeline: kind,
        rep,
        published: count,
        rows: progress.rows,
        distinct: progress.distinct,
        seconds: (progress.lastCommit - p.connectedAt()) / 1000,
        peakRssMb: stats.peakRssMb,
        cpuSeconds: stats.cpuSeconds,
      });
    } finally {
      await p.stop();
    }
  });
}

/** Paced QoS 1 at 5,000 msg/s: latency publish → commit. */
async function paced(kind: PipelineKind, rep: number): Promise<Run> {
  return withBroker(async (broker, dir) => {
    prepareStore(dir);
    const p = startPipeline(kind, {
      url: broker.url,
      qos: 1,
      clientId: `bench-${kind}-${rep}`,
      persistent: false,
      dir,
    });
    try {
      await p.ready;
      const count = 5000 * pacedSeconds;
      const gen = await runGenerator({
        url: broker.url,
        count,
        qos: 1,
        rate: 5000,
        topics: 1000,
        prefixes: 1,
        padBytes: 0,
      });
      const progress = await waitForRows(dir, count, 5000);
      const stats = p.stats();
      const sorted = latencies(dir);
      return record({
        case: 'paced-5000',
        pipeline: kind,
        rep,
        published: gen.published,
        rows: progress.rows,
        distinct: progress.distinct,
        seconds: (progress.lastCommit - gen.firstAt) / 1000,
        peakRssMb: stats.peakRssMb,
        cpuSeconds: stats.cpuSeconds,
        latencyMs: {
          p50: percentile(sorted, 50),
          p99: percentile(sorted, 99),
          p999: percentile(sorted, 99.9),
          max: sorted[sorted.length - 1] ?? NaN,
        },
      });
    } finally {
      await p.stop();
    }
  });
}

/** A steady QoS 1 load for minutes; RSS sampled every 5 s; slope after the first fifth. */
async function soak(): Promise<void> {
  await withBroker(async (broker, dir) => {
    prepareStore(dir);
    const p = startPipeline('engine', { url: broker.url, qos: 1, clientId: 'bench-soak', persistent: false, dir });
    try {
      await p.ready;
      const rate = 2000;
      const seconds = soakMinutes * 60;
      const samples: { x: number; y: number }[] = [];
      const start = Date.now();
      const sampler = setInterval(() => samples.push({ x: (Date.now() - start) / 60_000, y: p.stats().rssMb }), 5000);
      const gen = await runGenerator({
        url: broker.url,
        count: rate * seconds,
        qos: 1,
        rate,
        topics: 1000,
        prefixes: 1,
        padBytes: 0,
      });
      clearInterval(sampler);
      const progress = await waitForRows(dir, gen.published, 5000);
      const steady = samples.filter((s) => s.x >= soakMinutes / 5);
      extra['soak'] = {
        minutes: soakMinutes,
        rate,
        published: gen.published,
        loss: gen.published - progress.distinct,
        rssStartMb: steady[0]?.y,
        rssEndMb: steady[steady.length - 1]?.y,
        rssMaxMb: Math.max(...samples.map((s) => s.y)),
        slopeMbPerMinute: slope(steady),
        // Whole minutes only: a last, partial minute's floor is one or two samples, maybe a GC peak.
        floorSlopeMbPerMinute: slope(floorPerUnit(steady.filter((s) => s.x < soakMinutes))),
        samples,
      };
      log(`soak: ${JSON.stringify({ ...(extra['soak'] as object), samples: samples.length })}`);
    } finally {
      await p.stop();
    }
  });
}

/** RSS of an engine running the demo flow (simulator + embedded broker) after 10 s. */
async function idleDemo(): Promise<void> {
  const dir = tempDir('topicflow-bench-');
  const cli = startCli(['run', 'flows/demo.json', '--data-dir', dir.path]);
  try {
    await cli.waitForLog('flow deployed');
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    extra['idleDemo'] = processStats(cli.child.pid as number);
    log(`idle demo: ${JSON.stringify(extra['idleDemo'])}`);
  } finally {
    await cli.stop();
    dir.cleanup();
  }
}

async function alternate(name: string, fn: (kind: PipelineKind, rep: number) => Promise<Run>): Promise<void> {
  if (!only.has(name)) return;
  for (let rep = 1; rep <= reps; rep++) {
    await fn('reference', rep);
    await fn('engine', rep);
  }
}

await alternate('qos0', (k, r) => qos0(k, r));
await alternate('qos1', (k, r) => qos1(k, r));
await alternate('paced', paced);
if (only.has('scaling')) {
  const scaled = Math.min(messages, 100_000);
  for (const pipelines of [1, 10, 100]) await qos0('engine', 1, `pipelines-${pipelines}`, 1000, pipelines, scaled);
  await qos0('engine', 1, 'topics-10000', 10_000, 1, messages);
  await qos1('engine', 1, 'payload-64KB', quick ? 500 : 2000, 64 * 1024);
  await qos1('engine', 1, 'republish-outbox', quick ? 10_000 : 50_000, 0, true);
}
if (only.has('soak')) await soak();
if (only.has('idle')) await idleDemo();
if (only.has('editor')) {
  if (chromiumMissing === undefined) extra['editor'] = await editorBench(log);
  else log(`editor: skipped, ${chromiumMissing}`);
}
if (only.has('explorer')) extra['explorer'] = await explorerBench(log, { quick });
if (only.has('explorer-page')) {
  if (chromiumMissing === undefined) extra['explorer-page'] = await explorerPageBench(log, { quick });
  else log(`explorer-page: skipped, ${chromiumMissing}`);
}

// ---------------------------------------------------------------- report
interface Summary {
  readonly case: string;
  readonly reference?: Spread;
  readonly engine: Spread;
  readonly ratio?: Spread;
  readonly peakRssMb: Spread;
  readonly loss: number;
  readonly latency?: { p50: Spread; p99: Spread; p999: Spread };
  readonly referenceLatency?: { p50: Spread; p99: Spread; p999: Spread };
}

const cases = [...new Set(runs.map((r) => r.case))];
const summaries: Summary[] = cases.map((name) => {
  const of = (kind: PipelineKind) => runs.filter((r) => r.case === name && r.pipeline === kind);
  const engine = of('engine');
  const reference = of('reference');
  const ratios = engine.flatMap((e) => {
    const r = reference.find((x) => x.rep === e.rep);
    return r ? [e.msgPerS / r.msgPerS] : [];
  });
  const lat = (list: Run[]) =>
    list[0]?.latencyMs
      ? {
          p50: spread(list.map((r) => r.latencyMs?.p50 ?? NaN)),
          p99: spread(list.map((r) => r.latencyMs?.p99 ?? NaN)),
          p999: spread(list.map((r) => r.latencyMs?.p999 ?? NaN)),
        }
      : undefined;
  const latency = lat(engine);
  const referenceLatency = lat(reference);
  return {
    case: name,
    engine: spread(engine.map((r) => r.msgPerS)),
    peakRssMb: spread(engine.map((r) => r.peakRssMb)),
    loss: engine.reduce((s, r) => s + r.loss, 0),
    ...(reference.length ? { reference: spread(reference.map((r) => r.msgPerS)) } : {}),
    ...(ratios.length ? { ratio: spread(ratios) } : {}),
    ...(latency ? { latency } : {}),
    ...(referenceLatency ? { referenceLatency } : {}),
  };
});

const budget: { check: string; value: string; ok: boolean }[] = [];
const find = (name: string) => summaries.find((s) => s.case === name);
for (const name of ['qos0', 'qos1-drain']) {
  const s = find(name);
  if (s?.ratio)
    budget.push({
      check: `${name}: engine ≥ 0.9 × reference`,
      value: s.ratio.median.toFixed(2),
      ok: s.ratio.median >= 0.9,
    });
}
const q1 = find('qos1-drain');
if (q1) budget.push({ check: 'qos1-drain: loss = 0', value: String(q1.loss), ok: q1.loss === 0 });
const p = find('paced-5000');
if (p?.latency)
  budget.push({
    check: 'paced 5,000 msg/s QoS 1: p99 ≤ 25 ms',
    value: `${p.latency.p99.median.toFixed(1)} ms`,
    ok: p.latency.p99.median <= 25,
  });
const drainRss = Math.max(...['qos0', 'qos1-drain'].map((n) => find(n)?.peakRssMb.max ?? 0));
if (drainRss > 0)
  budget.push({ check: 'peak RSS during the drain ≤ 120 MB', value: `${drainRss.toFixed(0)} MB`, ok: drainRss <= 120 });
const idle = extra['idleDemo'] as { rssMb: number } | undefined;
if (idle)
  budget.push({
    check: 'idle engine with the demo flow ≤ 70 MB',
    value: `${idle.rssMb.toFixed(0)} MB`,
    ok: idle.rssMb <= 70,
  });
const soaked = extra['soak'] as
  { floorSlopeMbPerMinute: number; slopeMbPerMinute: number; minutes: number } | undefined;
if (soaked) {
  budget.push({
    check: `soak ${soaked.minutes} min: no RSS growth (slope of the per-minute RSS floor ≤ 0.5 MB/min)`,
    value: `${soaked.floorSlopeMbPerMinute.toFixed(2)} MB/min (all samples: ${soaked.slopeMbPerMinute.toFixed(2)})`,
    ok: soaked.floorSlopeMbPerMinute <= 0.5, // growth is the concern; a falling floor is warm-up settling
  });
}

const editor = extra['editor'] as EditorBenchResult | undefined;
if (editor) {
  budget.push(
    {
      check: `editor: open + fit of a ${editor.nodes}-node flow ≤ 1.5 s`,
      value: `${editor.openFitMs.toFixed(0)} ms`,
      ok: editor.openFitMs <= 1500,
    },
    {
      check: 'editor: frames while dragging a node, p95 ≤ 50 ms',
      value: `p95 ${editor.drag.p95.toFixed(1)} ms (p50 ${editor.drag.p50.toFixed(1)}, max ${editor.drag.max.toFixed(1)})`,
      ok: editor.drag.p95 <= 50,
    },
    {
      check: `editor: status events under ${editor.load.targetMsgPerS} msg/s ≤ 4/s`,
      value: `${editor.load.statusEventsPerS.toFixed(1)}/s (longest task ${editor.load.longestTaskMs.toFixed(0)} ms)`,
      ok: editor.load.statusEventsPerS <= 4,
    },
  );
}

const explorerEngine = extra['explorer'] as ExplorerBenchResult | undefined;
if (explorerEngine) budget.push(...explorerBudget(explorerEngine));
const explorerPage = extra['explorer-page'] as ExplorerPageBenchResult | undefined;
if (explorerPage) budget.push(...explorerPageBudget(explorerPage));

const machine = { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version, date: new Date().toISOString() };
const settings = { quick, reps, messages, soakMinutes, pacedSeconds, broker: BROKER_CONFIG.split('\n') };
const results = { machine, settings, summaries, budget, extra, runs };
const outDir = join(repoRoot, 'bench', 'results');
mkdirSync(outDir, { recursive: true });
const outName = args.out ?? 'latest';
if (!/^[A-Za-z0-9._-]+$/.test(outName)) throw new Error(`--out ${outName}: use letters, digits, . _ -`);
writeFileSync(join(outDir, `${outName}.json`), `${JSON.stringify(results, null, 2)}\n`);

const f = (s: Spread | undefined, digits = 0) =>
  s ? `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})` : '—';
const md = [
  '# Benchmark results',
  '',
  `${machine.date}, ${machine.cpus} × ${machine.cpu}, Node ${machine.node}; ${reps} alternating run(s) per case, ` +
    `${messages} messages; medians (min–max). Mosquitto: ${settings.broker.join(', ')}.`,
  '',
  // Only when pipeline cases ran (an `--only editor,explorer` run has none).
  ...(summaries.length > 0
    ? [
        '| case | reference msg/s | engine msg/s | engine / reference | engine peak RSS MB | loss |',
        '| --- | --- | --- | --- | --- | --- |',
        ...summaries.map(
          (s) =>
            `| ${s.case} | ${f(s.reference)} | ${f(s.engine)} | ${f(s.ratio, 2)} | ${f(s.peakRssMb)} | ${s.loss} |`,
        ),
        '',
      ]
    : []),
  ...(p?.latency
    ? [
        '| paced 5,000 msg/s QoS 1, publish → commit | p50 ms | p99 ms | p99.9 ms |',
        '| --- | --- | --- | --- |',
        `| engine | ${f(p.latency.p50, 1)} | ${f(p.latency.p99, 1)} | ${f(p.latency.p999, 1)} |`,
        `| reference | ${f(p.referenceLatency?.p50, 1)} | ${f(p.referenceLatency?.p99, 1)} | ${f(p.referenceLatency?.p999, 1)} |`,
        '',
      ]
    : []),
  ...(editor
    ? [
        `| editor, ${editor.nodes} nodes / ${editor.edges} edges, Chromium | measured |`,
        '| --- | --- |',
        `| open + fit (in-page performance.now(), menu click → all nodes measured and fitView applied) | ${editor.openFitMs.toFixed(0)} ms |`,
        `| drag frame intervals (${editor.drag.frames} frames, ${editor.drag.mouseMoves} mouse moves in ${editor.drag.seconds.toFixed(1)} s) p50 / p95 / max | ${editor.drag.p50.toFixed(1)} / ${editor.drag.p95.toFixed(1)} / ${editor.drag.max.toFixed(1)} ms |`,
        `| under load: engine rate (target ${editor.load.targetMsgPerS} msg/s), from the sink's counter in the status events | ${editor.load.achievedMsgPerS} msg/s |`,
        `| under load (${editor.load.seconds.toFixed(0)} s): long tasks, longest | ${editor.load.longTasks}, ${editor.load.longestTaskMs.toFixed(0)} ms |`,
        `| under load: frame intervals p50 / p95 / max | ${editor.load.frames.p50.toFixed(1)} / ${editor.load.frames.p95.toFixed(1)} / ${editor.load.frames.max.toFixed(1)} ms |`,
        `| under load: status events received by the page | ${editor.load.statusEvents} (${editor.load.statusEventsPerS.toFixed(1)}/s) |`,
        '',
      ]
    : []),
  ...(explorerEngine ? explorerMarkdown(explorerEngine) : []),
  ...(explorerPage ? explorerPageMarkdown(explorerPage) : []),
  '| budget | measured | |',
  '| --- | --- | --- |',
  ...budget.map((b) => `| ${b.check} | ${b.value} | ${b.ok ? 'met' : '**missed**'} |`),
  '',
];
writeFileSync(join(outDir, `${outName}.md`), md.join('\n'));
process.stdout.write(md.join('\n'));
