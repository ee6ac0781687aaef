/**
 * The engine's utility process (Electron `utilityProcess.fork` entry): the same FlowEngine and
 * EngineService as `topicflow serve`, reached by the editor over MessagePorts instead of a
 * WebSocket. The only file under main/electron that imports the engine or the server; it needs
 * nothing of Electron at run time but `process.parentPort`, the control channel from main:
 *
 * - `{ type: 'connect' }` with one port: a new editor connection (attachMessagePort);
 * - `{ type: 'secrets', values }`: the keychain's values, which `${secret:NAME}` resolves to (they
 *   reach this process only this way, never through the renderer, and are never logged);
 * - `{ type: 'stop' }`: drain and exit.
 *
 * It answers `{ type: 'ready' }` once the engine, its store and the topic explorer are open.
 */
import { FlowEngine } from '../engine/flowEngine.js';
import { createLookup } from '../engine/flowLoader.js';
import { createLogger, type Logger } from '../engine/logger.js';
import { EngineService } from '../server/engineService.js';
import { ExplorerService } from '../server/explorerService.js';
import { attachMessagePort, type PortConnection, type ProtocolPort } from '../server/messagePortTransport.js';

/** What the process needs of its control channel (Electron's ParentPort fits; tests adapt a worker's). */
export interface ControlPort {
  on(event: 'message', listener: (event: { data: unknown; ports: readonly ProtocolPort[] }) => void): unknown;
  postMessage(message: unknown): void;
}

export interface EngineProcessOptions {
  readonly workspace: string;
  readonly dataDir: string;
  readonly logger?: Logger;
  /** What a port's 'message' listener receives → the posted text (Electron: `event.data`). */
  readonly portMessageData?: (message: unknown) => unknown;
  /** The topic explorer's default connection: the embedded broker on this port (default 1883), or none. */
  readonly defaultBroker?: { readonly port: number } | false;
  /** Called after a `stop` request has drained the engine (the entry exits the process). */
  readonly onDidStop?: () => void;
}

export interface EngineProcess {
  stop(): Promise<void>;
  /** Open editor connections. */
  readonly connections: () => number;
}

const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** The keychain's values as they arrived; anything malformed is dropped (names only are logged). */
function secretValues(value: unknown, log: Logger): Map<string, string> {
  const values = new Map<string, string>();
  if (typeof value !== 'object' || value === null) return values;
  for (const [name, secret] of Object.entries(value)) {
    if (SECRET_NAME.test(name) && typeof secret === 'string') values.set(name, secret);
    else log.warn({ secret: name }, 'ignored a malformed secret from main');
  }
  return values;
}

export function runEngineProcess(parent: ControlPort, options: EngineProcessOptions): EngineProcess {
  const log = options.logger ?? createLogger();
  let secrets = new Map<string, string>();
  const lookup = createLookup(process.env, {}, (name) => secrets.get(name));
  const engine = FlowEngine.open({ dataDir: options.dataDir, logger: log });
  const connections = new Set<PortConnection>();
  /** Ports that arrived before the explorer finished opening (main waits for 'ready', tests may not). */
  const early: ProtocolPort[] = [];
  let service: EngineService | undefined;
  let explorer: ExplorerService | undefined;
  let stopping: Promise<void> | undefined;

  const attach = (port: ProtocolPort): void => {
    if (!service) {
      early.push(port);
      return;
    }
    const connection = attachMessagePort(service, port, {
      logger: log,
      peer: `editor ${connections.size + 1}`,
      ...(options.portMessageData ? { messageData: options.portMessageData } : {}),
    });
    connections.add(connection);
    for (const c of connections) if (c.closed()) connections.delete(c);
  };

  // The topic explorer opens its store and (by default) the embedded broker first; a failure to
  // open it leaves the editor working, with the explorer's calls answering "not available".
  const opened = ExplorerService.open({
    dataDir: options.dataDir,
    lookup,
    logger: log,
    defaultBroker: options.defaultBroker === undefined ? { port: 1883 } : options.defaultBroker,
  }).then(
    (value) => value,
    (error: unknown) => {
      log.error({ err: error }, 'the topic explorer could not open; the editor runs without it');
      return undefined;
    },
  );
  void opened.then((value) => {
    explorer = value;
    if (stopping) {
      void explorer?.dispose();
      return;
    }
    service = new EngineService(engine, {
      workspace: options.workspace,
      lookup,
      logger: log,
      ...(explorer ? { explorer } : {}),
    });
    for (const port of early.splice(0)) attach(port);
    parent.postMessage({ type: 'ready' });
    log.info({ workspace: options.workspace, dataDir: options.dataDir }, 'engine process ready');
  });

  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await opened;
      for (const connection of connections) connection.close();
      connections.clear();
      service?.dispose();
      await explorer?.dispose();
      await engine.stop();
    })());

  parent.on('message', (event) => {
    const type = (event.data as { type?: unknown } | null)?.type;
    if (type === 'connect') {
      const port = event.ports[0];
      if (!port || stopping) return;
      attach(port);
    } else if (type === 'secrets') {
      secrets = secretValues((event.data as { values?: unknown }).values, log);
      log.info({ secrets: secrets.size }, 'secrets updated');
    } else if (type === 'stop') {
      void stop().then(
        () => options.onDidStop?.(),
        (error: unknown) => {
          log.error({ err: error }, 'engine stop failed');
          options.onDidStop?.();
        },
      );
    } else {
      log.warn({ type: String(type) }, 'unknown control message from main');
    }
  });
  return {
    stop,
    connections: () => [...connections].filter((c) => !c.closed()).length,
  };
}

// As the utility process entry: configuration comes in the environment main sets (engineHost.ts).
const parentPort = (process as { parentPort?: Electron.ParentPort }).parentPort;
if (parentPort) {
  const workspace = process.env['TOPICFLOW_WORKSPACE'];
  const dataDir = process.env['TOPICFLOW_DATA_DIR'];
  if (!workspace || !dataDir) {
    process.stderr.write('topicflow engine process: TOPICFLOW_WORKSPACE and TOPICFLOW_DATA_DIR must be set\n');
    process.exit(2);
  }
  runEngineProcess(parentPort, {
    workspace,
    dataDir,
    portMessageData: (event) => (event as { data?: unknown }).data,
    onDidStop: () => process.exit(0),
  });
}
