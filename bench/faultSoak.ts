/**
 * `npm run soak`: the fault tests of test/faults/, longer.
 *
 * (a) kill loop: `topicflow run` killed with SIGKILL at random moments `--kills` times (200) while
 *     a QoS 1 publisher sends continuously; then it runs once more and drains.
 * (b) outage: the runner is away for `--outage-minutes` (10) while `--messages` (100,000) are
 *     published and queued for its persistent session at the broker; then it comes back and
 *     drains. `--outage-mode down` (default): the process is killed (SIGKILL) and started again;
 *     `cut`: it keeps running behind a TCP proxy whose link goes dead (a black hole), then restored.
 *
 * Reports loss (acknowledged to the publisher, never stored; must be 0), duplicates in the sink
 * (must be 0), the runner's peak RSS and the drain rate. Writes bench/results/fault-soak.json
 * and .md; exits 1 when a guarantee was broken.
 *
 * `--quick`: 20 kills, a 1-minute outage, 20,000 messages. `--only kills,outage`.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { RunningCli } from '../test/helpers/cli.js';
import { startMosquitto } from '../test/helpers/mosquitto.js';
import { repoRoot, tempDir } from '../test/helpers/paths.js';
import { startSeqPublisher, verifySeqs, type SeqVerdict } from '../test/helpers/seqPublisher.js';
import { startTcpProxy, type TcpProxy } from '../test/helpers/tcpProxy.js';
import { waitFor } from '../test/helpers/waitFor.js';
import {
  describeVerdict,
  faultSeed,
  NO_QUEUE_LIMIT,
  readSeqs,
  runKillLoop,
  seededRandom,
  seqFlow,
  SEQ_TOPIC,
  sleep,
  startRunner,
  waitForDrain,
  writeFlow,
} from '../test/faults/faultKit.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    kills: { type: 'string' },
    'outage-minutes': { type: 'string' },
    'outage-mode': { type: 'string', default: 'down' },
    messages: { type: 'string' },
    only: { type: 'string', default: 'kills,outage' },
  },
});
const quick = args.quick ?? false;
const kills = Number(args.kills ?? (quick ? 20 : 200));
const outageMinutes = Number(args['outage-minutes'] ?? (quick ? 1 : 10));
const messages = Number(args.messages ?? (quick ? 20_000 : 100_000));
const outageMode = args['outage-mode'];
const only = new Set((args.only ?? '').split(','));
if (outageMode !== 'down' && outageMode !== 'cut') throw new Error('--outage-mode is down or cut');
if (!(kills >= 1 && outageMinutes > 0 && messages >= 1)) throw new Error('--kills, --outage-minutes, --messages: > 0');

const log = (text: string): void => {
  process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${text}\n`);
};

const duplicateRows = (verdict: SeqVerdict): number => verdict.duplicates.reduce((n, d) => n + d.count - 1, 0);

/** Current RSS (VmRSS) and peak RSS (VmHWM) of a live process, in MB. */
function rss(pid: number): { rssMb: number; peakRssMb: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
    return { rssMb: kb('VmRSS') / 1024, peakRssMb: kb('VmHWM') / 1024 };
  } catch {
    return undefined; // exited meanwhile
  }
}

/** Samples a process's RSS every `everyMs`; `stop()` returns the highest VmRSS seen and the last VmHWM. */
function sampleRss(pid: number, everyMs = 250): { stop(): { maxRssMb: number; peakRssMb: number } } {
  let maxRssMb = 0;
  let peakRssMb = 0;
  const sample = (): void => {
    const now = rss(pid);
    if (!now) return;
    maxRssMb = Math.max(maxRssMb, now.rssMb);
    peakRssMb = Math.max(peakRssMb, now.peakRssMb);
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    stop() {
      sample();
      clearInterval(timer);
      return { maxRssMb, peakRssMb };
    },
  };
}

interface KillsResult {
  readonly seed: number;
  readonly kills: number;
  readonly published: number;
  readonly acked: number;
  readonly rows: number;
  readonly loss: number;
  readonly duplicates: number;
  readonly redeliveriesSkippedByFinalRun: number;
  readonly finalExitCode: number | null;
  readonly seconds: number;
}

async function killsPart(): Promise<KillsResult> {
  const broker = await startMosquitto({ extraConfig: NO_QUEUE_LIMIT });
  const dir = tempDir('topicflow-soak-kills-');
  const seed = faultSeed();
  try {
    log(`kill loop: ${kills} kills, seed ${seed}`);
    const result = await runKillLoop({
      brokerUrl: broker.url,
      dir: dir.path,
      kills,
      random: seededRandom(seed),
      maxDelayMs: 700,
      ratePerSecond: 1500,
      onProgress: (n) => {
        if (n % 10 === 0) log(`kill loop: ${n}/${kills}`);
      },
    });
    log(`kill loop: ${describeVerdict(result.verdict)} in ${result.seconds.toFixed(0)} s`);
    return {
      seed,
      kills: result.kills,
      published: result.published,
      acked: result.acked,
      rows: result.verdict.rows,
      loss: result.verdict.missing.length,
      duplicates: duplicateRows(result.verdict),
      redeliveriesSkippedByFinalRun: result.redeliveriesSkipped,
      finalExitCode: result.finalExitCode,
      seconds: Math.round(result.seconds),
    };
  } finally {
    await broker.stop();
    dir.cleanup();
  }
}

interface OutageResult {
  readonly mode: 'down' | 'cut';
  readonly minutes: number;
  readonly published: number;
  readonly acked: number;
  readonly rows: number;
  readonly loss: number;
  readonly duplicates: number;
  readonly sessionPresent: boolean;
  /** Restart (down) or restore (cut) → last row committed, and connected → last row. */
  readonly drainSeconds: number;
  readonly drainMsgPerS: number;
  readonly connectedToLastRowSeconds: number;
  readonly connectedDrainMsgPerS: number;
  /** VmHWM of the runner that drained (cut: over its whole life, the outage included). */
  readonly peakRssMb: number;
  readonly maxSampledRssMb: number;
  /** cut only: RSS during the outage, first and last sample. */
  readonly outageRssMb?: { readonly first: number; readonly last: number } | undefined;
  readonly finalExitCode: number | null;
}

async function outagePart(): Promise<OutageResult> {
  const broker = await startMosquitto({ extraConfig: NO_QUEUE_LIMIT });
  const dir = tempDir('topicflow-soak-outage-');
  const dataDir = join(dir.path, 'data');
  let proxy: TcpProxy | undefined;
  let runner: RunningCli | undefined;
  try {
    if (outageMode === 'cut') proxy = await startTcpProxy(broker.port);
    const flowFile = writeFlow(
      dir.path,
      seqFlow({ url: proxy?.url ?? broker.url, clientId: 'soak-outage-runner', keepalive: proxy ? 5 : undefined }),
    );
    runner = startRunner(flowFile, dataDir);
    await runner.waitForLog('subscribed', {}, 30_000);
    // The outage starts: the broker queues everything for the runner's persistent session.
    if (proxy) {
      proxy.cut();
      await runner.waitForLog('mqtt connection lost', {}, 30_000);
    } else {
      runner.child.kill('SIGKILL');
      await runner.exited;
    }
    const outageMs = outageMinutes * 60_000;
    const outageEnds = Date.now() + outageMs;
    const outageRss: number[] = [];
    const rssDuringOutage = proxy
      ? setInterval(() => {
          const now = rss(runner?.child.pid as number);
          if (now) outageRss.push(now.rssMb);
        }, 5000)
      : undefined;
    log(`outage (${outageMode}): ${messages} messages over ${outageMinutes} min`);
    const publisher = await startSeqPublisher({
      url: broker.url,
      topic: SEQ_TOPIC,
      clientId: 'soak-outage-publisher',
      count: messages,
      window: 100,
      // Spread over 90 % of the outage, so all is queued before the runner returns.
      ratePerSecond: messages / ((outageMs * 0.9) / 1000),
    });
    await publisher.waitForAcked(messages, outageMs + 60_000);
    const published = await publisher.stop();
    await sleep(Math.max(0, outageEnds - Date.now()));
    if (rssDuringOutage) clearInterval(rssDuringOutage);

    log(`outage over: the runner ${proxy ? 'gets its link back' : 'starts again'} and drains`);
    const connectsBefore = runner.logs().filter((l) => l['msg'] === 'mqtt connected').length;
    const backAt = Date.now();
    if (proxy) proxy.restore();
    else runner = startRunner(flowFile, dataDir);
    const sampler = sampleRss(runner.child.pid as number);
    const current = runner;
    // The connection after the outage: the restarted runner's first, or the cut runner's next one.
    const connected = await waitFor(
      'the runner connected after the outage',
      () => current.logs().filter((l) => l['msg'] === 'mqtt connected')[proxy ? connectsBefore : 0],
      proxy ? 90_000 : 30_000,
    );
    const { lastRowAt } = await waitForDrain(dataDir, published.acked, 15_000, 30 * 60_000);
    const memory = sampler.stop();
    const exit = await runner.stop('SIGTERM', 60_000);
    const verdict = verifySeqs(readSeqs(dataDir), published.acked);
    const drainSeconds = (lastRowAt - backAt) / 1000;
    const connectedSeconds = (lastRowAt - Date.parse(String(connected['time']))) / 1000;
    const result: OutageResult = {
      mode: outageMode as 'down' | 'cut',
      minutes: outageMinutes,
      published: published.published,
      acked: published.acked.size,
      rows: verdict.rows,
      loss: verdict.missing.length,
      duplicates: duplicateRows(verdict),
      sessionPresent: connected['sessionPresent'] === true,
      drainSeconds: Number(drainSeconds.toFixed(2)),
      drainMsgPerS: Math.round(verdict.distinct / drainSeconds),
      connectedToLastRowSeconds: Number(connectedSeconds.toFixed(2)),
      connectedDrainMsgPerS: Math.round(verdict.distinct / connectedSeconds),
      peakRssMb: Math.round(memory.peakRssMb),
      maxSampledRssMb: Math.round(memory.maxRssMb),
      outageRssMb: outageRss.length
        ? { first: Math.round(outageRss[0] as number), last: Math.round(outageRss[outageRss.length - 1] as number) }
        : undefined,
      finalExitCode: exit.code,
    };
    log(`outage: ${describeVerdict(verdict)}; ${JSON.stringify(result)}`);
    return result;
  } finally {
    await runner?.stop('SIGKILL');
    await proxy?.close();
    await broker.stop();
    dir.cleanup();
  }
}

const startedAt = new Date().toISOString();
const results: { kills?: KillsResult; outage?: OutageResult } = {};
if (only.has('kills')) results.kills = await killsPart();
if (only.has('outage')) results.outage = await outagePart();

const checks: { check: string; value: string; ok: boolean }[] = [];
const guarantee = (name: string, value: number | null, ok: boolean): void => {
  checks.push({ check: name, value: String(value), ok });
};
if (results.kills) {
  const k = results.kills;
  guarantee(`kill loop (${k.kills} kills): loss = 0`, k.loss, k.loss === 0);
  guarantee('kill loop: duplicates = 0', k.duplicates, k.duplicates === 0);
  guarantee('kill loop: the final run drains and exits 0', k.finalExitCode, k.finalExitCode === 0);
}
if (results.outage) {
  const o = results.outage;
  guarantee(`outage (${o.minutes} min, ${o.mode}): loss = 0`, o.loss, o.loss === 0);
  guarantee('outage: duplicates = 0', o.duplicates, o.duplicates === 0);
  guarantee('outage: the broker kept the session', Number(o.sessionPresent), o.sessionPresent);
}

const settings = {
  quick,
  kills,
  outageMinutes,
  outageMode,
  messages,
  broker: NO_QUEUE_LIMIT.split('\n'),
  publisher: 'QoS 1, persistent session; kill loop 1,500 msg/s (window 50); outage: paced over 90 % of it (window 100)',
};
const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'CPU'}, Node ${process.version}`;
const outDir = join(repoRoot, 'bench', 'results');
mkdirSync(outDir, { recursive: true });
writeFileSync(
  join(outDir, 'fault-soak.json'),
  `${JSON.stringify({ startedAt, machine, settings, results, checks }, null, 2)}\n`,
);

const md: string[] = [
  '# Fault soak results',
  '',
  `${startedAt}, ${machine}; \`npm run soak${quick ? ' -- --quick' : ''}\`. Mosquitto: ${settings.broker.join(', ')}. ${settings.publisher}.`,
  '',
];
if (results.kills) {
  const k = results.kills;
  md.push(
    '## Kill loop',
    '',
    `\`topicflow run\` (mqtt-in QoS 1, persistent session → sqlite-sink) killed with SIGKILL at a random moment 0–700 ms after \`flow deployed\`, ${k.kills} times, seed ${k.seed} (\`FAULT_SEED\`); then one more run drains and stops with SIGTERM.`,
    '',
    '| kills | published | acknowledged | rows | loss | duplicates | redeliveries skipped (final run) | seconds |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    `| ${k.kills} | ${k.published} | ${k.acked} | ${k.rows} | ${k.loss} | ${k.duplicates} | ${k.redeliveriesSkippedByFinalRun} | ${k.seconds} |`,
    '',
  );
}
if (results.outage) {
  const o = results.outage;
  md.push(
    '## Outage',
    '',
    o.mode === 'down'
      ? `The runner killed (SIGKILL) for ${o.minutes} min while the messages were published and queued at the broker, then started again. Drain: start → last row committed.`
      : `The runner's link cut (a black hole behind a TCP proxy, keepalive 5 s) for ${o.minutes} min while the messages were published and queued at the broker, then restored. Drain: restore → last row committed (includes the reconnect backoff).`,
    '',
    '| published | acknowledged | rows | loss | duplicates | session kept | drain s | drain msg/s | connected → last row s (msg/s) | peak RSS MB (VmHWM) | max sampled RSS MB |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    `| ${o.published} | ${o.acked} | ${o.rows} | ${o.loss} | ${o.duplicates} | ${o.sessionPresent ? 'yes' : 'no'} | ${o.drainSeconds} | ${o.drainMsgPerS} | ${o.connectedToLastRowSeconds} (${o.connectedDrainMsgPerS}) | ${o.peakRssMb} | ${o.maxSampledRssMb} |`,
    '',
  );
  if (o.outageRssMb) md.push(`RSS while cut off: ${o.outageRssMb.first} MB → ${o.outageRssMb.last} MB.`, '');
}
md.push(
  '| guarantee | measured | |',
  '| --- | --- | --- |',
  ...checks.map((c) => `| ${c.check} | ${c.value} | ${c.ok ? 'met' : 'MISSED'} |`),
  '',
);
writeFileSync(join(outDir, 'fault-soak.md'), md.join('\n'));
log(`results in bench/results/fault-soak.json and fault-soak.md`);
if (checks.some((c) => !c.ok)) process.exitCode = 1;
