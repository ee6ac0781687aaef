import type {
  EventName,
  MethodName,
  ParamsOf,
  ProtocolError,
  ProtocolEvents,
  ResultOf,
  ServerEnvelope,
} from '../shared/protocol/protocol.js';

/** Prefix of the WebSocket sub-protocol that carries the token (main/server/wsTransport.ts). */
const TOKEN_PROTOCOL_PREFIX = 'topicflow.token.';
const CALL_TIMEOUT_MS = 30_000;
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 10_000;

export type ConnectionState = 'connecting' | 'open' | 'closed';

/** A failed call: the server's error code and message, and for `invalid-flow` its problems. */
export class ProtocolCallError extends Error {
  readonly code: ProtocolError['code'] | 'disconnected' | 'timeout';
  readonly problems: ProtocolError['problems'];

  constructor(error: ProtocolError | { code: 'disconnected' | 'timeout'; message: string; problems?: undefined }) {
    super(error.message);
    this.code = error.code;
    this.problems = error.problems;
  }
}

// ---- transports ------------------------------------------------------------------------------
//
// The protocol's JSON text envelopes travel over a WebSocket (`topicflow serve`) or a MessagePort
// to the engine's utility process (the desktop app). The types below are structural, not the DOM's,
// so this module also compiles and runs under Node, where the tests drive it over worker_threads
// MessageChannels.

/** What a transport reports about one connection. */
export interface ChannelHandlers {
  onOpen(): void;
  onMessage(text: string): void;
  /** Called once, whether the connection failed to open or closed later. */
  onClose(): void;
}

/** One open (or opening) connection. */
export interface ClientChannel {
  send(text: string): void;
  close(): void;
}

export interface ClientTransport {
  open(handlers: ChannelHandlers): ClientChannel;
}

interface WebSocketLike {
  onopen: (() => void) | null;
  onmessage: ((message: { data: unknown }) => void) | null;
  onclose: (() => void) | null;
  send(text: string): void;
  close(): void;
}
type WebSocketConstructor = new (url: string, protocols: string[]) => WebSocketLike;

/** The protocol over a WebSocket; the token, when set, rides in the sub-protocol (browsers cannot set headers). */
export function webSocketTransport(url: string, token: string | undefined): ClientTransport {
  return {
    open(handlers) {
      const WebSocketImpl = (globalThis as unknown as { WebSocket: WebSocketConstructor }).WebSocket;
      const socket = new WebSocketImpl(url, token ? [`${TOKEN_PROTOCOL_PREFIX}${token}`] : []);
      socket.onopen = () => handlers.onOpen();
      socket.onmessage = (message) => handlers.onMessage(String(message.data));
      socket.onclose = () => handlers.onClose();
      return { send: (text) => socket.send(text), close: () => socket.close() };
    },
  };
}

/** The least of a MessagePort the client uses: the DOM's and Node's global MessagePort both fit. */
export interface ClientPort {
  postMessage(message: string): void;
  // `object`, not MessageEvent: Node's MessagePort types its listeners with the plain Event.
  addEventListener(type: 'message' | 'close', listener: (event: object) => void): void;
  start(): void;
  close(): void;
}

/** Where ports to the engine come from (in the desktop app: the preload, see renderer/desktopPlatform.ts). */
export interface PortSource {
  /** A fresh port to the engine; rejects when none can be had (the client retries with backoff). */
  request(): Promise<ClientPort>;
  /** Calls back when the engine behind the ports handed out so far went away (it is restarting). */
  onDidDisconnect(listener: () => void): () => void;
}

/** The protocol over a MessagePort; each (re)connection asks the source for a new port. */
export function messagePortTransport(source: PortSource): ClientTransport {
  return {
    open(handlers) {
      let port: ClientPort | undefined;
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        offDisconnect();
        port?.close();
        handlers.onClose();
      };
      const offDisconnect = source.onDidDisconnect(finish);
      source.request().then(
        (p) => {
          if (done) {
            p.close();
            return;
          }
          port = p;
          p.addEventListener('message', (event) => {
            const data = (event as { data?: unknown }).data;
            if (typeof data === 'string') handlers.onMessage(data);
          });
          // Chromium and Node fire 'close' when the other end goes away (the engine process exited).
          p.addEventListener('close', finish);
          p.start();
          handlers.onOpen();
        },
        () => finish(),
      );
      return {
        send(text) {
          if (!port || done) throw new Error('the port to the engine is not open');
          port.postMessage(text);
        },
        close: finish,
      };
    },
  };
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

type Listener<E extends EventName> = (data: ProtocolEvents[E]) => void;

/** Where the page's `location` tells the client what to connect to. */
interface PageLocation {
  readonly protocol: string;
  readonly host: string;
  readonly search: string;
}

/**
 * The editor's side of the protocol over one transport: typed calls, event subscriptions, and
 * reconnection with exponential backoff (calls fail fast while disconnected).
 */
export class ProtocolClient {
  private channel: ClientChannel | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Map<EventName, Set<(data: never) => void>>();
  private readonly stateListeners = new Set<(state: ConnectionState) => void>();
  private backoff = BACKOFF_MIN_MS;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private disposed = false;
  state: ConnectionState = 'closed';

  constructor(private readonly transport: ClientTransport) {}

  /** The client for the page: `/api` on the page's host, with `?token=` of the page URL when present. */
  static forPage(location: PageLocation): ProtocolClient {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const token = new URLSearchParams(location.search).get('token') ?? undefined;
    return new ProtocolClient(webSocketTransport(`${scheme}//${location.host}/api`, token));
  }

  /** The client of the desktop app: ports to the engine's utility process. */
  static overPorts(source: PortSource): ProtocolClient {
    return new ProtocolClient(messagePortTransport(source));
  }

  connect(): void {
    if (this.disposed || this.channel) return;
    this.setState('connecting');
    let closed = false;
    const channel = this.transport.open({
      onOpen: () => {
        if (closed || this.channel !== channel) return;
        this.backoff = BACKOFF_MIN_MS;
        this.setState('open');
      },
      onMessage: (text) => {
        if (!closed && this.channel === channel) this.receive(text);
      },
      onClose: () => {
        if (closed) return;
        closed = true;
        if (this.channel === channel) this.channel = undefined;
        this.onChannelClosed();
      },
    });
    // A transport may report a failure synchronously, before open() returned.
    if (!closed) this.channel = channel;
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.retryTimer);
    this.channel?.close();
  }

  call<M extends MethodName>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>> {
    const channel = this.channel;
    if (!channel || this.state !== 'open') {
      return Promise.reject(new ProtocolCallError({ code: 'disconnected', message: 'not connected to the engine' }));
    }
    const id = this.nextId++;
    return new Promise<ResultOf<M>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ProtocolCallError({ code: 'timeout', message: `${method} did not answer in time` }));
      }, CALL_TIMEOUT_MS);
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer });
      try {
        channel.send(JSON.stringify({ kind: 'request', id, method, params }));
      } catch (error) {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(new ProtocolCallError({ code: 'disconnected', message: (error as Error).message }));
      }
    });
  }

  on<E extends EventName>(event: E, listener: Listener<E>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener as (data: never) => void);
    return () => set.delete(listener as (data: never) => void);
  }

  onState(listener: (state: ConnectionState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  private onChannelClosed(): void {
    for (const [id, call] of this.pending) {
      clearTimeout(call.timer);
      call.reject(new ProtocolCallError({ code: 'disconnected', message: 'the connection to the engine closed' }));
      this.pending.delete(id);
    }
    this.setState('closed');
    if (!this.disposed) {
      const delay = this.backoff * (0.75 + Math.random() / 2);
      this.backoff = Math.min(this.backoff * 2, BACKOFF_MAX_MS);
      this.retryTimer = setTimeout(() => this.connect(), delay);
    }
  }

  private setState(state: ConnectionState): void {
    this.state = state;
    for (const listener of this.stateListeners) listener(state);
  }

  private receive(text: string): void {
    let envelope: ServerEnvelope;
    try {
      envelope = JSON.parse(text) as ServerEnvelope;
    } catch {
      return;
    }
    if (envelope.kind === 'event') {
      for (const listener of this.listeners.get(envelope.event) ?? [])
        (listener as (data: unknown) => void)(envelope.data);
      return;
    }
    const call = this.pending.get(envelope.id);
    if (!call) return;
    this.pending.delete(envelope.id);
    clearTimeout(call.timer);
    if (envelope.ok) call.resolve(envelope.result);
    else call.reject(new ProtocolCallError(envelope.error));
  }
}
