import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import {
  parseRequest,
  type EventEnvelope,
  type EventName,
  type ProtocolEvents,
  type ResponseEnvelope,
} from '../../shared/protocol/protocol.js';
import { silentLogger, type Logger } from '../engine/logger.js';
import type { EngineService } from './engineService.js';

/** Largest message a client may send (a flow document is at most 5 MiB). */
export const MAX_INCOMING_BYTES = 6 * 1024 * 1024;
/** Past this many bytes waiting to be sent on a socket, events to it are dropped (never responses). */
export const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
/** Sub-protocol prefix a browser can carry the token in (it cannot set headers on a WebSocket). */
export const TOKEN_PROTOCOL_PREFIX = 'topicflow.token.';

export interface WsTransportOptions {
  /** When set, an upgrade must present it (`?token=` or the `topicflow.token.<T>` sub-protocol). */
  readonly token?: string | undefined;
  readonly logger?: Logger;
  readonly maxBufferedBytes?: number;
}

export interface WsTransport {
  /** Call from the http server's 'upgrade' for the WebSocket path. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Events dropped because a socket was slow, since start. */
  readonly droppedEvents: () => number;
  readonly clients: () => number;
  close(): Promise<void>;
}

/**
 * Carries the protocol over WebSockets: one EngineService shared by every client; each socket
 * gets the answers to its own requests and every event.
 */
export function createWsTransport(service: EngineService, options: WsTransportOptions = {}): WsTransport {
  const log = options.logger ?? silentLogger();
  const maxBuffered = options.maxBufferedBytes ?? MAX_BUFFERED_BYTES;
  let dropped = 0;
  const server = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_INCOMING_BYTES,
    handleProtocols: (protocols) => {
      // Answer with the token's sub-protocol so the browser accepts the handshake.
      for (const p of protocols) if (p.startsWith(TOKEN_PROTOCOL_PREFIX)) return p;
      return false;
    },
  });

  const unlisten = service.listen({
    onDidEmit<E extends EventName>(event: E, data: ProtocolEvents[E]): void {
      const text = JSON.stringify({ kind: 'event', event, data } as EventEnvelope);
      for (const client of server.clients) {
        if (client.readyState !== client.OPEN) continue;
        if (client.bufferedAmount > maxBuffered) {
          dropped++;
          continue;
        }
        client.send(text);
      }
    },
  });

  const reply = (socket: WebSocket, response: ResponseEnvelope): void => {
    if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(response));
  };

  server.on('connection', (socket: WebSocket, request: IncomingMessage) => {
    const peer = `${request.socket.remoteAddress ?? '?'}:${request.socket.remotePort ?? '?'}`;
    log.info({ peer }, 'editor connected');
    socket.on('message', (data: RawData, isBinary: boolean) => {
      if (isBinary) {
        reply(socket, {
          kind: 'response',
          id: -1,
          ok: false,
          error: { code: 'bad-request', message: 'binary messages are not accepted; send JSON text' },
        });
        return;
      }
      let value: unknown;
      try {
        value = JSON.parse(rawText(data));
      } catch (error) {
        reply(socket, {
          kind: 'response',
          id: -1,
          ok: false,
          error: { code: 'bad-request', message: `not JSON: ${(error as Error).message}` },
        });
        return;
      }
      const parsed = parseRequest(value);
      if (!parsed.ok) {
        reply(socket, { kind: 'response', id: parsed.id ?? -1, ok: false, error: parsed.error });
        return;
      }
      const { id, method, params } = parsed.request;
      void service.respond(id, method, params).then((response) => reply(socket, response));
    });
    socket.on('error', (error) => log.warn({ peer, err: error }, 'editor socket error'));
    socket.on('close', (code) => log.info({ peer, code }, 'editor disconnected'));
  });

  return {
    handleUpgrade(request, socket, head) {
      const refusal = refuse(request, options.token);
      if (refusal) {
        log.warn({ peer: request.socket.remoteAddress, reason: refusal.reason }, 'editor connection refused');
        socket.end(
          `HTTP/1.1 ${refusal.status} ${refusal.status === 401 ? 'Unauthorized' : 'Forbidden'}\r\n` +
            `content-type: text/plain\r\nconnection: close\r\ncontent-length: ${Buffer.byteLength(refusal.reason) + 1}\r\n\r\n` +
            `${refusal.reason}\n`,
        );
        return;
      }
      server.handleUpgrade(request, socket, head, (ws) => server.emit('connection', ws, request));
    },
    droppedEvents: () => dropped,
    clients: () => server.clients.size,
    close: () =>
      new Promise<void>((resolve) => {
        unlisten();
        for (const client of server.clients) client.close(1001, 'server stopping');
        server.close(() => resolve());
        setTimeout(() => {
          for (const client of server.clients) client.terminate();
        }, 1000).unref();
      }),
  };
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data).toString('utf8');
}

/** Why an upgrade is refused, or undefined: only same-origin (or no Origin), and the token when one is set. */
function refuse(request: IncomingMessage, token: string | undefined): { status: number; reason: string } | undefined {
  const origin = request.headers.origin;
  if (origin !== undefined) {
    let originHost: string | undefined;
    try {
      originHost = new URL(origin).host;
    } catch {
      originHost = undefined;
    }
    if (originHost === undefined || originHost !== request.headers.host) {
      return { status: 403, reason: `origin ${origin} is not this server` };
    }
  }
  if (token === undefined) return undefined;
  const url = new URL(request.url ?? '/', 'http://localhost');
  const offered = [
    url.searchParams.get('token'),
    ...(request.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter((p) => p.startsWith(TOKEN_PROTOCOL_PREFIX))
      .map((p) => p.slice(TOKEN_PROTOCOL_PREFIX.length)),
  ];
  if (!offered.some((t) => t !== null && safeEqual(t, token))) {
    return { status: 401, reason: 'a token is required: ?token=... or the topicflow.token.<token> sub-protocol' };
  }
  return undefined;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
