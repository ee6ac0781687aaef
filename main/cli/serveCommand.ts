import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { FlowEngine } from '../engine/flowEngine.js';
import { createLookup, readEnvFile } from '../engine/flowLoader.js';
import { createLogger } from '../engine/logger.js';
import { startEditorServer } from '../server/editorServer.js';
import { EngineService } from '../server/engineService.js';
import { ExplorerService } from '../server/explorerService.js';
import { isLoopback } from '../server/listenAddress.js';

/** dist/renderer, next to dist/main. */
const RENDERER_DIR = fileURLToPath(new URL('../../renderer/', import.meta.url));

/** `topicflow serve`: the engine and its protocol over a WebSocket, for the editor in a browser. */
export async function serveCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      workspace: { type: 'string', default: 'flows' },
      'data-dir': { type: 'string', default: 'data' },
      'env-file': { type: 'string' },
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '0' },
      token: { type: 'string' },
      'log-level': { type: 'string' },
      'stop-timeout': { type: 'string', default: '10000' },
      // The topic explorer: its default connection (the embedded broker), history bounds.
      'embedded-port': { type: 'string', default: '1883' },
      'no-default-broker': { type: 'boolean', default: false },
      'explorer-history': { type: 'string', default: '100' },
      'explorer-budget-mb': { type: 'string', default: '64' },
    },
  });
  if (positionals.length > 0) {
    process.stderr.write(`topicflow serve: unexpected argument "${positionals[0]}" (flows come from --workspace)\n`);
    return 2;
  }
  const port = Number(values.port);
  if (!Number.isSafeInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`topicflow serve: --port ${values.port}: not a port from 0 to 65535\n`);
    return 2;
  }
  if (values.token !== undefined && !/^[A-Za-z0-9._~-]{16,}$/.test(values.token)) {
    process.stderr.write('topicflow serve: --token must be at least 16 characters of A-Z a-z 0-9 . _ ~ -\n');
    return 2;
  }
  const embeddedPort = Number(values['embedded-port']);
  if (!Number.isSafeInteger(embeddedPort) || embeddedPort < 0 || embeddedPort > 65535) {
    process.stderr.write(`topicflow serve: --embedded-port ${values['embedded-port']}: not a port from 0 to 65535\n`);
    return 2;
  }
  const historyMessages = Number(values['explorer-history']);
  if (!Number.isSafeInteger(historyMessages) || historyMessages < 0 || historyMessages > 10_000) {
    process.stderr.write(
      `topicflow serve: --explorer-history ${values['explorer-history']}: not a count from 0 to 10000\n`,
    );
    return 2;
  }
  const budgetMb = Number(values['explorer-budget-mb']);
  if (!Number.isFinite(budgetMb) || budgetMb < 0 || budgetMb > 4096) {
    process.stderr.write(
      `topicflow serve: --explorer-budget-mb ${values['explorer-budget-mb']}: not a size from 0 to 4096\n`,
    );
    return 2;
  }
  const host = values.host;
  let token = values.token;
  let generated = false;
  if (!isLoopback(host) && token === undefined) {
    // Anyone who can reach a public address could deploy flows: never serve it without a token.
    token = randomBytes(24).toString('base64url');
    generated = true;
  }

  const log = createLogger(values['log-level'] ? { level: values['log-level'] } : {});
  const lookup = createLookup(process.env, values['env-file'] ? await readEnvFile(values['env-file']) : {});
  const workspace = resolve(values.workspace);
  const dataDir = resolve(values['data-dir']);
  const engine = FlowEngine.open({ dataDir, logger: log, stopTimeoutMs: Number(values['stop-timeout']) });
  let explorer: ExplorerService;
  try {
    explorer = await ExplorerService.open({
      dataDir,
      lookup,
      logger: log,
      defaultBroker: values['no-default-broker'] ? false : { port: embeddedPort },
      limits: { historyMessages },
      historyBudgetBytes: Math.round(budgetMb * 1024 * 1024),
    });
  } catch (error) {
    await engine.stop();
    process.stderr.write(
      `topicflow serve: cannot open the topic explorer in ${dataDir}: ${(error as Error).message}\n`,
    );
    return 1;
  }
  const service = new EngineService(engine, { workspace, lookup, logger: log, explorer });

  let server: Awaited<ReturnType<typeof startEditorServer>>;
  try {
    server = await startEditorServer(service, { host, port, rendererDir: RENDERER_DIR, token, logger: log });
  } catch (error) {
    service.dispose();
    await explorer.dispose();
    await engine.stop();
    process.stderr.write(`topicflow serve: cannot listen on ${host}:${port}: ${(error as Error).message}\n`);
    return 1;
  }
  const url = token === undefined ? server.url : `${server.url}?token=${token}`;
  log.info(
    { url: server.url, workspace, dataDir, token: token !== undefined, generatedToken: generated },
    'serve listening',
  );
  process.stdout.write(`topicflow editor: ${url}\n`);

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting without draining');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'draining');
    server
      .close()
      .then(async () => {
        service.dispose();
        await explorer.dispose();
        return engine.stop();
      })
      .then(
        () => process.exit(0),
        (error: unknown) => {
          log.error({ err: error }, 'stop failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  return await new Promise<number>(() => {
    // Runs until a signal; shutdown() exits the process.
  });
}
