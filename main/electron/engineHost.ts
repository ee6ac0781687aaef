/**
 * Runs the engine in an Electron utility process (engineProcess.ts) and connects editor pages to
 * it: each connection is a fresh MessageChannelMain, one port to the engine over its control
 * channel, the other to the page (webContents.postMessage; the preload hands it on). A busy flow or
 * a crash never freezes the window. An unexpected exit is restarted with backoff (RestartPolicy);
 * past its budget, `onFatal` reports why, with the end of the process's stderr. Electron's
 * utilityProcess and MessageChannelMain come in through `platform` (main.ts), so this logic runs
 * under plain Node in tests, with a worker thread as the process.
 */
import { IPC } from '../../shared/desktop/desktopBridge.js';
import { RestartPolicy } from './restartPolicy.js';

/** How long a stop may drain the engine before the process is killed. */
const STOP_TIMEOUT_MS = 10_000;
/** How much of the process's stderr is kept to explain a crash. */
const STDERR_TAIL_BYTES = 4096;

/** What the host needs of the engine's process (Electron's UtilityProcess fits; tests use a worker thread). */
export interface EngineChild<Port> {
  postMessage(message: unknown, transfer?: Port[]): void;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  once(event: 'exit', listener: (code: number) => void): unknown;
  kill(): boolean;
  readonly stderr: NodeJS.ReadableStream | null;
}

/** A page that receives ports (Electron's WebContents fits). */
export interface PortTarget<Port> {
  isDestroyed(): boolean;
  once(event: 'destroyed', listener: () => void): unknown;
  postMessage(channel: string, message: unknown, transfer?: Port[]): void;
}

/** How processes and channels are made: Electron's utilityProcess and MessageChannelMain in the app. */
export interface EngineHostPlatform<Port> {
  fork(entry: string, env: Record<string, string>): EngineChild<Port>;
  channel(): { port1: Port; port2: Port };
}

export interface EngineHostOptions<Port> {
  readonly platform: EngineHostPlatform<Port>;
  /** dist/main/electron/engineProcess.js */
  readonly entry: string;
  readonly workspace: string;
  readonly dataDir: string;
  /** The keychain's current values (sent to the engine on start and on every change). */
  readonly secrets: () => Record<string, string>;
  /** The engine went down for good (restart budget spent). */
  readonly onFatal: (message: string) => void;
  /** The engine went down (it will be restarted, or onFatal follows). */
  readonly onDidExit?: (code: number) => void;
  readonly log?: (message: string) => void;
  readonly restartPolicy?: RestartPolicy;
}

export class EngineHost<Port> {
  private child: EngineChild<Port> | undefined;
  private ready = false;
  private stopping = false;
  private stderrTail = '';
  private restartTimer: NodeJS.Timeout | undefined;
  /** Pages waiting for a port until the engine is ready. */
  private readonly waiting = new Set<PortTarget<Port>>();
  private readonly policy: RestartPolicy;

  constructor(private readonly options: EngineHostOptions<Port>) {
    this.policy = options.restartPolicy ?? new RestartPolicy();
  }

  start(): void {
    if (this.child || this.stopping) return;
    this.ready = false;
    this.stderrTail = '';
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
    env['TOPICFLOW_WORKSPACE'] = this.options.workspace;
    env['TOPICFLOW_DATA_DIR'] = this.options.dataDir;
    const child = this.options.platform.fork(this.options.entry, env);
    this.child = child;
    child.stderr?.on('data', (chunk: Buffer | string) => {
      process.stderr.write(chunk);
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-STDERR_TAIL_BYTES);
    });
    child.on('message', (message: unknown) => {
      if ((message as { type?: unknown } | null)?.type !== 'ready') return;
      this.ready = true;
      this.sendSecrets();
      for (const contents of this.waiting) this.connect(contents);
      this.waiting.clear();
    });
    child.once('exit', (code) => this.onExit(child, code));
  }

  /** Gives `contents` a new port to the engine (once the engine is ready). */
  connect(contents: PortTarget<Port>): void {
    if (contents.isDestroyed()) return;
    if (!this.ready || !this.child) {
      this.waiting.add(contents);
      contents.once('destroyed', () => this.waiting.delete(contents));
      return;
    }
    const { port1, port2 } = this.options.platform.channel();
    this.child.postMessage({ type: 'connect' }, [port1]);
    contents.postMessage(IPC.enginePort, null, [port2]);
  }

  /** Sends the keychain's values to the engine (never through the renderer; never logged). */
  sendSecrets(): void {
    if (this.ready) this.child?.postMessage({ type: 'secrets', values: this.options.secrets() });
  }

  /** Drains the engine (bounded), then the process is gone. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.postMessage({ type: 'stop' });
    const timer = setTimeout(() => child.kill(), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }

  /** After a fatal error, the user may ask for one more try. */
  retry(): void {
    this.policy.reset();
    this.start();
  }

  private onExit(child: EngineChild<Port>, code: number): void {
    if (this.child !== child) return;
    this.child = undefined;
    this.ready = false;
    if (this.stopping) return;
    this.options.onDidExit?.(code);
    const decision = this.policy.onDidExit();
    if (!decision.restart) {
      const tail = this.stderrTail.trim().split('\n').slice(-8).join('\n');
      this.options.onFatal(`${decision.reason} (last exit code ${code}).${tail ? `\n\n${tail}` : ''}`);
      return;
    }
    this.options.log?.(
      `engine process exited with code ${code}; restart ${decision.attempt} in ${decision.delayMs} ms`,
    );
    this.restartTimer = setTimeout(() => this.start(), decision.delayMs);
  }
}
