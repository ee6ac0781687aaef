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

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

type Listener<E extends EventName> = (data: ProtocolEvents[E]) => void;

/**
 * The editor's side of the protocol over one WebSocket to `/api`: typed calls, event
 * subscriptions, and reconnection with exponential backoff (calls fail fast while disconnected).
 */
export class ProtocolClient {
  private socket: WebSocket | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Map<EventName, Set<(data: never) => void>>();
  private readonly stateListeners = new Set<(state: ConnectionState) => void>();
  private backoff = BACKOFF_MIN_MS;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private disposed = false;
  state: ConnectionState = 'closed';

  constructor(
    private readonly url: string,
    private readonly token: string | undefined,
  ) {}

  /** The client for the page: `/api` on the page's host, with `?token=` of the page URL when present. */
  static forPage(location: Location): ProtocolClient {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const token = new URLSearchParams(location.search).get('token') ?? undefined;
    return new ProtocolClient(`${scheme}//${location.host}/api`, token);
  }

  connect(): void {
    if (this.disposed || this.socket) return;
    this.setState('connecting');
    const socket = new WebSocket(this.url, this.token ? [`${TOKEN_PROTOCOL_PREFIX}${this.token}`] : []);
    this.socket = socket;
    socket.onopen = () => {
      this.backoff = BACKOFF_MIN_MS;
      this.setState('open');
    };
    socket.onmessage = (message) => this.receive(String(message.data));
    socket.onclose = () => {
      this.socket = undefined;
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
    };
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.retryTimer);
    this.socket?.close();
  }

  call<M extends MethodName>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>> {
    const socket = this.socket;
    if (!socket || this.state !== 'open') {
      return Promise.reject(new ProtocolCallError({ code: 'disconnected', message: 'not connected to the engine' }));
    }
    const id = this.nextId++;
    return new Promise<ResultOf<M>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ProtocolCallError({ code: 'timeout', message: `${method} did not answer in time` }));
      }, CALL_TIMEOUT_MS);
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer });
      socket.send(JSON.stringify({ kind: 'request', id, method, params }));
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
