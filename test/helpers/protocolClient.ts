import WebSocket from 'ws';
import type {
  EventEnvelope,
  MethodName,
  ProtocolError,
  ResponseEnvelope,
  ResultOf,
} from '../../shared/protocol/protocol.js';
import { waitFor } from './waitFor.js';

/** A test's editor: a WebSocket client of the protocol; every wait is bounded. */
export interface ProtocolClient {
  readonly socket: WebSocket;
  /** Every event received so far, with the time it arrived (performance.now()). */
  readonly events: { readonly envelope: EventEnvelope; readonly at: number }[];
  /** Every response received so far. */
  readonly responses: ResponseEnvelope[];
  call<M extends MethodName>(method: M, params?: unknown): Promise<ResultOf<M>>;
  /** Calls and expects a failure; returns its error. */
  fail(method: string, params?: unknown): Promise<ProtocolError>;
  /** Sends raw text, for malformed envelopes. */
  sendRaw(text: string): void;
  waitForResponse(id: number, timeoutMs?: number): Promise<ResponseEnvelope>;
  close(): Promise<void>;
}

export function openSocket(url: string, protocols?: string[]): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, protocols);
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error(`timed out connecting to ${url}`));
    }, 5000);
    socket.once('open', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('unexpected-response', (_request, response) => {
      clearTimeout(timer);
      socket.terminate();
      reject(new Error(`refused: HTTP ${response.statusCode}`));
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

export async function connectProtocol(url: string, protocols?: string[]): Promise<ProtocolClient> {
  const socket = await openSocket(url, protocols);
  const events: { envelope: EventEnvelope; at: number }[] = [];
  const responses: ResponseEnvelope[] = [];
  socket.on('message', (data) => {
    const envelope = JSON.parse(String(data)) as ResponseEnvelope | EventEnvelope;
    if (envelope.kind === 'event') events.push({ envelope, at: performance.now() });
    else responses.push(envelope);
  });
  let nextId = 1;
  const waitForResponse = (id: number, timeoutMs = 15_000): Promise<ResponseEnvelope> =>
    waitFor(`response ${id}`, () => responses.find((r) => r.id === id), timeoutMs, 10);
  const request = (method: string, params: unknown): Promise<ResponseEnvelope> => {
    const id = nextId++;
    socket.send(JSON.stringify({ kind: 'request', id, method, params: params ?? {} }));
    return waitForResponse(id);
  };
  return {
    socket,
    events,
    responses,
    async call<M extends MethodName>(method: M, params?: unknown): Promise<ResultOf<M>> {
      const response = await request(method, params);
      if (!response.ok) throw new Error(`${method} failed: ${response.error.code}: ${response.error.message}`);
      return response.result as ResultOf<M>;
    },
    async fail(method, params) {
      const response = await request(method, params);
      if (response.ok) throw new Error(`${method} succeeded; a failure was expected`);
      return response.error;
    },
    sendRaw: (text) => socket.send(text),
    waitForResponse,
    close: () =>
      new Promise<void>((resolve) => {
        if (socket.readyState === socket.CLOSED) return resolve();
        socket.once('close', () => resolve());
        socket.close();
        setTimeout(() => {
          socket.terminate();
          resolve();
        }, 2000).unref();
      }),
  };
}
