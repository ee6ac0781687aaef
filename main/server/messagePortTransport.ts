import {
  parseRequest,
  type EventEnvelope,
  type EventName,
  type ProtocolEvents,
  type ResponseEnvelope,
} from '../../shared/protocol/protocol.js';
import { silentLogger, type Logger } from '../engine/logger.js';
import type { EngineService } from './engineService.js';
import { MAX_INCOMING_BYTES } from './wsTransport.js';

/**
 * The least of a message port this transport needs. Node's `worker_threads` MessagePort fits it
 * as it is (a message is the posted value); Electron's MessagePortMain delivers a
 * `{ data, ports }` event instead, which `messageData` unwraps (see main/electron/engineProcess.ts).
 */
export interface ProtocolPort {
  postMessage(message: string): void;
  on(event: 'close', listener: () => void): unknown;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  removeListener(event: 'close', listener: () => void): unknown;
  removeListener(event: 'message', listener: (message: unknown) => void): unknown;
  start(): void;
  close(): void;
}

export interface MessagePortTransportOptions {
  readonly logger?: Logger;
  /** What was posted, from what the port's 'message' listener receives (default: itself). */
  readonly messageData?: (message: unknown) => unknown;
  /** A name for the logs. */
  readonly peer?: string;
}

export interface PortConnection {
  /** Detaches from the service and closes the port. */
  close(): void;
  readonly closed: () => boolean;
}

/**
 * Carries the protocol over one message port: the same JSON text envelopes as the WebSocket
 * transport (wsTransport.ts), so a request is parsed by the same `parseRequest` and answered by
 * the same EngineService. Text, not structured clones, keeps the two carriers byte-for-byte alike
 * and lets the size limit be checked before parsing. A port has no send buffer to measure; events
 * are already batched and rate-limited by the service, so none are dropped here.
 */
export function attachMessagePort(
  service: EngineService,
  port: ProtocolPort,
  options: MessagePortTransportOptions = {},
): PortConnection {
  const log = options.logger ?? silentLogger();
  const dataOf = options.messageData ?? ((message: unknown) => message);
  const peer = options.peer ?? 'message port';
  let closed = false;

  const post = (envelope: ResponseEnvelope | EventEnvelope): void => {
    if (closed) return;
    try {
      port.postMessage(JSON.stringify(envelope));
    } catch (error) {
      log.warn({ peer, err: error }, 'cannot post to the editor');
    }
  };
  const refuse = (id: number, message: string): void =>
    post({ kind: 'response', id, ok: false, error: { code: 'bad-request', message } });

  const unlisten = service.listen({
    onDidEmit<E extends EventName>(event: E, data: ProtocolEvents[E]): void {
      post({ kind: 'event', event, data } as EventEnvelope);
    },
  });

  const onMessage = (message: unknown): void => {
    const data = dataOf(message);
    if (typeof data !== 'string') {
      refuse(-1, 'only JSON text messages are accepted');
      return;
    }
    // A UTF-16 string has at least length bytes in UTF-8: cheap bound before measuring exactly.
    if (data.length > MAX_INCOMING_BYTES || Buffer.byteLength(data) > MAX_INCOMING_BYTES) {
      refuse(-1, `message larger than ${MAX_INCOMING_BYTES} bytes`);
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(data);
    } catch (error) {
      refuse(-1, `not JSON: ${(error as Error).message}`);
      return;
    }
    const parsed = parseRequest(value);
    if (!parsed.ok) {
      post({ kind: 'response', id: parsed.id ?? -1, ok: false, error: parsed.error });
      return;
    }
    const { id, method, params } = parsed.request;
    void service.respond(id, method, params).then(post);
  };

  const close = (): void => {
    if (closed) return;
    closed = true;
    unlisten();
    port.removeListener('message', onMessage);
    port.removeListener('close', onClose);
    port.close();
    log.info({ peer }, 'editor disconnected');
  };
  const onClose = (): void => close();

  port.on('message', onMessage);
  port.on('close', onClose);
  port.start();
  log.info({ peer }, 'editor connected');
  return { close, closed: () => closed };
}
