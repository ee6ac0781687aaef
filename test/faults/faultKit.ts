/**
 * What the fault tests (and `npm run soak`, bench/faultSoak.ts) share: the flow under test, the
 * runner started as a user starts it, reading what it stored, a seeded random source and the
 * kill loop itself.
 */
import Database from 'better-sqlite3';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { STORE_FILE } from '../../main/engine/store/store.js';
import { startCli, type RunningCli } from '../helpers/cli.js';
import { startSeqPublisher, verifySeqs, type SeqPublisherResult, type SeqVerdict } from '../helpers/seqPublisher.js';
import { mulberry32 } from '../../main/engine/simulator/fleetModel.js';

/** Broker settings: never drop what is queued for a persistent session (default: beyond 1000). */
export const NO_QUEUE_LIMIT = 'max_queued_messages 0\nmax_queued_bytes 0';

export const SEQ_TOPIC = 'fault/seq';
export const SEQ_TABLE = 'seqs';

export interface SeqFlowOptions {
  readonly url: string;
  /** The runner's fixed client id: its persistent session at the broker. */
  readonly clientId: string;
  readonly keepalive?: number;
  readonly topic?: string;
  /** SQLite sinks, each storing `seq` (default: one, table `seqs`, dedupe `auto`). */
  readonly sinks?: readonly { readonly table: string; readonly dedupe?: string }[];
}

/** mqtt-in QoS 1 on a persistent session → sqlite-sink(s) storing each message's `seq`. */
export function seqFlow(options: SeqFlowOptions): Record<string, unknown> {
  const sinks = options.sinks ?? [{ table: SEQ_TABLE }];
  return {
    format: 'topicflow/flow@1',
    name: 'fault: seq to SQLite',
    connections: [
      {
        id: 'broker',
        url: options.url,
        protocolVersion: 5,
        clientId: options.clientId,
        clean: false,
        sessionExpiry: 3600,
        ...(options.keepalive !== undefined ? { keepalive: options.keepalive } : {}),
      },
    ],
    nodes: [
      {
        id: 'in',
        type: 'mqtt-in',
        config: { connection: 'broker', topic: options.topic ?? SEQ_TOPIC, qos: 1, decoding: 'json' },
      },
      ...sinks.map((sink, i) => ({
        id: i === 0 ? 'store' : `store${i}`,
        type: 'sqlite-sink',
        config: {
          table: sink.table,
          includePayload: false,
          columns: [{ name: 'seq', path: 'payload.seq', type: 'integer' }],
          ...(sink.dedupe !== undefined ? { dedupe: sink.dedupe } : {}),
        },
      })),
    ],
    edges: sinks.map((_, i) => ({
      id: `e${i}`,
      from: { node: 'in', port: 'out' },
      to: { node: i === 0 ? 'store' : `store${i}`, port: 'in' },
    })),
  };
}

/** Writes a flow to `dir/flow.json` and returns its path. */
export function writeFlow(dir: string, flow: unknown): string {
  const file = join(dir, 'flow.json');
  writeFileSync(file, JSON.stringify(flow, null, 2));
  return file;
}

/** `topicflow run flowFile --data-dir dataDir`, as a user runs it. */
export function startRunner(flowFile: string, dataDir: string): RunningCli {
  return startCli(['run', flowFile, '--data-dir', dataDir, '--stop-timeout', '20000']);
}

/** Runs `fn` on the runner's store, opened read-only (undefined while it does not exist yet). */
export function withStore<T>(dataDir: string, fn: (db: Database.Database) => T): T | undefined {
  const file = join(dataDir, STORE_FILE);
  if (!existsSync(file)) return undefined;
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/** Every stored seq (one entry per row). */
export function readSeqs(dataDir: string, table = SEQ_TABLE): { seq: number | null }[] {
  return (
    withStore(dataDir, (db) => db.prepare(`SELECT seq FROM ${table} ORDER BY id`).all() as { seq: number }[]) ?? []
  );
}

/** Rows stored so far (0 before the table exists). */
export function countRows(dataDir: string, table = SEQ_TABLE): number {
  try {
    return withStore(dataDir, (db) => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n) ?? 0;
  } catch {
    return 0;
  }
}

/**
 * Waits until every acknowledged seq is stored, or nothing new was stored for `stallMs`, or
 * `limitMs` passed: the verdict then tells what is missing. Returns when the last row arrived.
 */
export async function waitForDrain(
  dataDir: string,
  acked: ReadonlySet<number>,
  stallMs = 5000,
  limitMs = 60_000,
): Promise<{ lastRowAt: number }> {
  const start = Date.now();
  let last = -1;
  let changedAt = Date.now();
  for (;;) {
    const rows = countRows(dataDir);
    if (rows !== last) {
      last = rows;
      changedAt = Date.now();
    }
    if (rows >= acked.size) {
      const stored = new Set(readSeqs(dataDir).map((r) => r.seq));
      if ([...acked].every((seq) => stored.has(seq))) return { lastRowAt: changedAt };
    }
    if (Date.now() - changedAt > stallMs || Date.now() - start > limitMs) return { lastRowAt: changedAt };
    await sleep(50);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A seeded random source (mulberry32), so a failing run can be replayed with its seed. */
export const seededRandom = mulberry32;

/** FAULT_SEED from the environment, else a fresh one (printed by each test). */
export function faultSeed(): number {
  const given = process.env['FAULT_SEED'];
  return given !== undefined ? Number(given) : Math.floor(Math.random() * 2 ** 31);
}

export interface KillLoopOptions {
  readonly brokerUrl: string;
  /** A directory of its own: flow.json and data/ go there. */
  readonly dir: string;
  readonly kills: number;
  readonly random: () => number;
  /** The kill comes at a random moment within this many ms after `flow deployed`. */
  readonly maxDelayMs?: number;
  readonly ratePerSecond?: number;
  readonly window?: number;
  readonly onProgress?: (kill: number) => void;
}

export interface KillLoopResult {
  readonly kills: number;
  readonly published: number;
  readonly acked: number;
  readonly verdict: SeqVerdict;
  readonly publisher: SeqPublisherResult;
  /** Redeliveries the final run's sink recognised and did not write again. */
  readonly redeliveriesSkipped: number;
  readonly finalExitCode: number | null;
  readonly seconds: number;
}

/**
 * The runner is killed with SIGKILL `kills` times at random moments while a publisher sends
 * continuously; then it runs once more, drains, and stops with SIGTERM. The verdict compares
 * what it stored with what the broker acknowledged to the publisher.
 */
export async function runKillLoop(options: KillLoopOptions): Promise<KillLoopResult> {
  const started = Date.now();
  const dataDir = join(options.dir, 'data');
  const flowFile = writeFlow(options.dir, seqFlow({ url: options.brokerUrl, clientId: 'fault-kill-runner' }));
  const maxDelayMs = options.maxDelayMs ?? 700;
  // A first run creates the persistent session, so the broker queues for it from the first publish.
  let runner = startRunner(flowFile, dataDir);
  await runner.waitForLog('subscribed');
  const publisher = await startSeqPublisher({
    url: options.brokerUrl,
    topic: SEQ_TOPIC,
    clientId: 'fault-kill-publisher',
    window: options.window ?? 50,
    ratePerSecond: options.ratePerSecond ?? 1500,
  });
  let kills = 0;
  try {
    for (let i = 0; i < options.kills; i++) {
      if (i > 0) runner = startRunner(flowFile, dataDir);
      await runner.waitForLog('flow deployed', {}, 30_000);
      await sleep(Math.floor(options.random() * maxDelayMs));
      runner.child.kill('SIGKILL');
      await runner.exited;
      kills++;
      options.onProgress?.(kills);
    }
    runner = startRunner(flowFile, dataDir);
    await runner.waitForLog('subscribed', {}, 30_000);
    const result = await publisher.stop();
    await waitForDrain(dataDir, result.acked);
    const exit = await runner.stop('SIGTERM', 30_000);
    const skipped = runner.logs().find((l) => l['msg'] === 'sqlite-sink skipped redelivered messages');
    return {
      kills,
      published: result.published,
      acked: result.acked.size,
      verdict: verifySeqs(readSeqs(dataDir), result.acked),
      publisher: result,
      redeliveriesSkipped: typeof skipped?.['duplicates'] === 'number' ? skipped['duplicates'] : 0,
      finalExitCode: exit.code,
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    await publisher.stop(0);
    await runner.stop('SIGKILL');
  }
}

/** One line of figures for a verdict. */
export function describeVerdict(verdict: SeqVerdict): string {
  const dup = verdict.duplicates.slice(0, 10).map((d) => `${d.seq}×${d.count}`);
  return (
    `acked ${verdict.acked}, rows ${verdict.rows}, distinct ${verdict.distinct}, ` +
    `missing ${verdict.missing.length}${verdict.missing.length ? ` (${verdict.missing.slice(0, 10).join(', ')}…)` : ''}, ` +
    `duplicates ${verdict.duplicates.length}${dup.length ? ` (${dup.join(', ')}…)` : ''}, stored unacked ${verdict.storedUnacked}`
  );
}
