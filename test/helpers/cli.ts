import { spawn, type ChildProcess } from 'node:child_process';
import { ENGINE_NODE_FLAGS } from '../../main/cli/nodeFlags.js';
import { cliPath, repoRoot } from './paths.js';
import { waitFor } from './waitFor.js';

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunningCli {
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** JSON log lines printed so far. */
  logs(): Record<string, unknown>[];
  /** Waits for a log line whose `msg` is `message` (and whose fields include `fields`). */
  waitForLog(message: string, fields?: Record<string, unknown>, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Sends a signal and waits for the exit (killing it after `timeoutMs`). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<CliResult>;
  readonly exited: Promise<CliResult>;
}

function environment(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  return { PATH: process.env['PATH'], HOME: process.env['HOME'], TOPICFLOW_LOG_LEVEL: 'info', ...env };
}

/** Starts `topicflow <args>` as a child process, as a user would (with the launcher's Node flags). */
export function startCli(args: string[], env: Record<string, string | undefined> = {}): RunningCli {
  const child = spawn(process.execPath, [...ENGINE_NODE_FLAGS, cliPath, ...args], {
    cwd: repoRoot,
    env: environment(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<CliResult>((resolve) => {
    child.once('exit', (code, signal) => {
      // Let the pipes drain before reporting what was printed.
      setImmediate(() => resolve({ code, signal, stdout, stderr }));
    });
  });
  const logs = (): Record<string, unknown>[] =>
    stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    logs,
    exited,
    waitForLog: (message, fields = {}, timeoutMs = 15_000) =>
      waitFor(
        `log "${message}" ${JSON.stringify(fields)} (stderr: ${stderr.slice(0, 500)})`,
        () => logs().find((l) => l['msg'] === message && Object.entries(fields).every(([k, v]) => l[k] === v)),
        timeoutMs,
      ),
    async stop(signal = 'SIGTERM', timeoutMs = 15_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}

/** Runs `topicflow <args>` to completion (bounded by `timeoutMs`). */
export async function runCli(
  args: string[],
  env: Record<string, string | undefined> = {},
  timeoutMs = 20_000,
): Promise<CliResult> {
  const running = startCli(args, env);
  const timer = setTimeout(() => running.child.kill('SIGKILL'), timeoutMs);
  const result = await running.exited;
  clearTimeout(timer);
  return result;
}

/**
 * `topicflow serve` on a free loopback port, without the explorer's default embedded broker (a
 * test never binds 1883): resolves once it printed the editor's URL.
 */
export async function startServe(
  workspace: string,
  dataDir: string,
  extraArgs: readonly string[] = [],
): Promise<{ cli: RunningCli; url: string }> {
  const cli = startCli([
    'serve',
    '--workspace',
    workspace,
    '--data-dir',
    dataDir,
    '--port',
    '0',
    '--no-default-broker',
    ...extraArgs,
  ]);
  try {
    const url = await waitFor(
      `the editor URL (stderr: ${cli.stderr().slice(0, 300)})`,
      () => /topicflow editor: (http\S+)/.exec(cli.stdout())?.[1],
      20_000,
    );
    return { cli, url };
  } catch (error) {
    await cli.stop('SIGKILL');
    throw error;
  }
}
