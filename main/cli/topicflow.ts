#!/usr/bin/env -S node --max-semi-space-size=1 --heap-growing-percent=40 --v8-pool-size=1
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { revisionOf, FlowEngine } from '../engine/flowEngine.js';
import {
  createLookup,
  formatProblems,
  readEnvFile,
  readFlowFile,
  resolveFlow,
  type Lookup,
} from '../engine/flowLoader.js';
import { createLogger } from '../engine/logger.js';
import { ENGINE_NODE_FLAGS, engineFlagsApplied } from './nodeFlags.js';
import { parseListenAddress } from '../server/listenAddress.js';
import { NODE_SPECS, secretPaths } from '../../shared/nodes/catalog.js';

const USAGE = `topicflow: run MQTT flows headless

Usage:
  topicflow run <flow.json> [--data-dir DIR] [--env-file FILE] [--log-level LEVEL] [--stop-timeout MS]
                [--http [HOST:]PORT [--http-public]] [--store-max-mb MB]
      Runs a flow until SIGINT/SIGTERM, then drains and exits 0. Logs are JSON lines on stdout.
      --http serves GET /health and /metrics (Prometheus) on HOST:PORT (default host 127.0.0.1);
      a non-loopback HOST needs --http-public. --store-max-mb bounds the SQLite file: when it is
      full, nothing more is acknowledged (the broker keeps it) and /health says unhealthy.
  topicflow serve [--workspace DIR] [--data-dir DIR] [--env-file FILE] [--host HOST] [--port PORT] [--token T]
      Serves the engine's editor protocol over a WebSocket at /api (and the editor, once built) on
      http://127.0.0.1:PORT/ (--port 0, the default, picks a free one); flows are the *.json files in
      --workspace (default ./flows). A non-loopback --host needs a token: --token T, or one is
      generated and printed in the URL. Stops the engine and exits 0 on SIGINT/SIGTERM.
  topicflow validate <flow.json>... [--env-file FILE] [--no-env]
      Checks flow files; prints every problem with its JSON pointer; exit 1 when any is invalid.
      References \${env:NAME} must be set unless --no-env is given.
  topicflow export <flow.json> [-o out.json] [--strip-secrets] [--keep-layout]
      Writes the gateway copy of a flow (stdout without -o): validated, layout dropped unless
      --keep-layout, \${secret:NAME} turned into \${env:NAME}. A literal secret is refused (exit 1)
      unless --strip-secrets replaces it by \${env:TOPICFLOW_<ID>_<FIELD>}. Prints to stderr the
      environment variables the gateway must set.
  topicflow nodes [--json]
      Lists the node types (with --json: their full declarations and config schemas).
  topicflow dead-letters list [--data-dir DIR] [--node ID] [--limit N] [--json]
      Lists recorded dead letters, newest first (topicflow dead-letters --help for every option).
  topicflow dead-letters replay --url mqtt://host:port (--id N... | --node ID | --all) [--data-dir DIR]
                                [--username U] [--password-env VAR]
      Publishes their original bytes to their original topics; marks each replayed once acknowledged.
  topicflow dead-letters purge [--data-dir DIR] (--all | --node ID | --id N... | --replayed | --older-than DAYS)
      Deletes dead letters and prints how many.
  topicflow --version | --help
`;

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

async function lookupFrom(envFile: string | undefined): Promise<Lookup> {
  return createLookup(process.env, envFile ? await readEnvFile(envFile) : {});
}

async function validateCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { 'env-file': { type: 'string' }, 'no-env': { type: 'boolean', default: false } },
  });
  if (positionals.length === 0) {
    process.stderr.write('topicflow validate: name at least one flow file\n');
    return 2;
  }
  const lookup = values['no-env'] ? undefined : await lookupFrom(values['env-file']);
  let invalid = 0;
  for (const file of positionals) {
    const result = await readFlowFile(file, lookup ? { lookup } : {});
    if (result.ok) {
      process.stdout.write(`${file}: ok (${result.flow.nodes.length} nodes, ${result.flow.edges.length} edges)\n`);
      if (result.problems.length > 0) process.stdout.write(`${formatProblems(result.problems, file)}\n`);
    } else {
      invalid++;
      process.stdout.write(
        `${file}: invalid, ${result.problems.length} problem(s)\n${formatProblems(result.problems, file)}\n`,
      );
    }
  }
  return invalid > 0 ? 1 : 0;
}

function nodesCommand(args: string[]): number {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean', default: false } } });
  if (values.json) {
    const specs = NODE_SPECS.map(({ check: _check, ...spec }) => ({ ...spec, secrets: secretPaths(spec.config) }));
    process.stdout.write(`${JSON.stringify(specs, null, 2)}\n`);
    return 0;
  }
  const width = Math.max(...NODE_SPECS.map((s) => s.type.length));
  for (const spec of NODE_SPECS) {
    process.stdout.write(`${spec.type.padEnd(width)}  ${spec.category.padEnd(7)}  ${spec.title}\n`);
  }
  return 0;
}

async function runCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      'data-dir': { type: 'string', default: 'data' },
      'env-file': { type: 'string' },
      'log-level': { type: 'string' },
      'stop-timeout': { type: 'string', default: '10000' },
      http: { type: 'string' },
      'http-public': { type: 'boolean', default: false },
      'store-max-mb': { type: 'string' },
    },
  });
  const file = positionals[0];
  if (!file || positionals.length > 1) {
    process.stderr.write('topicflow run: name exactly one flow file\n');
    return 2;
  }
  const http = values.http === undefined ? undefined : parseListenAddress(values.http);
  if (typeof http === 'string') {
    process.stderr.write(`topicflow run: --http ${values.http}: ${http}\n`);
    return 2;
  }
  if (http && !http.loopback && !values['http-public']) {
    process.stderr.write(
      `topicflow run: --http ${values.http}: ${http.host} is not a loopback address. /health and /metrics have no ` +
        'authentication and show the flow, its nodes and broker addresses; add --http-public to serve them there ' +
        'anyway (behind a firewall or an authenticating proxy).\n',
    );
    return 2;
  }
  const storeMaxMb = values['store-max-mb'] === undefined ? undefined : Number(values['store-max-mb']);
  if (storeMaxMb !== undefined && !(storeMaxMb > 0)) {
    process.stderr.write(`topicflow run: --store-max-mb ${values['store-max-mb']}: not a positive number of MB\n`);
    return 2;
  }
  const log = createLogger(values['log-level'] ? { level: values['log-level'] } : {});
  const lookup = await lookupFrom(values['env-file']);
  const loaded = await readFlowFile(file, { lookup });
  if (!loaded.ok) {
    process.stderr.write(`${file}: invalid, nothing started\n${formatProblems(loaded.problems, file)}\n`);
    return 1;
  }
  for (const p of loaded.problems) log.warn({ file, pointer: p.pointer }, p.message);
  const dataDir = resolve(values['data-dir']);
  const engine = FlowEngine.open({
    dataDir,
    logger: log,
    stopTimeoutMs: Number(values['stop-timeout']),
    ...(storeMaxMb !== undefined ? { storeMaxBytes: storeMaxMb * 1024 * 1024 } : {}),
  });
  log.info({ file, dataDir, store: engine.store.path, memoryFlags: engineFlagsApplied() }, 'starting');
  if (!engineFlagsApplied()) {
    log.warn(
      { flags: ENGINE_NODE_FLAGS.join(' ') },
      'started without the memory settings of the topicflow launcher: memory use may peak higher',
    );
  }

  let stopping: Promise<void> | undefined;
  let observability: { close(): Promise<void> } | undefined;
  const shutdown = (signal: string): void => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting without draining');
      process.exit(1);
    }
    log.info({ signal }, 'draining');
    stopping = engine.stop().then(
      // The observability server answers during the drain, and closes after it.
      async () => {
        await observability?.close();
        process.exit(0);
      },
      (error: unknown) => {
        log.error({ err: error }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));

  const result = await engine.deploy(resolveFlow(loaded.flow, lookup), revisionOf(loaded.flow));
  if (result.failed.length > 0) {
    await engine.stop();
    process.stderr.write(`${file}: ${result.failed.map((f) => `node "${f.node}": ${f.error}`).join('\n')}\n`);
    return 1;
  }
  if (http) {
    // Loaded only when asked for: prom-client stays out of a gateway's memory otherwise.
    const { startObservabilityServer } = await import('../server/observabilityServer.js');
    try {
      observability = await startObservabilityServer(engine, { host: http.host, port: http.port, logger: log });
    } catch (error) {
      await engine.stop();
      process.stderr.write(`topicflow run: cannot serve --http ${values.http}: ${(error as Error).message}\n`);
      return 1;
    }
  }
  return await new Promise<number>(() => {
    // Runs until a signal; shutdown() exits the process.
  });
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'run':
      return runCommand(rest);
    case 'serve':
      // Loaded on demand, like the observability server: `run` on a gateway carries none of it.
      return (await import('./serveCommand.js')).serveCommand(rest);
    case 'validate':
      return validateCommand(rest);
    case 'export':
      return (await import('./exportCommand.js')).exportCommand(rest);
    case 'nodes':
      return nodesCommand(rest);
    case 'dead-letters':
      return (await import('./deadLettersCommand.js')).deadLettersCommand(rest);
    case '--version':
    case '-v':
      process.stdout.write(`${packageVersion()}\n`);
      return 0;
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`topicflow: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`topicflow: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
