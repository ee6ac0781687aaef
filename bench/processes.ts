import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENGINE_NODE_FLAGS } from '../main/cli/nodeFlags.js';
import Database from 'better-sqlite3';
import { cliPath, repoRoot } from '../test/helpers/paths.js';
import { waitFor } from '../test/helpers/waitFor.js';
import { benchFlow, CREATE_TABLE } from './workload.js';

const benchDir = join(repoRoot, 'dist', 'bench');
export const STORE = 'topicflow.db';

/** Peak RSS (VmHWM), current RSS and CPU seconds of a live process, from /proc. */
export function processStats(pid: number): { peakRssMb: number; rssMb: number; cpuSeconds: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  // Fields 14 and 15 of /proc/pid/stat (after the command in parentheses) are utime and stime in ticks.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { peakRssMb: kb('VmHWM') / 1024, rssMb: kb('VmRSS') / 1024, cpuSeconds: ticks / 100 };
}

export interface PipelineOptions {
  readonly url: string;
  readonly qos: 0 | 1;
  readonly clientId: string;
  readonly persistent: boolean;
  readonly dir: string;
  readonly pipelines?: number;
  /** Engine only: the shaped message goes out through mqtt-out (its durable outbox) and comes back in. */
  readonly republish?: boolean;
}

export interface RunningPipeline {
  readonly pid: number;
  /** Wall-clock time (epoch ms) at which it reported being connected. */
  connectedAt(): number;
  /** Resolves once every subscription is acknowledged by the broker. */
  readonly ready: Promise<void>;
  stats(): ReturnType<typeof processStats>;
  stop(): Promise<void>;
}

export type PipelineKind = 'reference' | 'engine';

export function prepareStore(dir: string): void {
  const db = new Database(join(dir, STORE));
  db.pragma('journal_mode = WAL');
  db.exec(CREATE_TABLE);
  db.close();
}

/** Starts the reference or the engine (`topicflow run`) as a child process. */
export function startPipeline(kind: PipelineKind, options: PipelineOptions): RunningPipeline {
  let child: ChildProcess;
  const pipelines = options.pipelines ?? 1;
  if (kind === 'reference') {
    const args = { ...options, dbPath: join(options.dir, STORE) };
    child = spawn(process.execPath, [join(benchDir, 'referencePipeline.js'), JSON.stringify(args)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
  } else {
    const flowFile = join(options.dir, 'flow.json');
    writeFileSync(
      flowFile,
      JSON.stringify(benchFlow({ ...options, pipelines, republish: options.republish ?? false })),
    );
    // The launcher's flags unless BENCH_ENGINE_NODE_ARGS says otherwise ("" for V8's defaults).
    const override = process.env['BENCH_ENGINE_NODE_ARGS'];
    const nodeArgs = override === undefined ? ENGINE_NODE_FLAGS : override.split(' ').filter(Boolean);
    child = spawn(process.execPath, [...nodeArgs, cliPath, 'run', flowFile, '--data-dir', options.dir], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, TOPICFLOW_LOG_LEVEL: 'info' },
    });
  }
  let connectedAt = 0;
  let subscribed = 0;
  let buffered = '';
  // BENCH_ENGINE_LOG=path keeps a copy of the child's stdout (e.g. with --trace-gc in BENCH_ENGINE_NODE_ARGS).
  const logCopy = process.env['BENCH_ENGINE_LOG'];
  child.stdout?.on('data', (d: Buffer) => {
    if (logCopy !== undefined && kind === 'engine') appendFileSync(logCopy, d);
    buffered += d.toString();
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (!line.startsWith('{')) continue;
      const event = JSON.parse(line) as Record<string, unknown>;
      if ((event['event'] === 'connected' || event['msg'] === 'mqtt connected') && connectedAt === 0) {
        connectedAt = typeof event['at'] === 'number' ? event['at'] : Date.parse(String(event['time']));
      }
      if (event['event'] === 'subscribed' || event['msg'] === 'subscribed') subscribed++;
    }
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const expected = kind === 'reference' ? 1 : options.republish ? 2 : pipelines;
  return {
    pid: child.pid as number,
    connectedAt: () => connectedAt,
    ready: waitFor(`${kind} subscribed`, () => subscribed >= expected, 30_000).then(() => undefined),
    stats: () => processStats(child.pid as number),
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface GeneratorOptions {
  readonly url: string;
  readonly count: number;
  readonly qos: 0 | 1;
  readonly rate: number;
  readonly topics: number;
  readonly prefixes: number;
  readonly padBytes: number;
}

export interface GeneratorResult {
  readonly published: number;
  readonly firstAt: number;
  readonly lastAt: number;
}

/** Runs the load generator in its own process and returns what it reports. */
export async function runGenerator(options: GeneratorOptions): Promise<GeneratorResult> {
  const child = spawn(process.execPath, [join(benchDir, 'loadGenerator.js'), JSON.stringify(options)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`load generator exited ${code}`);
  return JSON.parse(out.trim()) as GeneratorResult;
}

export interface Progress {
  readonly rows: number;
  readonly distinct: number;
  readonly lastCommit: number;
}

/** Waits until `expected` rows are committed or nothing new arrives for `stallMs`. */
export async function waitForRows(dir: string, expected: number, stallMs = 5000, limitMs = 600_000): Promise<Progress> {
  const db = new Database(join(dir, STORE), { readonly: true });
  try {
    const query = db.prepare(
      `SELECT count(*) AS rows, count(DISTINCT seq) AS distinct_seq, max(committed_at) AS last FROM readings`,
    );
    const start = Date.now();
    let last = -1;
    let changedAt = Date.now();
    for (;;) {
      const r = query.get() as { rows: number; distinct_seq: number; last: number | null };
      if (r.rows !== last) {
        last = r.rows;
        changedAt = Date.now();
      }
      if (r.rows >= expected || Date.now() - changedAt > stallMs || Date.now() - start > limitMs) {
        return { rows: r.rows, distinct: r.distinct_seq, lastCommit: r.last ?? 0 };
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    db.close();
  }
}

export function latencies(dir: string): number[] {
  const db = new Database(join(dir, STORE), { readonly: true });
  try {
    const rows = db.prepare('SELECT committed_at - pub_ts AS ms FROM readings').all() as { ms: number }[];
    return rows.map((r) => r.ms).sort((a, b) => a - b);
  } finally {
    db.close();
  }
}
